/**
 * kswapd: the per-node background reclaimer, as events on the virtual clock.
 * @kernel mm/vmscan.c wakeup_kswapd, kswapd, kswapd_try_to_sleep, prepare_kswapd_sleep, balance_pgdat,
 *         kswapd_shrink_node, pgdat_balanced, pgdat_watermark_boosted (6.1)
 *
 * States: asleep (waiting to be woken), napping (the HZ/10 "short sleep" after balancing — a wake then counts
 * kswapd_low_wmark_hit_quickly), running (balance_pgdat in steps: one shrink_node pass per priority level, each
 * followed by the virtual time its scanning cost).
 */
import { __GFP_DIRECT_RECLAIM, GFP_KERNEL } from '../gfp/bits.ts';
import { MAX_NR_ZONES } from '../mm/constants.ts';
import type { Clock } from '../sim/clock.ts';
import { zoneWatermarkOk } from '../zone/watermark.ts';
import type { PressureZone } from './port.ts';
import { DEF_PRIORITY, SWAP_CLUSTER_MAX, newScanControl, type Reclaimer, type ScanControl } from './vmscan.ts';
import {
  KSWAPD_HIGH_WMARK_HIT_QUICKLY, KSWAPD_LOW_WMARK_HIT_QUICKLY, PAGEOUTRUN,
} from './vm_events.ts';

export const MAX_RECLAIM_RETRIES = 16;
/** HZ/10 with HZ=250 */
export const KSWAPD_NAP_NS = 100_000_000;

export type KswapdState = 'asleep' | 'napping' | 'running';

/** Called when kswapd wants kcompactd woken (order, highest zone index). */
export type WakeKcompactd = (node: number, order: number, highestZoneIdx: number) => void;

export interface KswapdLogEntry { tNs: number; kind: 'wakeup' | 'wake' | 'sleep'; order: number; highestZoneIdx: number }

export class Kswapd {
  readonly node: number;
  private readonly r: Reclaimer;
  private readonly clock: Clock;
  private readonly wakeKcompactd: WakeKcompactd;
  state: KswapdState = 'asleep';
  /** Virtual time kswapd last went from asleep/napping to running; -1 while it is not running. */
  runningSinceNs = -1;
  /** pgdat->kswapd_order / kswapd_highest_zoneidx (MAX_NR_ZONES = unset) */
  private kswapdOrder = 0;
  private kswapdHz = MAX_NR_ZONES;
  private napToken = 0;
  // balance_pgdat state
  private sc: ScanControl | null = null;
  private allocOrder = 0;
  private hz = MAX_NR_ZONES - 1;
  private nrBoostReclaim = 0;
  private boosted = false;
  private zoneBoosts: number[] = [];
  /** mm_vmscan_kswapd_wake count (each run of balance_pgdat) and wakeups issued */
  runs = 0;
  wakeups = 0;
  readonly log: KswapdLogEntry[] = [];
  logLimit = 10_000;
  private readonly stepFn = (): void => this.step();
  private readonly napFn = (_now: number, token: number): void => this.napOver(token);

  constructor(node: number, r: Reclaimer, clock: Clock, wakeKcompactd: WakeKcompactd) {
    this.node = node;
    this.r = r;
    this.clock = clock;
    this.wakeKcompactd = wakeKcompactd;
  }

  private nodeZones: PressureZone[] | null = null;
  private zones(): PressureZone[] { return this.nodeZones ??= this.r.port.zones.filter((z) => z.node === this.node); }

  private push(kind: KswapdLogEntry['kind'], order: number, hz: number): void {
    if (this.log.length < this.logLimit) this.log.push({ tNs: this.clock.now, kind, order, highestZoneIdx: hz });
  }

  /** @kernel mm/vmscan.c pgdat_balanced: any eligible zone above its high watermark (with boost) at this order */
  balanced(order: number, hz: number): boolean {
    let eligible = false;
    for (const z of this.zones()) {
      if (z.zoneIdx > hz || z.managed === 0) continue;
      eligible = true;
      const mark = z.wmarkHigh + z.watermarkBoost;
      if (zoneWatermarkOk(z, order, mark, hz, 0, z.freePages)) return true;
    }
    return !eligible;
  }

  private boostedNode(hz: number): boolean {
    for (const z of this.zones()) if (z.zoneIdx <= hz && z.watermarkBoost > 0) return true;
    return false;
  }

  /** @kernel mm/vmscan.c wakeup_kswapd */
  wakeup(gfp: number, order: number, hz: number): void {
    if (this.kswapdHz === MAX_NR_ZONES || this.kswapdHz < hz) this.kswapdHz = hz;
    if (this.kswapdOrder < order) this.kswapdOrder = order;
    if (this.state === 'running') return; // not on the wait queue
    if (this.r.kswapdFailures[this.node]! >= MAX_RECLAIM_RETRIES || (this.balanced(order, hz) && !this.boostedNode(hz))) {
      if (!(gfp & __GFP_DIRECT_RECLAIM)) this.wakeKcompactd(this.node, order, hz);
      return;
    }
    this.wakeups++;
    this.push('wakeup', order, hz);
    if (this.state === 'napping') {
      // woken before the nap ended: remaining > 0
      this.napToken++;
      this.r.ev.v[KSWAPD_LOW_WMARK_HIT_QUICKLY]! += 1;
    }
    this.state = 'running';
    this.runningSinceNs = this.clock.now;
    this.clock.after(0, () => this.startBalance());
  }

  /** The kswapd loop after a wake: read and reset the requested order and zone, then balance_pgdat. */
  private startBalance(): void {
    const order = this.kswapdOrder;
    const hz = this.kswapdHz === MAX_NR_ZONES ? this.hz : this.kswapdHz;
    this.kswapdOrder = 0;
    this.kswapdHz = MAX_NR_ZONES;
    this.runs++;
    this.push('wake', order, hz);
    this.beginBalance(order, hz);
  }

