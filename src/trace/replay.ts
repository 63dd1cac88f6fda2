/**
 * Replay of a real kmem trace on the buddy allocator, page by page at the traced pfns.
 *
 * Event semantics (Linux 6.1; ../shared/reference/replay-notes.md §2, docs/replay.md):
 * - mm_page_alloc_zone_locked: the free block that starts at pfn (order ≥ order) leaves the buddy lists and is
 *   split down to order (the low end is taken); with percpu_refill=1 the pages go to the pcp list.
 * - mm_page_pcpu_drain: pcp → buddy, with __free_one_page's merging.
 * - mm_page_free: pcp-order pages (order ≤ 3, or pageblock order with THP configured) go to the pcp list;
 *   others merge into buddy at once. Exception (lookahead rule, §5b): a pcp-order free whose page is next
 *   touched by a zone_locked allocation went straight to buddy (a softirq free that lost pcp_spin_trylock).
 * - mm_page_free_batched repeats pages already reported by mm_page_free; mm_page_alloc of a pcp page and
 *   mm_page_alloc_extfrag do not change the buddy lists.
 * Compaction isolates free pages without any kmem event (§5c); optionally the replay infers those isolations
 * from the frees that reveal them.
 *
 * The buddy operations come from the core allocator through `ReplayBuddy` (replay_buddy.ts): this file
 * holds no free lists of its own.
 * @kernel mm/page_alloc.c rmqueue_bulk, free_pcppages_bulk, free_unref_page, __free_pages_ok
 */
import { BadInputError } from '../errors.ts';
import * as ev from './events.ts';
import type { TraceEvents } from './events.ts';

const EV_PAGE_ALLOC = ev.EV_PAGE_ALLOC, EV_PAGE_FREE = ev.EV_PAGE_FREE, EV_PAGE_FREE_BATCHED = ev.EV_PAGE_FREE_BATCHED;
const EV_ALLOC_ZONE_LOCKED = ev.EV_ALLOC_ZONE_LOCKED, EV_PCPU_DRAIN = ev.EV_PCPU_DRAIN;
const EV_COMPACTION_BEGIN = ev.EV_COMPACTION_BEGIN, EV_COMPACTION_END = ev.EV_COMPACTION_END;

/** The buddy-allocator operations a replay needs, implemented by the core (see replay_buddy.ts). */
export interface ReplayBuddy {
  /** zones in pfn order */
  readonly zones: ReadonlyArray<{ zoneIdx: number; name: string; startPfn: number; endPfn: number }>;
  /** index into `zones` of the zone spanning pfn, or -1 */
  zoneOf(pfn: number): number;
  /** head pfn of the free buddy block containing pfn, or -1 when pfn is not free in buddy */
  freeBlockHead(pfn: number): number;
  /** order of the free block at head (head must be a free block head) */
  freeBlockOrder(head: number): number;
  /** zone_locked: unlink the free block starting at pfn (order ≥ order) and expand it down to order; false if none */
  takeBlockAt(pfn: number, order: number, mt: number): boolean;
  /** unlink the whole free block at head, no split (compaction's silent isolation); it counts as allocated */
  removeFreeBlock(head: number): void;
  /** take the single page pfn out of the free block holding it, the rest of the block staying free; false if pfn is not free */
  takePage(pfn: number): boolean;
  /** __free_one_page: put [pfn, pfn + 2^order) into buddy and merge */
  freeOnePage(pfn: number, order: number, mt: number): void;
  /** free blocks per order of zones[slot] (buddyinfo) */
  buddyinfo(slot: number): number[];
}

