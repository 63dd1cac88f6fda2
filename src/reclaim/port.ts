/**
 * What reclaim, compaction, OOM and the sleeping slow path need from the core allocator: a narrow port, so the
 * pressure machinery does not reach into the core's buffers. src/alloc/core_port.ts adapts the core to it;
 * test/_naive_buddy.ts is a small reference implementation used as a test oracle.
 */
import type { WatermarkZoneView } from '../zone/watermark.ts';
import { __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM, __GFP_MOVABLE, __GFP_RECLAIMABLE } from '../gfp/bits.ts';
import {
  MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL,
} from '../mm/constants.ts';

/** @kernel include/linux/gfp.h gfp_zone (x86_64, no HIGHMEM): HIGHMEM|MOVABLE → ZONE_MOVABLE, DMA, DMA32, else NORMAL */
export function gfpZoneX86(gfp: number): number {
  if (gfp & __GFP_DMA) return ZONE_DMA;
  if (gfp & __GFP_DMA32) return ZONE_DMA32;
  if ((gfp & (__GFP_HIGHMEM | __GFP_MOVABLE)) === (__GFP_HIGHMEM | __GFP_MOVABLE)) return ZONE_MOVABLE;
  return ZONE_NORMAL;
}

/** @kernel include/linux/gfp.h gfp_migratetype */
export function gfpMigratetypeOf(gfp: number): number {
  if (gfp & __GFP_MOVABLE) return MIGRATE_MOVABLE;
  if (gfp & __GFP_RECLAIMABLE) return MIGRATE_RECLAIMABLE;
  return MIGRATE_UNMOVABLE;
}

/** A populated zone as the slow path sees it. Page counts in pages. */
export interface PressureZone extends WatermarkZoneView {
  readonly node: number;
  /** ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, … */
  readonly zoneIdx: number;
  readonly startPfn: number;
  /** start_pfn + spanned_pages */
  readonly endPfn: number;
  readonly managed: number;
  readonly present: number;
  /** NR_FREE_PAGES */
  readonly freePages: number;
  /** _watermark[WMARK_MIN/LOW/HIGH] without boost */
  readonly wmarkMin: number;
  readonly wmarkLow: number;
  readonly wmarkHigh: number;
  /** zone->watermark_boost (read/write: kswapd clears it after boosted reclaim) */
  watermarkBoost: number;
  /** pages on this zone's per-CPU lists (free_pcp) */
  readonly freePcp: number;
  /**
   * ZONE_RECLAIM_ACTIVE: kswapd sets it on the zones it balances and clears it when balance_pgdat ends; while it
   * is set the per-CPU lists of the zone hold at most 4 × batch pages (nr_pcp_high). Absent: no per-CPU lists.
   */
  setReclaimActive?(on: boolean): void;
}

/** Page states the compaction scanners distinguish. */
export const PAGE_STATE_RESERVED = 0;
export const PAGE_STATE_FREE = 1;
export const PAGE_STATE_ALLOCATED = 2;

export interface PageAllocatorPort {
  /** Populated zones, in zone-index order (DMA first). */
  readonly zones: readonly PressureZone[];
  /** The node count (kswapd and kcompactd run per node). */
  readonly nrNodes: number;
  /**
   * get_page_from_freelist with explicit alloc flags (watermark index in the low bits), walking the zonelist for
   * gfp's highest zone. Returns the pfn of the first page, or -1.
   */
  getPageFromFreelist(gfp: number, order: number, allocFlags: number): number;
  /** __free_pages */
  freePages(pfn: number, order: number): void;
  /** drain_all_pages: return every per-CPU list to the buddy lists. */
  drainAllPages(): void;
  /** unreserve_highatomic_pageblock(ac, force): give highatomic reserve back; true if any was released. */
  unreserveHighatomic(force: boolean): boolean;
  /** The highest zone index a gfp may use (gfp_zone). */
  gfpZone(gfp: number): number;
  /** The migratetype a gfp asks for (gfp_migratetype). */
  gfpMigratetype(gfp: number): number;
  /** Pageblock migratetype of the block containing pfn. */
  pageblockMigratetype(pfn: number): number;
  /** PAGE_STATE_* of a pfn; for FREE, freeOrder() gives the order when pfn heads a free block, else -1. */
  pageState(pfn: number): number;
  /** Order of the free block headed at pfn, or -1 if pfn is not the head of a free block. */
  freeOrder(pfn: number): number;
  /**
   * __isolate_free_page: take the free block headed at pfn out of the buddy lists (respecting the min watermark
   * as the kernel does). Returns false if the watermark forbids it or pfn is not a free head.
   */
  isolateFreePage(pfn: number, order: number): boolean;
  /** split_page: an allocated block of `order` becomes 2^order independently freeable order-0 pages. */
  splitPage(pfn: number, order: number): void;
  /**
   * Labyrinth (issue 5): true for a page that must never be migrated or reclaimed whatever list it is on — an
   * exclusive page (PG_exclusive). Compaction and the LRU refuse such pages. Absent: no such pages.
   */
  pageIsUnmovable?(pfn: number): boolean;
  /**
   * PG_lru on the head page of an allocated block: set while the block is on an LRU list, cleared before it is
   * freed. The allocator reads it when a fallback steal counts the movable pages of a pageblock
   * (move_freepages_block's num_movable), which decides whether the whole block changes owner. Absent: not tracked.
   */
  setPageLru?(pfn: number, on: boolean): void;
  /**
   * kmem:mm_page_alloc for a request the slow path served or failed (pfn −1), fired once at the end as
   * __alloc_pages does. Absent: no tracepoints.
   */
  tracePageAlloc?(pfn: number, order: number, gfp: number): void;
  /** The core's invariant walk; throws on a violation. */
  verify?(): void;
}
