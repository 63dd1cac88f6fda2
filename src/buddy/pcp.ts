/**
 * Per-CPU page lists (6.1): orders 0..PAGE_ALLOC_COSTLY_ORDER per pcp migratetype (12 lists) plus
 * one pageblock-order list shared by all types (CONFIG_TRANSPARENT_HUGEPAGE). A "CPU" is an
 * allocation context index. Refill by batch >> order (min 2); free to the head; drain
 * round-robin from the tails when count ≥ high.
 * @kernel mm/page_alloc.c order_to_pindex, pindex_to_order, rmqueue_bulk, __rmqueue_pcplist,
 *   rmqueue_pcplist, free_unref_page_commit, nr_pcp_free, nr_pcp_high, free_pcppages_bulk, drain_pages_zone (6.1)
 *
 * 6.12 differs: refill size comes from nr_pcp_alloc (alloc_factor, 6.7), pcp->high auto-tunes
 * between high_min and high_max, and there are two THP lists (movable and not).
 */
import * as _MC from '../mm/constants.ts';
import * as _MM from '../mm/memmap.ts';
import { type MemMap, listAdd, listAddTail, listDel } from '../mm/memmap.ts';
import * as _PF from '../mm/page_flags.ts';
import { rmqueue, freeOnePage, FPI_NONE } from './buddy.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { MIGRATE_PCPTYPES, PAGE_ALLOC_COSTLY_ORDER, pageblock_order } = _MC;
const { CPU_EV_FOLD_AT, NR_LOWORDER_PCP_LISTS, NR_PCP_LISTS, P_BATCH, P_COUNT, P_FREE_FACTOR, P_HIGH, Z_FLAGS,
  Z_NR_FREE_PAGES, ZONE_RECLAIM_ACTIVE } = _MM;
const { PG_pcp, MT_SHIFT } = _PF;

/** @kernel mm/page_alloc.c order_to_pindex */
export function orderToPindex(mt: number, order: number): number {
  if (order > PAGE_ALLOC_COSTLY_ORDER) return NR_LOWORDER_PCP_LISTS;
  return MIGRATE_PCPTYPES * order + mt;
}

/** @kernel mm/page_alloc.c pindex_to_order */
export function pindexToOrder(pindex: number): number {
  if (pindex === NR_LOWORDER_PCP_LISTS) return pageblock_order;
  return (pindex / MIGRATE_PCPTYPES) | 0;
}

/**
 * Move up to `count` blocks of `order` from the buddy lists onto the pcp list `list` (tail), each
 * marked PG_pcp with its pcppage migratetype. Returns how many were taken.
 * @kernel mm/page_alloc.c rmqueue_bulk
 */
export function rmqueueBulk(
  m: MemMap, z: number, order: number, count: number, list: number, mt: number, allocFlags: number, pcpThp: boolean,
): number {
  const zl = m.zoneLock;
  if (zl !== null) zl.lock(z);
  let i = 0;
  for (; i < count; i++) {
    const pfn = rmqueue(m, z, order, mt, allocFlags, pcpThp);
    if (pfn < 0) break;
    listAddTail(m, list, pfn);
    m.flags[pfn] = PG_pcp;
  }
  m.ints[m.zf(z, Z_NR_FREE_PAGES)] -= i << order;
  if (zl !== null) zl.unlock(z);
  return i;
}

/**
 * Take a block of `order`/`mt` from CPU `cpu`'s list in zone z, refilling from the buddy lists
 * when empty. Returns the pfn (PG_pcp cleared) or -1.
 * @kernel mm/page_alloc.c rmqueue_pcplist, __rmqueue_pcplist
 */
export function rmqueuePcplist(
  m: MemMap, z: number, cpu: number, order: number, mt: number, allocFlags: number, pcpThp: boolean,
): number {
  const ints = m.ints;
  const pb = m.pf(z, cpu, 0);
  ints[pb + P_FREE_FACTOR] >>= 1;
  const list = m.pcpList(z, cpu, orderToPindex(mt, order));
  const next = m.next;
  let pfn = next[list]!;
  if (pfn === list) {
    pcpRefill(m, z, pb, order, list, mt, allocFlags, pcpThp);
    pfn = next[list]!;
    if (pfn === list) return -1;
  }
  listDel(m, pfn);
  m.flags[pfn] = 0;
  ints[pb + P_COUNT] -= 1 << order;
  return pfn;
}

/** An empty pcp list: refill it with batch >> order blocks (min 2) from the buddy lists. */
function pcpRefill(
  m: MemMap, z: number, pb: number, order: number, list: number, mt: number, allocFlags: number, pcpThp: boolean,
): void {
  const ints = m.ints;
  let batch = ints[pb + P_BATCH]!;
  if (batch > 1) batch = Math.max(batch >> order, 2);
  const alloced = rmqueueBulk(m, z, order, batch, list, mt, allocFlags, pcpThp);
  ints[pb + P_COUNT] += alloced << order;
}

