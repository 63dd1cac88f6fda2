/**
 * Page reclaim: scanning the LRU lists, freeing clean pages, starting writeback of dirty ones, swapping anon pages,
 * calling shrinkers; direct reclaim for allocating tasks.
 * @kernel mm/vmscan.c shrink_node, shrink_lruvec, get_scan_count, shrink_inactive_list, shrink_folio_list,
 *         shrink_active_list, try_to_free_pages, do_try_to_free_pages, zone_reclaimable_pages (6.1)
 *
 * Simplifications (docs/pressure.md): no memcg, no MGLRU (Debian 6.1 has it built but off), no workingset
 * refault detection; writeback rule — a reclaimer may queue writeback of a dirty page when it may do I/O:
 * __GFP_FS for filesystem pages, __GFP_IO for block-device pages and for swap. (6.1's direct reclaim hands dirty
 * file pages to the flusher threads instead of writing them itself; the flusher does the I/O asynchronously, which
 * is what the I/O latency models.) kswapd runs with GFP_KERNEL and may always write.
 */
import { __GFP_FS, __GFP_IO, GFP_KERNEL } from '../gfp/bits.ts';
import type { Clock } from '../sim/clock.ts';
import {
  HANDLE_EVICTED, HANDLE_SWAPPED, LF_ANON, LF_DIRTY, LF_FS, LF_RECLAIM, LF_REFERENCED, LF_UNEVICTABLE, LF_WRITEBACK,
  LRU_ACTIVE_ANON, LRU_ACTIVE_FILE, LRU_INACTIVE_ANON, LRU_INACTIVE_FILE, Lru, LruError,
} from './lru.ts';
import type { PageAllocatorPort } from './port.ts';
import { ShrinkerRegistry } from './shrinker.ts';
import {
  ALLOCSTALL_BASE, PGSKIP_BASE, NR_VMSCAN_IMMEDIATE, NR_VMSCAN_WRITE, PGACTIVATE, PGDEACTIVATE, PGREFILL, PGROTATED, PGSCAN_ANON,
  PGSCAN_DIRECT, PGSCAN_FILE, PGSCAN_KSWAPD, PGSTEAL_ANON, PGSTEAL_DIRECT, PGSTEAL_FILE, PGSTEAL_KSWAPD, PSWPOUT,
  PressureEvents, SLABS_SCANNED,
} from './vm_events.ts';

export const SWAP_CLUSTER_MAX = 32;
export const DEF_PRIORITY = 12;

/**
 * The owner of LRU pages: told when reclaim takes a page (already freed) or compaction moves one. `cookie` is the
 * owner's own number for the page (Lru.add / Lru.setCookie; -1 when it gave none).
 */
export interface LruPageOwner {
  reclaimed(pfn: number, order: number, handle: number, cookie: number): void;
  /** Present when the owner can follow a move; pages of owners without it are not migrated. */
  moved?(from: number, to: number, order: number, handle: number, cookie: number): void;
  /**
   * true: the owner never reads the handle of a reclaimed page, so reclaim frees the handle itself (what
   * Lru.forgetHandle would do right after) instead of leaving it saying where the contents went.
   */
  readonly releasesHandleOnReclaim?: boolean;
}

export interface ReclaimOptions {
  /** swap device size in pages; 0 = no swap (as on the captured machine) */
  swapPages: number;
  /** vm.swappiness */
  swappiness: number;
  /** latency of one writeback or swap-out I/O, virtual ns */
  ioLatencyNs: number;
  /** CPU cost of scanning one page in reclaim, virtual ns */
  scanNsPerPage: number;
}

export const DEFAULT_RECLAIM_OPTIONS: ReclaimOptions = {
  swapPages: 0, swappiness: 60, ioLatencyNs: 2_000_000, scanNsPerPage: 250,
};

/** struct scan_control, the fields we use. */
export interface ScanControl {
  gfp: number;
  order: number;
  priority: number;
  /** highest zone index reclaim helps (gfp_zone) */
  reclaimIdx: number;
  nrToReclaim: number;
  nrReclaimed: number;
  nrScanned: number;
  mayWritepage: boolean;
  maySwap: boolean;
  isKswapd: boolean;
}

export function newScanControl(gfp: number, order: number, reclaimIdx: number, isKswapd: boolean): ScanControl {
  return {
    gfp, order, priority: DEF_PRIORITY, reclaimIdx, nrToReclaim: SWAP_CLUSTER_MAX, nrReclaimed: 0, nrScanned: 0,
    mayWritepage: true, maySwap: true, isKswapd,
  };
}