  /** @kernel mm/vmscan.c balance_pgdat (entry) */
  private beginBalance(order: number, hz: number): void {
    this.r.ev.v[PAGEOUTRUN]! += 1;
    this.allocOrder = order;
    this.hz = hz;
    this.zoneBoosts = [];
    this.nrBoostReclaim = 0;
    for (const z of this.zones()) {
      const b = z.zoneIdx <= hz ? z.watermarkBoost : 0;
      this.zoneBoosts.push(b);
      this.nrBoostReclaim += b;
    }
    this.boosted = this.nrBoostReclaim > 0;
    this.sc = newScanControl(GFP_KERNEL, order, hz, true);
    this.restart();
    this.step();
  }

  /** @kernel mm/vmscan.c set_reclaim_active / clear_reclaim_active: the eligible zones of the node */
  private reclaimActive(on: boolean): void {
    for (const z of this.zones()) if (z.zoneIdx <= this.hz && z.managed > 0) z.setReclaimActive?.(on);
  }

  private restart(): void {
    const sc = this.sc!;
    this.reclaimActive(true);
    sc.priority = DEF_PRIORITY;
    sc.mayWritepage = this.nrBoostReclaim === 0;
    sc.maySwap = this.nrBoostReclaim === 0;
  }

  /** One iteration of balance_pgdat's priority loop. */
  private step(): void {
    const sc = this.sc!;
    for (;;) {
      const balanced = this.balanced(sc.order, this.hz);
      if (!balanced && this.nrBoostReclaim) {
        this.nrBoostReclaim = 0;
        this.restart();
        continue;
      }
      if (!this.nrBoostReclaim && balanced) return this.finish(false);
      break;
    }
    let raisePriority = true;
    if (this.nrBoostReclaim && sc.priority === DEF_PRIORITY - 2) raisePriority = false;
    sc.nrScanned = 0;
    const before = sc.nrReclaimed;
    // kswapd_shrink_node
    let toReclaim = 0;
    for (const z of this.zones()) {
      if (z.zoneIdx > this.hz || z.managed === 0) continue;
      toReclaim += Math.max(z.wmarkHigh + z.watermarkBoost, SWAP_CLUSTER_MAX);
    }
    sc.nrToReclaim = toReclaim;
    this.r.shrinkNode(this.node, sc);
    if (sc.order && sc.nrReclaimed >= 2 << sc.order) sc.order = 0;
    if (sc.nrScanned >= sc.nrToReclaim) raisePriority = false;
    const nrReclaimed = sc.nrReclaimed - before;
    this.nrBoostReclaim -= Math.min(this.nrBoostReclaim, nrReclaimed);
    const cost = Math.max(1000, sc.nrScanned * this.r.opts.scanNsPerPage);
    if (this.nrBoostReclaim && !nrReclaimed) {
      this.clock.after(cost, () => this.finish(true));
      return;
    }
    if (raisePriority || !nrReclaimed) sc.priority--;
    if (sc.priority < 1) {
      this.clock.after(cost, () => this.finish(true));
      return;
    }
    this.clock.after(cost, this.stepFn);
  }

  /** The end of balance_pgdat, then kswapd_try_to_sleep. */
  private finish(loopEnded: boolean): void {
    const sc = this.sc!;
    if (loopEnded && !sc.nrReclaimed) this.r.kswapdFailures[this.node]! += 1;
    this.reclaimActive(false);
    if (this.boosted) {
      let i = 0;
      for (const z of this.zones()) {
        const b = this.zoneBoosts[i++] ?? 0;
        if (z.zoneIdx <= this.hz) z.watermarkBoost -= Math.min(z.watermarkBoost, b);
      }
      this.wakeKcompactd(this.node, 9 /* pageblock_order */, this.hz);
    }
    const reclaimOrder = sc.order;
    this.sc = null;
    this.tryToSleep(this.allocOrder, reclaimOrder, this.hz);
  }

  /** @kernel mm/vmscan.c prepare_kswapd_sleep */
  private prepareSleep(order: number, hz: number): boolean {
    if (this.r.kswapdFailures[this.node]! >= MAX_RECLAIM_RETRIES) return true;
    return this.balanced(order, hz);
  }

  private lastAllocOrder = 0;
  private lastReclaimOrder = 0;

  /** @kernel mm/vmscan.c kswapd_try_to_sleep (first half: the nap) */
  private tryToSleep(allocOrder: number, reclaimOrder: number, hz: number): void {
    this.lastAllocOrder = allocOrder;
    this.lastReclaimOrder = reclaimOrder;
    if (this.prepareSleep(reclaimOrder, hz)) {
      this.wakeKcompactd(this.node, allocOrder, hz);
      this.state = 'napping';
      this.runningSinceNs = -1;
      const token = ++this.napToken;
      this.clock.after(KSWAPD_NAP_NS, this.napFn, token);
      return;
    }
    this.r.ev.v[KSWAPD_HIGH_WMARK_HIT_QUICKLY]! += 1;
    this.clock.after(0, () => this.startBalance());
  }

  /** The nap ended with nobody waking kswapd (remaining == 0). */
  private napOver(token: number): void {
    if (token !== this.napToken || this.state !== 'napping') return;
    if (this.prepareSleep(this.lastReclaimOrder, this.hz)) {
      this.state = 'asleep';
      this.push('sleep', this.lastAllocOrder, this.hz);
      return;
    }
    this.r.ev.v[KSWAPD_HIGH_WMARK_HIT_QUICKLY]! += 1;
    this.state = 'running';
    this.runningSinceNs = this.clock.now;
    this.startBalance();
  }
}
