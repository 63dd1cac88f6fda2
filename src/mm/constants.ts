/**
 * Geometry constants of the reference kernel (Linux 6.1, x86_64, 4 KiB pages).
 * @kernel include/linux/mmzone.h, include/linux/pageblock-flags.h
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** 6.1 meaning: exclusive upper bound, orders 0..MAX_ORDER-1. (6.4+ made it inclusive; 6.8+ calls it MAX_PAGE_ORDER = 10.) */
export const MAX_ORDER = 11;
export const NR_PAGE_ORDERS = MAX_ORDER;
export const MAX_ORDER_NR_PAGES = 1 << (MAX_ORDER - 1);
export const PAGE_ALLOC_COSTLY_ORDER = 3;
export const pageblock_order = 9;
export const pageblock_nr_pages = 1 << pageblock_order;

/** enum migratetype (CONFIG_CMA=n as on the captured Debian kernel; CONFIG_MEMORY_ISOLATION=y). */
export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
export const MIGRATE_PCPTYPES = 3;
export const MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES;
export const MIGRATE_ISOLATE = 4;
export const MIGRATE_TYPES = 5;
/** migratetype_names[] as /proc/pagetypeinfo prints them (without CMA). */
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const;
/** Letters show_free_areas prints per non-empty list. */
export const MIGRATETYPE_LETTERS = ['U', 'M', 'E', 'H', 'I'] as const;

/** enum zone_type on x86_64 (no HIGHMEM). */
export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const ZONE_MOVABLE = 3;
export const ZONE_DEVICE = 4;
export const MAX_NR_ZONES = 5;
export const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const;

/** Watermark indices (enum zone_watermarks). */
export const WMARK_MIN = 0;
export const WMARK_LOW = 1;
export const WMARK_HIGH = 2;
export const WMARK_PROMO = 3;