export class Reclaimer {
  readonly port: PageAllocatorPort;
  readonly lru: Lru;
  readonly ev: PressureEvents;
  readonly clock: Clock;
  readonly shrinkers = new ShrinkerRegistry();
  readonly opts: ReclaimOptions;
  /** owners by user id (index 0: pages nobody needs to hear about, e.g. unmapped page cache) */
  readonly owners: Array<LruPageOwner | undefined> = [];
  swapUsed = 0;
  /** pages under writeback right now (NR_WRITEBACK) */
  nrWriteback = 0;
  /** pages dirty right now (NR_FILE_DIRTY) */
  nrDirty = 0;
  /** per-node pgdat->kswapd_failures */
  readonly kswapdFailures: Int32Array;
  private readonly ioDone = (_now: number, handle: number): void => this.endWriteback(handle);
  /** shrinkInactiveList's scratch: the isolated batch and the skipped pages (grown on demand, never shrunk) */
  private scanBatch: Int32Array = new Int32Array(SWAP_CLUSTER_MAX);
  private scanSkipped: Int32Array = new Int32Array(SWAP_CLUSTER_MAX);
  /** per zone index of the Lru (port.zones order): its zone type (zone_idx), read per scanned page */
  private readonly zoneTypeOf: Int8Array;

  constructor(port: PageAllocatorPort, clock: Clock, ev: PressureEvents, opts: Partial<ReclaimOptions> = {}) {
    this.port = port;
    this.clock = clock;
    this.ev = ev;
    this.opts = { ...DEFAULT_RECLAIM_OPTIONS, ...opts };
    let nrPfns = 0;
    for (const z of port.zones) nrPfns = Math.max(nrPfns, z.endPfn);
    this.lru = new Lru(nrPfns, port.zones);
    this.zoneTypeOf = Int8Array.from(port.zones, (z) => z.zoneIdx);
    this.kswapdFailures = new Int32Array(port.nrNodes);
  }

  /** Register an owner; returns its user id for Lru.add. */
  addOwner(o: LruPageOwner): number {
    this.owners.push(o);
    if (this.owners.length === 1) this.owners.push(o);
    return this.owners.length - 1;
  }

  /** A workload page joins the LRU (see Lru.add); dirty pages are counted for writeback. */
  addPage(pfn: number, order: number, kind: 'file' | 'file-fs' | 'anon' | 'unevictable', dirty: boolean, user = 0, cookie = -1): number {
    if (this.port.pageIsUnmovable?.(pfn) === true) {
      throw new LruError('LRU_EXCLUSIVE', `Cannot put pfn ${pfn} on an LRU list: because it is an exclusive page, never reclaimed or migrated`);
    }
    const h = this.lru.add(pfn, order, kind, dirty, user, cookie);
    this.port.setPageLru?.(pfn, true);
    if (this.lru.flagsOf(pfn) & LF_DIRTY) this.nrDirty += 1 << order;
    return h;
  }

  /** The workload drops a page it owns; the caller frees it afterwards. */
  removePage(pfn: number): void {
    const f = this.lru.flagsOf(pfn);
    const nr = 1 << this.lru.orderOf(pfn);
    if (f & LF_DIRTY) this.nrDirty -= nr;
    if (f & LF_WRITEBACK) this.nrWriteback -= nr;
    this.lru.remove(pfn);
    this.port.setPageLru?.(pfn, false);
  }

  get swapAvailable(): boolean { return this.opts.swapPages - this.swapUsed > 0; }

  /** zone_reclaimable_pages, summed over the node's LRUs (we keep LRUs per node, as 6.1 does). */
  nodeReclaimablePages(node: number): number {
    let n = this.lru.lruSize(node, LRU_INACTIVE_FILE) + this.lru.lruSize(node, LRU_ACTIVE_FILE);
    if (this.swapAvailable) n += this.lru.lruSize(node, LRU_INACTIVE_ANON) + this.lru.lruSize(node, LRU_ACTIVE_ANON);
    return n;
  }

  /** @kernel mm/vmscan.c zone_reclaimable_pages: file LRU pages of the zone, and anon ones when swap has room */
  zoneReclaimablePages(zoneIndex: number): number {
    const lru = this.lru;
    let n = lru.zoneLruSize(zoneIndex, LRU_INACTIVE_FILE) + lru.zoneLruSize(zoneIndex, LRU_ACTIVE_FILE);
    if (this.swapAvailable) n += lru.zoneLruSize(zoneIndex, LRU_INACTIVE_ANON) + lru.zoneLruSize(zoneIndex, LRU_ACTIVE_ANON);
    return n;
  }