/** Anomaly counters (replay-notes §4): what the trace could not explain, and what the replay did about it. */
export interface ReplayAnomalies {
  /** mm_page_alloc of a page neither on the modelled pcp list nor just taken by zone_locked (pcp pages at trace start, alloc_pages_bulk) */
  alloc_not_from_pcp: number;
  /** mm_page_pcpu_drain of a page the model did not hold on pcp (pcp pages at trace start) */
  drain_not_on_pcp: number;
  /** mm_page_free of a page the model holds on pcp (pages taken by alloc_pages_bulk, which emits no mm_page_alloc) */
  free_of_pcp_page: number;
  /** pcp-order frees the lookahead rule sent straight to buddy */
  free_direct_inferred: number;
  /** frees (or drains) of a page the model holds free in buddy: compaction's silent isolations */
  free_of_buddy_page: number;
  /** mm_page_alloc_zone_locked where no free block starts at pfn in the model */
  zone_locked_not_free: number;
  /** mm_page_alloc of a page the model holds free in buddy (carved out) */
  alloc_of_buddy_page: number;
  /** events at pfns outside every zone, or of an order above MAX_ORDER - 1 (skipped) */
  pfn_outside_zones: number;
  /** failed allocations (mm_page_alloc with no page) */
  alloc_failed: number;
  /** compaction inference: free blocks pulled out of buddy, and their pages */
  compaction_isolated_blocks: number;
  compaction_isolated_pages: number;
}

export interface ReplayOptions {
  /** CONFIG_TRANSPARENT_HUGEPAGE: pageblock-order pages use the pcp lists too (6.1; default true) */
  pcpThp?: boolean;
  pageblockOrder?: number;
  /** apply the lookahead direct-free rule (default true) */
  lookahead?: boolean;
  /** infer compaction's silent isolations from revealing frees (default true) */
  compactionInference?: boolean;
  /** rows after which to record buddyinfo (sorted or not); row -1 = the start state */
  points?: number[];
}

export interface ReplayZoneState {
  zone: string;
  zoneIdx: number;
  counts: number[];
}

export interface ReplayPointState {
  /** the last row replayed before the state was taken (-1 = start state) */
  row: number;
  zones: ReplayZoneState[];
  anomalies: ReplayAnomalies;
  /** a compaction run began before this point (the trace cannot make the state exact) */
  compactionAffected: boolean;
  /** compaction runs begun so far */
  compactions: number;
}

export interface ReplayResult {
  points: ReplayPointState[];
  anomalies: ReplayAnomalies;
  /** rows (begin, end) of the compaction windows; end -1 when it did not end in the trace */
  compactionWindows: Array<[number, number]>;
  eventsReplayed: number;
}

export function newAnomalies(): ReplayAnomalies {
  return {
    alloc_not_from_pcp: 0, drain_not_on_pcp: 0, free_of_pcp_page: 0, free_direct_inferred: 0, free_of_buddy_page: 0,
    zone_locked_not_free: 0, alloc_of_buddy_page: 0, pfn_outside_zones: 0, alloc_failed: 0,
    compaction_isolated_blocks: 0, compaction_isolated_pages: 0,
  };
}

/** The largest pfn any page event touches, plus one. */
export function pfnLimit(e: TraceEvents): number {
  let max = 0;
  const type = e.type, pfn = e.pfn, order = e.order;
  for (let i = 0; i < e.length; i++) {
    if (type[i]! > EV_PCPU_DRAIN) continue;
    const end = pfn[i]! + (order[i]! > 0 ? 2 ** order[i]! : 1);
    if (end > max) max = end;
  }
  return max;
}

const MAX_REPLAY_PFNS = 2 ** 28;
const MAX_BUDDY_ORDER = 10; // MAX_ORDER - 1 on x86_64 6.1 // 1 TiB of 4 KiB pages: per-pfn side arrays stay ≤ 1.3 GB

/**
 * The lookahead rule (replay-notes §5b): marks each pcp-order mm_page_free whose page is next touched by a
 * mm_page_alloc_zone_locked covering it. Those pages went straight to buddy.
 * @returns one byte per row, 1 for such a direct free
 */
export function directFrees(e: TraceEvents, nrPfns: number, pcpThp = true, pageblockOrder = 9): Uint8Array {
  const direct = new Uint8Array(e.length);
  const pending = new Int32Array(nrPfns); // row + 1 of an unresolved pcp-order free at this head pfn
  const type = e.type, pfn = e.pfn, order = e.order;
  for (let i = 0; i < e.length; i++) {
    const t = type[i]!;
    if (t > EV_PCPU_DRAIN) continue;
    const p = pfn[i]!;
    if (p < 0 || p >= nrPfns) continue;
    const o = order[i]!;
    const n = o > 0 ? 1 << o : 1;
    const end = p + n <= nrPfns ? p + n : nrPfns;
    for (let q = p; q < end; q++) {
      const w = pending[q]!;
      if (w !== 0) {
        if (t === EV_ALLOC_ZONE_LOCKED) direct[w - 1] = 1;
        pending[q] = 0;
      }
    }
    if (t === EV_PAGE_FREE && (o <= 3 || (pcpThp && o === pageblockOrder))) pending[p] = i + 1;
  }
  return direct;
}

