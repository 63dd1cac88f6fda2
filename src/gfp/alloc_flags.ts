/**
 * Internal allocator flags, the translation target of a gfp mask.
 * @kernel mm/internal.h ALLOC_* (values of 5.10–6.1; 6.3 renamed HARDER→NON_BLOCK and HIGH→MIN_RESERVE, added HIGHATOMIC)
 */
export const ALLOC_WMARK_MIN = 0x00;
export const ALLOC_WMARK_LOW = 0x01;
export const ALLOC_WMARK_HIGH = 0x02;
export const ALLOC_WMARK_MASK = 0x03;
export const ALLOC_NO_WATERMARKS = 0x04;
export const ALLOC_OOM = 0x08;
/** ≤6.1 name; 6.3+ ALLOC_NON_BLOCK has the same value. */
export const ALLOC_HARDER = 0x10;
export const ALLOC_NON_BLOCK = 0x10;
/** ≤6.1 name; 6.3+ ALLOC_MIN_RESERVE has the same value. Equals __GFP_HIGH. */
export const ALLOC_HIGH = 0x20;
export const ALLOC_MIN_RESERVE = 0x20;
export const ALLOC_CPUSET = 0x40;
export const ALLOC_CMA = 0x80;
export const ALLOC_NOFRAGMENT = 0x100;
/** 6.3+ only. */
export const ALLOC_HIGHATOMIC = 0x200;
/** Equals __GFP_KSWAPD_RECLAIM (5.10+). */
export const ALLOC_KSWAPD = 0x800;
