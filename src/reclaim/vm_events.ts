/**
 * The /proc/vmstat events the pressure machinery moves, declared once: the names (in vmstat_text[] order) and a
 * Float64Array of values indexed by the constants below. Events only go up.
 * @kernel include/linux/vm_event_item.h, mm/vmstat.c vmstat_text[] (6.1)
 *
 * When the core's counter registry exists these names are registered there (src/alloc/core_port.ts);
 * until then, and for the naive test oracle, this table is the store.
 */
export const PRESSURE_EVENT_NAMES = [
  'allocstall_dma', 'allocstall_dma32', 'allocstall_normal', 'allocstall_movable', 'allocstall_device',
  'pgskip_dma', 'pgskip_dma32', 'pgskip_normal', 'pgskip_movable', 'pgskip_device',
  'pgactivate', 'pgdeactivate', 'pgrefill',
  'pgsteal_kswapd', 'pgsteal_direct', 'pgscan_kswapd', 'pgscan_direct', 'pgscan_direct_throttle',
  'pgscan_anon', 'pgscan_file', 'pgsteal_anon', 'pgsteal_file',
  'slabs_scanned',
  'kswapd_low_wmark_hit_quickly', 'kswapd_high_wmark_hit_quickly', 'pageoutrun',
  'pgrotated',
  'oom_kill',
  'pgmigrate_success', 'pgmigrate_fail',
  'compact_migrate_scanned', 'compact_free_scanned', 'compact_isolated',
  'compact_stall', 'compact_fail', 'compact_success',
  'compact_daemon_wake', 'compact_daemon_migrate_scanned', 'compact_daemon_free_scanned',
  'pswpout',
  // node stats (nr_*) the reclaim path moves; gauges kept here for the report
  'nr_vmscan_write', 'nr_vmscan_immediate_reclaim',
] as const;

export type PressureEventName = typeof PRESSURE_EVENT_NAMES[number];

const idx = (n: PressureEventName): number => PRESSURE_EVENT_NAMES.indexOf(n);
export const ALLOCSTALL_BASE = idx('allocstall_dma');
export const PGSKIP_BASE = idx('pgskip_dma');
export const PGACTIVATE = idx('pgactivate');
export const PGDEACTIVATE = idx('pgdeactivate');
export const PGREFILL = idx('pgrefill');
export const PGSTEAL_KSWAPD = idx('pgsteal_kswapd');
export const PGSTEAL_DIRECT = idx('pgsteal_direct');
export const PGSCAN_KSWAPD = idx('pgscan_kswapd');
export const PGSCAN_DIRECT = idx('pgscan_direct');
export const PGSCAN_ANON = idx('pgscan_anon');
export const PGSCAN_FILE = idx('pgscan_file');
export const PGSTEAL_ANON = idx('pgsteal_anon');
export const PGSTEAL_FILE = idx('pgsteal_file');
export const SLABS_SCANNED = idx('slabs_scanned');
export const KSWAPD_LOW_WMARK_HIT_QUICKLY = idx('kswapd_low_wmark_hit_quickly');
export const KSWAPD_HIGH_WMARK_HIT_QUICKLY = idx('kswapd_high_wmark_hit_quickly');
export const PAGEOUTRUN = idx('pageoutrun');
export const PGROTATED = idx('pgrotated');
export const OOM_KILL = idx('oom_kill');
export const PGMIGRATE_SUCCESS = idx('pgmigrate_success');
export const PGMIGRATE_FAIL = idx('pgmigrate_fail');
export const COMPACT_MIGRATE_SCANNED = idx('compact_migrate_scanned');
export const COMPACT_FREE_SCANNED = idx('compact_free_scanned');
export const COMPACT_ISOLATED = idx('compact_isolated');
export const COMPACT_STALL = idx('compact_stall');
export const COMPACT_FAIL = idx('compact_fail');
export const COMPACT_SUCCESS = idx('compact_success');
export const COMPACT_DAEMON_WAKE = idx('compact_daemon_wake');
export const COMPACT_DAEMON_MIGRATE_SCANNED = idx('compact_daemon_migrate_scanned');
export const COMPACT_DAEMON_FREE_SCANNED = idx('compact_daemon_free_scanned');
export const PSWPOUT = idx('pswpout');
export const NR_VMSCAN_WRITE = idx('nr_vmscan_write');
export const NR_VMSCAN_IMMEDIATE = idx('nr_vmscan_immediate_reclaim');

/** The store: one number per name. */
export class PressureEvents {
  readonly v = new Float64Array(PRESSURE_EVENT_NAMES.length);
  get(name: PressureEventName): number { return this.v[idx(name)]!; }
  /** Every event by name (for /proc/vmstat and --json). */
  toRecord(): Record<string, number> {
    const r: Record<string, number> = {};
    for (let i = 0; i < PRESSURE_EVENT_NAMES.length; i++) r[PRESSURE_EVENT_NAMES[i]!] = this.v[i]!;
    return r;
  }
}