  // ----- shrinking -----

  /** @kernel mm/vmscan.c lruvec_lru_size: pages of one list in the zones reclaim may take from (≤ reclaimIdx) */
  eligibleLruSize(node: number, l: number, reclaimIdx: number): number {
    const zones = this.port.zones;
    let n = 0;
    for (let i = 0; i < zones.length; i++) {
      const z = zones[i]!;
      if (z.node === node && z.zoneIdx <= reclaimIdx) n += this.lru.zoneLruSize(i, l);
    }
    return n;
  }

  /** @kernel mm/vmscan.c shrink_node: the node's LRUs at sc.priority, then the shrinkers */
  shrinkNode(node: number, sc: ScanControl): void {
    const lru = this.lru;
    const size = (l: number): number => this.eligibleLruSize(node, l, sc.reclaimIdx);
    // get_scan_count: without swap (or when not allowed to swap) only file pages are scanned
    const scanAnon = sc.maySwap && this.swapAvailable;
    const fileSize = size(LRU_INACTIVE_FILE) + size(LRU_ACTIVE_FILE);
    const anonSize = size(LRU_INACTIVE_ANON) + size(LRU_ACTIVE_ANON);
    let anonPrio = this.opts.swappiness;
    let filePrio = 200 - this.opts.swappiness;
    if (!scanAnon || anonSize === 0) anonPrio = 0;
    if (fileSize === 0 && scanAnon) filePrio = 0;
    const denom = anonPrio + filePrio || 1;
    const nr = [0, 0, 0, 0];
    for (const l of [LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE]) {
      const isFile = l >= LRU_INACTIVE_FILE;
      const prio = isFile ? filePrio : anonPrio;
      const lruSize = size(l);
      let scan = lruSize >> sc.priority;
      scan = Math.floor((scan * prio) / denom);
      if (anonPrio === 0 && !isFile) scan = 0;
      if (anonPrio === 0 && isFile) scan = lruSize >> sc.priority;
      nr[l] = scan;
    }
    const target = sc.nrToReclaim;
    const startReclaimed = sc.nrReclaimed;
    const startScanned = sc.nrScanned;
    while (nr[LRU_INACTIVE_ANON]! > 0 || nr[LRU_ACTIVE_FILE]! > 0 || nr[LRU_INACTIVE_FILE]! > 0) {
      for (const l of [LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE]) {
        if (nr[l]! <= 0) continue;
        const n = Math.min(nr[l]!, SWAP_CLUSTER_MAX);
        nr[l]! -= n;
        this.shrinkList(node, l, n, sc);
      }
      // direct reclaim stops once it has what it came for; kswapd scans its whole target
      if (!sc.isKswapd && sc.nrReclaimed - startReclaimed >= target) break;
    }
    // age the anon list as shrink_lruvec does after its loop
    if (scanAnon && this.inactiveIsLow(node, LRU_INACTIVE_ANON)) this.shrinkActiveList(node, LRU_ACTIVE_ANON, SWAP_CLUSTER_MAX, sc);
    const sr = this.shrinkers.shrinkSlab(sc.gfp, node, sc.priority);
    if (sr.scanned) this.ev.v[SLABS_SCANNED]! += sr.scanned;
    sc.nrReclaimed += sr.pagesFreed;
    // shrink_node: any progress makes the node reclaimable again
    if (sc.nrReclaimed > startReclaimed) this.kswapdFailures[node] = 0;
    void startScanned;
  }

  /** @kernel mm/vmscan.c shrink_list: active lists age only when the inactive list is low */
  private shrinkList(node: number, l: number, nrToScan: number, sc: ScanControl): void {
    if (l === LRU_ACTIVE_ANON || l === LRU_ACTIVE_FILE) {
      if (this.inactiveIsLow(node, l - 1)) this.shrinkActiveList(node, l, nrToScan, sc);
      return;
    }
    this.shrinkInactiveList(node, l, nrToScan, sc);
  }

  /** @kernel mm/vmscan.c inactive_is_low (inactive_ratio 1 below 1 GiB of LRU; int_sqrt(10*GB) above) */
  inactiveIsLow(node: number, inactiveLru: number): boolean {
    const inactive = this.lru.lruSize(node, inactiveLru);
    const active = this.lru.lruSize(node, inactiveLru + 1);
    const gb = (inactive + active) >> 18;
    const ratio = gb ? Math.floor(Math.sqrt(10 * gb)) : 1;
    return inactive * ratio < active;
  }

