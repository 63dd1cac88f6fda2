/**
 * The trace events Labyrinth reads, as numbers, and the struct-of-arrays table that holds a parsed trace.
 * One event is one row index; its fields live in typed-array columns (no object per event).
 * @kernel include/trace/events/kmem.h, include/trace/events/vmscan.h, include/trace/events/compaction.h
 */

/** Event type ids (column `type`). Order is stable: tests and JSON use the names below. */
export const EV_PAGE_ALLOC = 0; // mm_page_alloc
export const EV_PAGE_FREE = 1; // mm_page_free (≤3.2: mm_page_free_direct)
export const EV_PAGE_FREE_BATCHED = 2; // mm_page_free_batched (≤3.2: mm_pagevec_free)
export const EV_ALLOC_ZONE_LOCKED = 3; // mm_page_alloc_zone_locked
export const EV_PCPU_DRAIN = 4; // mm_page_pcpu_drain
export const EV_ALLOC_EXTFRAG = 5; // mm_page_alloc_extfrag
export const EV_WAKEUP_KSWAPD = 6; // mm_vmscan_wakeup_kswapd
export const EV_KSWAPD_WAKE = 7; // mm_vmscan_kswapd_wake
export const EV_KSWAPD_SLEEP = 8; // mm_vmscan_kswapd_sleep
export const EV_DIRECT_RECLAIM_BEGIN = 9; // mm_vmscan_direct_reclaim_begin
export const EV_DIRECT_RECLAIM_END = 10; // mm_vmscan_direct_reclaim_end
export const EV_COMPACTION_BEGIN = 11; // mm_compaction_begin
export const EV_COMPACTION_END = 12; // mm_compaction_end
export const EV_KCOMPACTD_WAKE = 13; // mm_compaction_kcompactd_wake
export const EV_WAKEUP_KCOMPACTD = 14; // mm_compaction_wakeup_kcompactd
export const EV_COMPACTION_ISOLATE_FREE = 15; // mm_compaction_isolate_freepages (and fast_isolate_freepages)
export const EV_COMPACTION_ISOLATE_MIGRATE = 16; // mm_compaction_isolate_migratepages
export const EV_COMPACTION_MIGRATEPAGES = 17; // mm_compaction_migratepages
export const EV_COMPACTION_OTHER = 18; // try_to_compact_pages, finished, suitable, deferred, defer_*, kcompactd_sleep
export const EV_MARKER = 19; // tracing_mark_write (trace_marker text)
export const NR_EVENT_TYPES = 20;

/** Canonical event names by id (the modern kernel's names). */
export const EVENT_NAMES: readonly string[] = [
  'mm_page_alloc', 'mm_page_free', 'mm_page_free_batched', 'mm_page_alloc_zone_locked', 'mm_page_pcpu_drain',
  'mm_page_alloc_extfrag', 'mm_vmscan_wakeup_kswapd', 'mm_vmscan_kswapd_wake', 'mm_vmscan_kswapd_sleep',
  'mm_vmscan_direct_reclaim_begin', 'mm_vmscan_direct_reclaim_end', 'mm_compaction_begin', 'mm_compaction_end',
  'mm_compaction_kcompactd_wake', 'mm_compaction_wakeup_kcompactd', 'mm_compaction_isolate_freepages',
  'mm_compaction_isolate_migratepages', 'mm_compaction_migratepages', 'mm_compaction_other', 'tracing_mark_write',
];