/**
 * Compaction inference, the pages freed after a compaction window (replay-notes §5c): a page whose first event
 * after the window's end is a free, and whose previous event came before that end, was held by someone at the
 * end of the window. If the model still holds it free there, compaction took it silently (a migration target),
 * so the replay pulls its free block at the window's end. Returns, per window-end row, the pfns to check.
 */
export function compactionSchedule(e: TraceEvents, nrPfns: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const lastTouch = new Int32Array(nrPfns).fill(-1);
  const type = e.type, pfn = e.pfn, order = e.order;
  let windowEnd = -1; // end row of the latest compaction window that has ended
  let inWindow = false;
  for (let i = 0; i < e.length; i++) {
    const t = type[i]!;
    if (t === EV_COMPACTION_BEGIN) { inWindow = true; continue; }
    if (t === EV_COMPACTION_END) { inWindow = false; windowEnd = i; continue; }
    if (t > EV_PCPU_DRAIN) continue;
    const p = pfn[i]!;
    if (p < 0 || p >= nrPfns) continue;
    const o = order[i]!;
    const end = Math.min(nrPfns, p + (o > 0 ? 2 ** o : 1));
    if (!inWindow && windowEnd >= 0 && (t === EV_PAGE_FREE || t === EV_PCPU_DRAIN) && lastTouch[p]! < windowEnd) {
      let list = out.get(windowEnd);
      if (list === undefined) { list = []; out.set(windowEnd, list); }
      list.push(p);
    }
    for (let q = p; q < end; q++) lastTouch[q] = i;
  }
  return out;
}

/**
 * Replays the page events of `e` on `buddy` (already holding the start state) and records the buddy state
 * after each row of `options.points`.
 */