  /** @kernel mm/vmscan.c shrink_active_list: move pages from the active tail to the inactive head */
  private shrinkActiveList(node: number, l: number, nrToScan: number, sc: ScanControl): void {
    const lru = this.lru;
    let scanned = 0;
    let deactivated = 0;
    while (scanned < nrToScan) {
      const pfn = lru.tail(node, l);
      if (pfn < 0) break;
      const nr = 1 << lru.orderOf(pfn);
      scanned += nr;
      lru.unlink(pfn);
      lru.setFlags(pfn, lru.flagsOf(pfn) & ~LF_REFERENCED);
      lru.linkHead(pfn, l - 1);
      deactivated += nr;
    }
    this.ev.v[PGREFILL]! += scanned;
    this.ev.v[PGDEACTIVATE]! += deactivated;
    void sc;
  }

  /** May this reclaimer start I/O for this page? (may_enter_fs / __GFP_IO, see the header comment) */
  private mayWrite(flags: number, sc: ScanControl): boolean {
    if (!sc.mayWritepage) return false;
    if (sc.isKswapd) return true;
    if (flags & LF_ANON) return (sc.gfp & __GFP_IO) !== 0;
    if (flags & LF_FS) return (sc.gfp & __GFP_FS) !== 0;
    return (sc.gfp & __GFP_IO) !== 0;
  }

  /** @kernel mm/vmscan.c shrink_inactive_list + shrink_folio_list */
  private shrinkInactiveList(node: number, l: number, nrToScan: number, sc: ScanControl): void {
    const lru = this.lru;
    const ev = this.ev.v;
    void lru;
    // isolate_lru_folios: take up to nrToScan pages from the tail; pages of zones above reclaimIdx are skipped
    // (and go back to the head afterwards), not counted as scanned
    // scratch lists reused across calls (a batch holds at most nrToScan pages; skipped ones are unbounded)
    let batch = this.scanBatch;
    let skipped = this.scanSkipped;
    let nBatch = 0;
    let nSkipped = 0;
    let scanned = 0;
    const zoneTypeOf = this.zoneTypeOf;
    while (scanned < nrToScan) {
      const pfn = lru.tail(node, l);
      if (pfn < 0) break;
      const nr = 1 << lru.orderOf(pfn);
      lru.unlink(pfn);
      const zt = zoneTypeOf[lru.zoneIndexOf(pfn)]!;
      if (zt > sc.reclaimIdx) {
        if (nSkipped === skipped.length) skipped = this.scanSkipped = grow(skipped);
        skipped[nSkipped++] = pfn;
        ev[PGSKIP_BASE + zt]! += nr;
        continue;
      }
      scanned += nr;
      if (nBatch === batch.length) batch = this.scanBatch = grow(batch);
      batch[nBatch++] = pfn;
    }
    for (let i = nSkipped - 1; i >= 0; i--) lru.linkHead(skipped[i]!, l);
    sc.nrScanned += scanned;
    ev[sc.isKswapd ? PGSCAN_KSWAPD : PGSCAN_DIRECT]! += scanned;
    ev[l === LRU_INACTIVE_FILE ? PGSCAN_FILE : PGSCAN_ANON]! += scanned;
    let reclaimed = 0;
    const isFile = l === LRU_INACTIVE_FILE;
    for (let bi = 0; bi < nBatch; bi++) {
      const pfn = batch[bi]!;
      const f = lru.flagsOf(pfn);
      const nr = 1 << lru.orderOf(pfn);
      if (f & LF_UNEVICTABLE) { lru.linkHead(pfn, l); continue; }
      if (f & LF_WRITEBACK) {
        // under I/O: mark for immediate reclaim when it ends, and activate (6.1's case 2)
        lru.setFlags(pfn, f | LF_RECLAIM);
        lru.linkHead(pfn, l + 1);
        ev[PGACTIVATE]! += nr;
        continue;
      }
      if (f & LF_REFERENCED) {
        lru.setFlags(pfn, f & ~LF_REFERENCED);
        lru.linkHead(pfn, l + 1);
        ev[PGACTIVATE]! += nr;
        continue;
      }
      if (f & LF_ANON) {
        if (!this.swapAvailable) { lru.linkHead(pfn, l + 1); ev[PGACTIVATE]! += nr; continue; }
        if (!this.mayWrite(f, sc)) { lru.linkHead(pfn, l); continue; }
        if (f & LF_DIRTY || !(f & LF_RECLAIM)) {
          // add_to_swap + pageout: the page is written to swap asynchronously
          this.swapUsed += nr;
          ev[PSWPOUT]! += nr;
          this.startWriteback(pfn, f, l, nr);
          continue;
        }
        // written out already: free it, the owner's handle now names a swap entry
        this.freeLruPage(pfn, nr, HANDLE_SWAPPED);
        reclaimed += nr;
        continue;
      }
      if (f & LF_DIRTY) {
        if (!this.mayWrite(f, sc)) {
          // cannot start I/O from here: keep it (6.1 sets PG_reclaim and leaves it to the flusher)
          ev[NR_VMSCAN_IMMEDIATE]! += nr;
          lru.linkHead(pfn, l);
          continue;
        }
        this.nrDirty -= nr;
        this.startWriteback(pfn, f, l, nr);
        continue;
      }
      // clean file page: dropped at once
      this.freeLruPage(pfn, nr, HANDLE_EVICTED);
      reclaimed += nr;
    }
    sc.nrReclaimed += reclaimed;
    ev[sc.isKswapd ? PGSTEAL_KSWAPD : PGSTEAL_DIRECT]! += reclaimed;
    ev[isFile ? PGSTEAL_FILE : PGSTEAL_ANON]! += reclaimed;
  }