/** Every event name the parser recognises, with its id (aliases of older kernels included). */
export const EVENT_IDS: ReadonlyArray<readonly [string, number]> = [
  ['mm_page_alloc', EV_PAGE_ALLOC],
  ['mm_page_free', EV_PAGE_FREE],
  ['mm_page_free_direct', EV_PAGE_FREE],
  ['mm_page_free_batched', EV_PAGE_FREE_BATCHED],
  ['mm_pagevec_free', EV_PAGE_FREE_BATCHED],
  ['mm_page_alloc_zone_locked', EV_ALLOC_ZONE_LOCKED],
  ['mm_page_pcpu_drain', EV_PCPU_DRAIN],
  ['mm_page_alloc_extfrag', EV_ALLOC_EXTFRAG],
  ['mm_vmscan_wakeup_kswapd', EV_WAKEUP_KSWAPD],
  ['mm_vmscan_kswapd_wake', EV_KSWAPD_WAKE],
  ['mm_vmscan_kswapd_sleep', EV_KSWAPD_SLEEP],
  ['mm_vmscan_direct_reclaim_begin', EV_DIRECT_RECLAIM_BEGIN],
  ['mm_vmscan_direct_reclaim_end', EV_DIRECT_RECLAIM_END],
  ['mm_compaction_begin', EV_COMPACTION_BEGIN],
  ['mm_compaction_end', EV_COMPACTION_END],
  ['mm_compaction_kcompactd_wake', EV_KCOMPACTD_WAKE],
  ['mm_compaction_wakeup_kcompactd', EV_WAKEUP_KCOMPACTD],
  ['mm_compaction_isolate_freepages', EV_COMPACTION_ISOLATE_FREE],
  ['mm_compaction_fast_isolate_freepages', EV_COMPACTION_ISOLATE_FREE],
  ['mm_compaction_isolate_migratepages', EV_COMPACTION_ISOLATE_MIGRATE],
  ['mm_compaction_migratepages', EV_COMPACTION_MIGRATEPAGES],
  ['mm_compaction_try_to_compact_pages', EV_COMPACTION_OTHER],
  ['mm_compaction_finished', EV_COMPACTION_OTHER],
  ['mm_compaction_suitable', EV_COMPACTION_OTHER],
  ['mm_compaction_deferred', EV_COMPACTION_OTHER],
  ['mm_compaction_defer_compaction', EV_COMPACTION_OTHER],
  ['mm_compaction_defer_reset', EV_COMPACTION_OTHER],
  ['mm_compaction_kcompactd_sleep', EV_COMPACTION_OTHER],
  ['tracing_mark_write', EV_MARKER],
  ['print', EV_MARKER],
];

/** Packed ftrace latency flags (column `flags`): preempt depth in bits 0-3, then one bit per letter class. */
export const TF_DEPTH_MASK = 0x0f;
export const TF_IRQS_OFF = 0x10; // 'd' (or 'D': NMI with irqs off)
export const TF_NEED_RESCHED = 0x20; // 'N', 'n', 'p', 'P'
export const TF_SOFTIRQ = 0x40; // 's'
export const TF_HARDIRQ = 0x80; // 'h', 'H' (hardirq within softirq), 'z'/'Z' (NMI)

/**
 * A parsed trace in struct-of-arrays form. Row i is the i-th recognised event in file order.
 * Columns are views of exactly `length` rows. Values absent for an event type are -1.
 */
export interface TraceEvents {
  length: number;
  /** EV_* id */
  type: Uint8Array;
  /** timestamp in seconds */
  ts: Float64Array;
  pid: Int32Array;
  /** index into `comms` */
  comm: Int32Array;
  cpu: Int16Array;
  /** TF_* packed latency flags; 0 when the format has no flags column */
  flags: Uint8Array;
  /** page frame number; -1 when absent or when the allocation failed (page=(null), pfn=0) */
  pfn: Float64Array;
  /** order (alloc_order for extfrag, requested order for kswapd/compaction wakes) */
  order: Int8Array;
  /** migratetype (alloc_migratetype for extfrag) */
  mt: Int8Array;
  /** index into `gfps` (the gfp_flags text as printed), -1 without gfp_flags */
  gfp: Int32Array;
  /**
   * Per-type extra: zone_locked → percpu_refill (0/1);
   * extfrag → fallback_order | fallback_migratetype << 8 | change_ownership << 16;
   * direct_reclaim_end → nr_reclaimed. -1 otherwise.
   */
  aux: Int32Array;
  /** 1-based line number in the input */
  line: Int32Array;
  /** interned task names */
  comms: string[];
  /** interned gfp_flags texts (symbolic names or hex, exactly as printed) */
  gfps: string[];
  /** key=value fields of the rare events (vmscan, compaction), by row index */
  extra: Map<number, Record<string, string>>;
  /** trace_marker text of EV_MARKER rows, by row index */
  markers: Map<number, string>;
  /** callsite symbol of an allocation where the input carries callchains (perf script -g), by row index */
  callsites: Map<number, string>;
}