/** @kernel mm/page_alloc.c nr_pcp_free */
export function nrPcpFree(m: MemMap, pb: number, high: number, batch: number, freeHigh: boolean): number {
  const ints = m.ints;
  if (freeHigh) return ints[pb + P_COUNT]!;
  if (high < batch) return 1;
  const minNrFree = batch;
  const maxNrFree = high - batch;
  batch = batch * 2 ** ints[pb + P_FREE_FACTOR]!;
  if (batch < maxNrFree) ints[pb + P_FREE_FACTOR] += 1;
  return Math.min(Math.max(batch, minNrFree), maxNrFree);
}

/** @kernel mm/page_alloc.c nr_pcp_high */
export function nrPcpHigh(m: MemMap, z: number, pb: number, freeHigh: boolean): number {
  const high = m.ints[pb + P_HIGH]!;
  if (high === 0 || freeHigh) return 0;
  if ((m.ints[m.zf(z, Z_FLAGS)]! & ZONE_RECLAIM_ACTIVE) === 0) return high;
  return Math.min(m.ints[pb + P_BATCH]! << 2, high);
}

/**
 * Put a freed block on CPU `cpu`'s list for `pcpMt` (HIGHATOMIC pages go on the MOVABLE list but
 * keep their own pcppage migratetype in the order byte), then drain when count ≥ high.
 * The caller has set m.order[pfn] = order | pageblock mt << 4.
 * @kernel mm/page_alloc.c free_unref_page_commit
 */
export function freeUnrefPageCommit(m: MemMap, z: number, cpu: number, pfn: number, pcpMt: number, order: number): void {
  const ints = m.ints;
  // pgfree in the CPU's counter (MemMap.eventTotals sums them; folded before it overflows)
  const ci = m.cpuEvBase + cpu * m.cpuEvStride + m.cpuEvFreeOff + order;
  const cv = ints[ci]! + 1;
  ints[ci] = cv;
  if (cv === CPU_EV_FOLD_AT) m.foldCpuEvents(cpu);
  const pindex = orderToPindex(pcpMt, order);
  listAdd(m, m.pcpList(z, cpu, pindex), pfn);
  m.flags[pfn] = PG_pcp;
  const pb = m.pf(z, cpu, 0);
  const count = (ints[pb + P_COUNT] += 1 << order);
  const freeHigh = ints[pb + P_FREE_FACTOR] !== 0 && order !== 0 && order <= PAGE_ALLOC_COSTLY_ORDER;
  const high = nrPcpHigh(m, z, pb, freeHigh);
  if (count >= high) {
    const batch = ints[pb + P_BATCH]!;
    freePcppagesBulk(m, z, cpu, nrPcpFree(m, pb, high, batch, freeHigh), pindex);
  }
}

/**
 * Return `count` pages from CPU `cpu`'s lists to the buddy allocator, round-robin over the lists
 * starting after `pindex - 1`, oldest (tail) pages first.
 * @kernel mm/page_alloc.c free_pcppages_bulk
 */
export function freePcppagesBulk(m: MemMap, z: number, cpu: number, count: number, pindex: number): void {
  const ints = m.ints;
  const pb = m.pf(z, cpu, 0);
  let minPindex = 0;
  let maxPindex = NR_PCP_LISTS - 1;
  count = Math.min(ints[pb + P_COUNT]!, count);
  pindex = pindex - 1;
  const base = m.pcpList(z, cpu, 0);
  const prev = m.prev;
  const zl = m.zoneLock;
  if (zl !== null) zl.lock(z);
  while (count > 0) {
    let list = base;
    for (;;) {
      if (++pindex > maxPindex) pindex = minPindex;
      list = base + pindex;
      if (m.next[list] !== list) break;
      if (pindex === maxPindex) maxPindex--;
      if (pindex === minPindex) minPindex++;
    }
    const order = pindexToOrder(pindex);
    const nrPages = 1 << order;
    do {
      const pfn = prev[list]!;
      const mt = m.order[pfn]! >>> MT_SHIFT;
      listDel(m, pfn);
      m.flags[pfn] = 0;
      count -= nrPages;
      ints[pb + P_COUNT] -= nrPages;
      freeOnePage(m, pfn, z, order, mt, FPI_NONE);
      if (m.tracer !== null) m.tracer.pagePcpuDrain(pfn, order, mt);
    } while (count > 0 && m.next[list] !== list);
  }
  if (zl !== null) zl.unlock(z);
}

/** Empty CPU `cpu`'s lists of zone z. @kernel mm/page_alloc.c drain_pages_zone */
export function drainPagesZone(m: MemMap, z: number, cpu: number): void {
  const count = m.ints[m.pf(z, cpu, P_COUNT)]!;
  if (count > 0) freePcppagesBulk(m, z, cpu, count, 0);
}

/** Number of blocks on one pcp list (walks it; cold). */
export function pcpListLength(m: MemMap, z: number, cpu: number, pindex: number): number {
  const head = m.pcpList(z, cpu, pindex);
  let n = 0;
  for (let p = m.next[head]!; p !== head; p = m.next[p]!) n++;
  return n;
}