export function replayTrace(e: TraceEvents, buddy: ReplayBuddy, options: ReplayOptions = {}): ReplayResult {
  const pcpThp = options.pcpThp ?? true;
  const pageblockOrder = options.pageblockOrder ?? 9;
  const inference = options.compactionInference ?? true;
  const points = [...new Set(options.points ?? [])].sort((a, b) => a - b);
  // the zones bound every pfn the replay tracks: events beyond them are counted as outside
  let nrPfns = 0;
  for (const z of buddy.zones) if (z.endPfn > nrPfns) nrPfns = z.endPfn;
  if (nrPfns > MAX_REPLAY_PFNS) {
    throw new BadInputError('REPLAY_PFN_RANGE', `Cannot replay: pfns up to ${nrPfns} exceed the ${MAX_REPLAY_PFNS} pages a replay tracks`);
  }
  const direct = options.lookahead === false ? new Uint8Array(e.length) : directFrees(e, nrPfns, pcpThp, pageblockOrder);
  const schedule = inference ? compactionSchedule(e, nrPfns) : new Map<number, number[]>();
  /** per pfn: 1 + order of a block the model holds on the pcp list, 0 otherwise */
  const pcp = new Uint8Array(nrPfns);
  /** per pfn: 1 + index of the zone spanning it, 0 outside every zone */
  const zoneMap = new Uint8Array(nrPfns);
  buddy.zones.forEach((z, k) => zoneMap.fill(k + 1, Math.max(0, z.startPfn), Math.min(nrPfns, z.endPfn)));
  const a = newAnomalies();
  const out: ReplayPointState[] = [];
  const windows: Array<[number, number]> = [];
  let compactions = 0;

  const record = (row: number): void => {
    const zones: ReplayZoneState[] = [];
    for (let s = 0; s < buddy.zones.length; s++) {
      const z = buddy.zones[s]!;
      zones.push({ zone: z.name, zoneIdx: z.zoneIdx, counts: buddy.buddyinfo(s) });
    }
    out.push({ row, zones, anomalies: { ...a }, compactionAffected: compactions > 0, compactions });
  };

  /**
   * A free of a page the model holds free in buddy: compaction isolated it silently (§5c). With inference
   * (once a compaction has begun) the whole model block leaves buddy and the free goes ahead; otherwise the
   * free is skipped, since the model already counts the page as free. Returns true when the free should go ahead.
   */
  const reveal = (head: number): boolean => {
    a.free_of_buddy_page++;
    if (!inference || compactions === 0) return false;
    const k = buddy.freeBlockOrder(head);
    buddy.removeFreeBlock(head);
    a.compaction_isolated_blocks++;
    a.compaction_isolated_pages += 2 ** k;
    return true;
  };

  /** a page event claims pages the model holds free: take them out page by page, the rest staying free */
  const carve = (p: number, o: number): void => {
    const end = p + (1 << o);
    for (let q = p; q < end; q++) buddy.takePage(q);
  };

  let pi = 0;
  while (pi < points.length && points[pi]! < 0) { record(points[pi]!); pi++; }
  const type = e.type, pfnCol = e.pfn, orderCol = e.order, mtCol = e.mt, auxCol = e.aux;
  let lastLockedRow = -2, lastLockedPfn = -1;
  for (let i = 0; i < e.length; i++) {
    const t = type[i]!;
    if (t <= EV_PCPU_DRAIN) {
      const p = pfnCol[i]!;
      const o = orderCol[i]!;
      const mt = mtCol[i]!; // -1: the pageblock's type
      if (p < 0) { if (t === EV_PAGE_ALLOC) a.alloc_failed++; }
      else if (o > MAX_BUDDY_ORDER || p + (1 << o) > nrPfns || zoneMap[p] === 0 || zoneMap[p + (1 << o) - 1] !== zoneMap[p]) {
        a.pfn_outside_zones++; // outside every zone, or a block crossing a zone boundary
      }
      else if (t === EV_ALLOC_ZONE_LOCKED) {
        if (!buddy.takeBlockAt(p, o, mt)) {
          a.zone_locked_not_free++;
          carve(p, o);
        }
        if (auxCol[i] === 1) pcp[p] = o + 1;
        lastLockedRow = i; lastLockedPfn = p;
      } else if (t === EV_PAGE_ALLOC) {
        if (pcp[p] !== 0) pcp[p] = 0;
        else if (!(lastLockedRow === i - 1 && lastLockedPfn === p)) {
          a.alloc_not_from_pcp++;
          if (buddy.freeBlockHead(p) >= 0) { a.alloc_of_buddy_page++; carve(p, o); }
        }
      } else if (t === EV_PAGE_FREE) {
        const pcpOrder = o <= 3 || (pcpThp && o === pageblockOrder);
        const head = buddy.freeBlockHead(p);
        if (head >= 0 && !reveal(head)) { /* skipped */ }
        else if (pcpOrder && direct[i] === 0) {
          if (pcp[p] !== 0) a.free_of_pcp_page++;
          pcp[p] = o + 1;
        } else {
          if (pcpOrder) a.free_direct_inferred++;
          if (pcp[p] !== 0) { a.free_of_pcp_page++; pcp[p] = 0; }
          buddy.freeOnePage(p, o, mt);
        }
      } else if (t === EV_PCPU_DRAIN) {
        if (pcp[p] === 0) a.drain_not_on_pcp++;
        pcp[p] = 0;
        const head = buddy.freeBlockHead(p);
        if (head < 0 || reveal(head)) buddy.freeOnePage(p, o, mt);
      }
      // EV_PAGE_FREE_BATCHED: a repeat of mm_page_free; EV_ALLOC_EXTFRAG: no buddy change
    } else if (t === EV_COMPACTION_BEGIN) {
      compactions++;
      windows.push([i, -1]);
    } else if (t === EV_COMPACTION_END) {
      const w = windows[windows.length - 1];
      if (w !== undefined && w[1] < 0) w[1] = i;
      const pulls = schedule.get(i);
      if (pulls !== undefined) {
        for (const q of pulls) {
          const head = buddy.freeBlockHead(q);
          if (head < 0) continue;
          a.compaction_isolated_blocks++;
          a.compaction_isolated_pages += 2 ** buddy.freeBlockOrder(head);
          buddy.removeFreeBlock(head);
        }
      }
    }
    while (pi < points.length && points[pi] === i) { record(i); pi++; }
  }
  while (pi < points.length) { record(points[pi]!); pi++; }
  return { points: out, anomalies: a, compactionWindows: windows, eventsReplayed: e.length };
}
