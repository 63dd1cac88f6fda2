/**
 * Free lists per (zone, order, migratetype), intrusive through the memmap links, with nr_free per
 * order (free_area[order].nr_free) and per migratetype (Labyrinth keeps it so that pagetypeinfo and
 * verify() need no list walk).
 * @kernel mm/page_alloc.c add_to_free_list, add_to_free_list_tail, move_to_free_list, del_page_from_free_list, get_page_from_free_area
 *
 * A free block is represented by its head pfn: PG_buddy set, order byte = order | list mt << 4.
 * NR_FREE_PAGES is not touched here (the kernel's __mod_zone_freepage_state is the caller's job).
 */
import * as _MC from '../mm/constants.ts';
import * as _MM from '../mm/memmap.ts';
import { type MemMap, listAdd, listAddTail, listDel } from '../mm/memmap.ts';
import * as _PF from '../mm/page_flags.ts';
// Constants as module-local bindings: V8 folds these; an imported binding is a load at every use.
const { MIGRATE_PCPTYPES, MIGRATE_TYPES } = _MC;
const { Z_NR_FREE, Z_NR_FREE_MT } = _MM;
const { PG_buddy, MT_SHIFT, ORDER_MASK } = _PF;

/** @kernel mm/page_alloc.c add_to_free_list (with set_buddy_order and __SetPageBuddy) */
export function addToFreeList(m: MemMap, z: number, pfn: number, order: number, mt: number): void {
  listAdd(m, m.freeList(z, order, mt), pfn);
  m.flags[pfn] = PG_buddy;
  m.order[pfn] = order | (mt << MT_SHIFT);
  countFree(m, z, order, mt, 1);
}

/** @kernel mm/page_alloc.c add_to_free_list_tail */
export function addToFreeListTail(m: MemMap, z: number, pfn: number, order: number, mt: number): void {
  listAddTail(m, m.freeList(z, order, mt), pfn);
  m.flags[pfn] = PG_buddy;
  m.order[pfn] = order | (mt << MT_SHIFT);
  countFree(m, z, order, mt, 1);
}

/** @kernel mm/page_alloc.c del_page_from_free_list (clears PageBuddy and the order) */
export function delPageFromFreeList(m: MemMap, z: number, pfn: number): void {
  const packed = m.order[pfn]!;
  listDel(m, pfn);
  m.flags[pfn] = 0;
  m.order[pfn] = 0;
  countFree(m, z, packed & ORDER_MASK, packed >>> MT_SHIFT, -1);
}

/** @kernel mm/page_alloc.c move_to_free_list (list_move_tail onto another migratetype's list) */
export function moveToFreeList(m: MemMap, z: number, pfn: number, order: number, mt: number): void {
  const old = m.order[pfn]! >>> MT_SHIFT;
  listDel(m, pfn);
  listAddTail(m, m.freeList(z, order, mt), pfn);
  m.order[pfn] = order | (mt << MT_SHIFT);
  const base = m.zf(z, Z_NR_FREE_MT + order * MIGRATE_TYPES);
  m.ints[base + old] -= 1;
  m.ints[base + mt] += 1;
}

/** @kernel mm/page_alloc.c get_page_from_free_area: first pfn on the list, or -1. */
export function getPageFromFreeArea(m: MemMap, z: number, order: number, mt: number): number {
  const head = m.freeList(z, order, mt);
  const first = m.next[head]!;
  return first === head ? -1 : first;
}

/** @kernel include/linux/mmzone.h free_area_empty */
export function freeAreaEmpty(m: MemMap, z: number, order: number, mt: number): boolean {
  const head = m.freeList(z, order, mt);
  return m.next[head] === head;
}

/** free_area[order].nr_free */
export function nrFree(m: MemMap, z: number, order: number): number {
  return m.ints[m.zf(z, Z_NR_FREE + order)]!;
}

/** Number of blocks on free_list[mt] of free_area[order]. */
export function nrFreeMt(m: MemMap, z: number, order: number, mt: number): number {
  return m.ints[m.zf(z, Z_NR_FREE_MT + order * MIGRATE_TYPES + mt)]!;
}

function countFree(m: MemMap, z: number, order: number, mt: number, d: number): void {
  const zb = m.zf(z, 0);
  m.ints[zb + Z_NR_FREE + order] += d;
  m.ints[zb + Z_NR_FREE_MT + order * MIGRATE_TYPES + mt] += d;
}

/** @kernel mm/page_alloc.c migratetype_is_mergeable: UNMOVABLE, MOVABLE, RECLAIMABLE */
export function migratetypeIsMergeable(mt: number): boolean {
  return mt < MIGRATE_PCPTYPES;
}