  /** pageout: the page (flags f) goes under writeback with PG_reclaim, back to the head of list l; I/O ends later. */
  private startWriteback(pfn: number, f: number, l: number, nr: number): void {
    const lru = this.lru;
    lru.setFlags(pfn, (f & ~LF_DIRTY) | LF_WRITEBACK | LF_RECLAIM);
    this.nrWriteback += nr;
    this.ev.v[NR_VMSCAN_WRITE]! += nr;
    lru.linkHead(pfn, l);
    this.clock.after(this.opts.ioLatencyNs, this.ioDone, lru.handleAt(pfn));
  }

  /** Free an isolated LRU page, tell its owner, and leave the handle saying where the contents went. */
  private freeLruPage(pfn: number, nr: number, how: number): void {
    const lru = this.lru;
    // everything about the page is in its LRU record: order, handle, owner, the owner's cookie
    const order = lru.orderOf(pfn);
    const owner = lru.handleAt(pfn) >= 0 ? this.owners[lru.userAt(pfn)] : undefined;
    const cookie = lru.cookieAt(pfn);
    const h = lru.evictPage(pfn, how, owner !== undefined && owner.releasesHandleOnReclaim === true);
    this.port.setPageLru?.(pfn, false);
    this.port.freePages(pfn, order);
    if (owner) owner.reclaimed(pfn, order, h, cookie);
    void nr;
  }

  /** I/O completion: the page is clean; PG_reclaim pages rotate to the inactive tail (folio_rotate_reclaimable). */
  private endWriteback(handle: number): void {
    const pfn = this.lru.pfnOf(handle);
    if (pfn < 0) return;
    const lru = this.lru;
    const f = lru.flagsOf(pfn);
    if (!(f & LF_WRITEBACK)) return;
    const nr = 1 << lru.orderOf(pfn);
    this.nrWriteback -= nr;
    lru.setFlags(pfn, f & ~(LF_WRITEBACK | LF_RECLAIM));
    if ((f & LF_RECLAIM) && lru.isOnLru(pfn)) {
      const l = lru.listOf(pfn);
      const inactive = l === LRU_ACTIVE_ANON || l === LRU_ACTIVE_FILE ? l - 1 : l;
      lru.unlink(pfn);
      lru.linkTail(pfn, inactive);
      this.ev.v[PGROTATED]! += nr;
    }
  }

  /**
   * Direct reclaim for an allocating task.
   * @kernel mm/vmscan.c try_to_free_pages, do_try_to_free_pages (6.1)
   * Returns the scan control with nrReclaimed / nrScanned filled in.
   */
  tryToFreePages(gfp: number, order: number, reclaimIdx: number, compactionReady: () => boolean): ScanControl {
    const sc = newScanControl(gfp, order, reclaimIdx, false);
    this.ev.v[ALLOCSTALL_BASE + reclaimIdx]! += 1;
    do {
      for (let node = 0; node < this.port.nrNodes; node++) this.shrinkNode(node, sc);
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
      if (compactionReady()) break;
    } while (--sc.priority >= 0);
    return sc;
  }
}

function grow(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

export { GFP_KERNEL as KSWAPD_GFP };
