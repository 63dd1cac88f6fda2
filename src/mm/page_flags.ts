/**
 * Page flags: the one byte of state each page descriptor carries, and the helpers that read and
 * write it. No other module touches the bits directly.
 * @kernel include/linux/page-flags.h (PG_buddy is a page_type in 6.1; PG_head/PG_tail/PG_reserved/PG_lru are flags)
 *
 * Labyrinth keeps 8 bits per page. Kernel flags that only matter to reclaim (dirty, writeback,
 * active, swapbacked, …) live in side arrays owned by the reclaim layer, the way page_owner keeps
 * its records outside struct page.
 */

/** Head of a free block on a buddy free list (the kernel's PageBuddy page type). */
export const PG_buddy = 0x01;
/**
 * On a per-CPU list (the kernel has no flag: a pcp page is "not PageBuddy, refcount 0, linked
 * through page->pcp_list"). Labyrinth marks it so that a double free through pcp is caught.
 */
export const PG_pcp = 0x02;
/** Head page of a compound page (__GFP_COMP, order > 0). */
export const PG_head = 0x04;
/** Tail page of a compound page; its `next` link slot holds the head pfn (compound_head). */
export const PG_tail = 0x08;
/** Never handed to the buddy allocator: holes, firmware and kernel-image pages. Refcount 1. */
export const PG_reserved = 0x10;
/** On an LRU list of the reclaim layer (issue 4). Counted as movable by move_freepages. */
export const PG_lru = 0x20;
/** Labyrinth extension (issue 5): an exclusive page; freed only through its key. */
export const PG_exclusive = 0x40;
/** Unevictable / mlocked (issue 4/5). */
export const PG_unevictable = 0x80;

/** Flags that must be clear on a page handed to __free_pages (our PAGE_FLAGS_CHECK_AT_FREE). */
export const PAGE_FLAGS_CHECK_AT_FREE = PG_buddy | PG_pcp | PG_tail | PG_reserved | PG_lru | PG_exclusive;

/** Names in the order the kernel's %pGp prints them (closest kernel names; ours marked). */
const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [PG_reserved, 'reserved'],
  [PG_lru, 'lru'],
  [PG_head, 'head'],
  [PG_tail, 'tail'],
  [PG_buddy, 'buddy'],
  [PG_pcp, 'pcp'],
  [PG_exclusive, 'exclusive'],
  [PG_unevictable, 'unevictable'],
];

/** `%pGp`-like text for a flags byte: `buddy|head`, or the empty string. Cold. */
export function formatPageFlags(flags: number): string {
  const out: string[] = [];
  for (const [bit, name] of FLAG_NAMES) if (flags & bit) out.push(name);
  return out.join('|');
}

/** The order byte packs the block order (low nibble) and a migratetype (high nibble). */
export const ORDER_MASK = 0x0f;
export const MT_SHIFT = 4;

export function packOrder(order: number, migratetype: number): number {
  return order | (migratetype << MT_SHIFT);
}
export function orderOf(packed: number): number {
  return packed & ORDER_MASK;
}
export function migratetypeOf(packed: number): number {
  return packed >>> MT_SHIFT;
}

// Predicates over a flags byte (the caller reads memmap.flags[pfn]).
export function pageIsBuddy(flags: number): boolean { return (flags & PG_buddy) !== 0; }
export function pageIsPcp(flags: number): boolean { return (flags & PG_pcp) !== 0; }
export function pageIsHead(flags: number): boolean { return (flags & PG_head) !== 0; }
export function pageIsTail(flags: number): boolean { return (flags & PG_tail) !== 0; }
export function pageIsReserved(flags: number): boolean { return (flags & PG_reserved) !== 0; }
export function pageIsLru(flags: number): boolean { return (flags & PG_lru) !== 0; }
export function pageIsExclusive(flags: number): boolean { return (flags & PG_exclusive) !== 0; }
/** Labyrinth (issue 5): mark an allocated head exclusive; exclusive pages are also unevictable. */
export function setPageExclusive(flags: number): number { return flags | PG_exclusive | PG_unevictable; }
/** Labyrinth (issue 5): drop the exclusive state before the block returns to the buddy allocator. */
export function clearPageExclusive(flags: number): number { return flags & ~(PG_exclusive | PG_unevictable); }
