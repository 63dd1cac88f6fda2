/**
 * /proc/vmstat: one "name value" line per counter, in the kernel's vmstat_text[] order.
 * @kernel mm/vmstat.c vmstat_text[], vmstat_show (6.1)
 */
import { BadInputError } from '../errors.ts';
import { parseUInt, splitLines } from './_text.ts';
import type { ProcStat } from './zoneinfo.ts';

/**
 * Every name /proc/vmstat of the captured Debian 6.1 amd64 kernel prints, in order
 * (CONFIG_NUMA, THP, COMPACTION, MIGRATION, BALLOON, SWAP, ZSWAP, KSM, no CMA/HIGHMEM/DEBUG_TLBFLUSH).
 */
export const VMSTAT_NAMES_6_1: readonly string[] = (
  'nr_free_pages nr_zone_inactive_anon nr_zone_active_anon nr_zone_inactive_file nr_zone_active_file nr_zone_unevictable '
  + 'nr_zone_write_pending nr_mlock nr_bounce nr_zspages nr_free_cma numa_hit numa_miss numa_foreign numa_interleave '
  + 'numa_local numa_other nr_inactive_anon nr_active_anon nr_inactive_file nr_active_file nr_unevictable '
  + 'nr_slab_reclaimable nr_slab_unreclaimable nr_isolated_anon nr_isolated_file workingset_nodes '
  + 'workingset_refault_anon workingset_refault_file workingset_activate_anon workingset_activate_file '
  + 'workingset_restore_anon workingset_restore_file workingset_nodereclaim nr_anon_pages nr_mapped nr_file_pages '
  + 'nr_dirty nr_writeback nr_writeback_temp nr_shmem nr_shmem_hugepages nr_shmem_pmdmapped nr_file_hugepages '
  + 'nr_file_pmdmapped nr_anon_transparent_hugepages nr_vmscan_write nr_vmscan_immediate_reclaim nr_dirtied '
  + 'nr_written nr_throttled_written nr_kernel_misc_reclaimable nr_foll_pin_acquired nr_foll_pin_released '
  + 'nr_kernel_stack nr_page_table_pages nr_sec_page_table_pages nr_swapcached pgpromote_success pgpromote_candidate '
  + 'nr_dirty_threshold nr_dirty_background_threshold pgpgin pgpgout pswpin pswpout pgalloc_dma pgalloc_dma32 '
  + 'pgalloc_normal pgalloc_movable pgalloc_device allocstall_dma allocstall_dma32 allocstall_normal '
  + 'allocstall_movable allocstall_device pgskip_dma pgskip_dma32 pgskip_normal pgskip_movable pgskip_device pgfree '
  + 'pgactivate pgdeactivate pglazyfree pgfault pgmajfault pglazyfreed pgrefill pgreuse pgsteal_kswapd pgsteal_direct '
  + 'pgdemote_kswapd pgdemote_direct pgscan_kswapd pgscan_direct pgscan_direct_throttle pgscan_anon pgscan_file '
  + 'pgsteal_anon pgsteal_file zone_reclaim_failed pginodesteal slabs_scanned kswapd_inodesteal '
  + 'kswapd_low_wmark_hit_quickly kswapd_high_wmark_hit_quickly pageoutrun pgrotated drop_pagecache drop_slab oom_kill '
  + 'numa_pte_updates numa_huge_pte_updates numa_hint_faults numa_hint_faults_local numa_pages_migrated '
  + 'pgmigrate_success pgmigrate_fail thp_migration_success thp_migration_fail thp_migration_split '
  + 'compact_migrate_scanned compact_free_scanned compact_isolated compact_stall compact_fail compact_success '
  + 'compact_daemon_wake compact_daemon_migrate_scanned compact_daemon_free_scanned htlb_buddy_alloc_success '
  + 'htlb_buddy_alloc_fail unevictable_pgs_culled unevictable_pgs_scanned unevictable_pgs_rescued '
  + 'unevictable_pgs_mlocked unevictable_pgs_munlocked unevictable_pgs_cleared unevictable_pgs_stranded '
  + 'thp_fault_alloc thp_fault_fallback thp_fault_fallback_charge thp_collapse_alloc thp_collapse_alloc_failed '
  + 'thp_file_alloc thp_file_fallback thp_file_fallback_charge thp_file_mapped thp_split_page thp_split_page_failed '
  + 'thp_deferred_split_page thp_split_pmd thp_scan_exceed_none_pte thp_scan_exceed_swap_pte thp_scan_exceed_share_pte '
  + 'thp_split_pud thp_zero_page_alloc thp_zero_page_alloc_failed thp_swpout thp_swpout_fallback balloon_inflate '
  + 'balloon_deflate balloon_migrate swap_ra swap_ra_hit ksm_swpin_copy cow_ksm zswpin zswpout '
  + 'direct_map_level2_splits direct_map_level3_splits nr_unstable'
).split(' ');

export interface Vmstat {
  stats: ProcStat[];
}

/** Counters by name → the 6.1 list in order, absent names as 0. Unknown names are a programming error. */
export function vmstatFromCounters(counters: Readonly<Record<string, number>>): Vmstat {
  const known = new Set(VMSTAT_NAMES_6_1);
  for (const k of Object.keys(counters)) {
    if (!known.has(k)) throw new BadInputError('VMSTAT_UNKNOWN_NAME', `Cannot print vmstat counter "${k}": 6.1 has no such line`);
  }
  return { stats: VMSTAT_NAMES_6_1.map((name) => ({ name, value: counters[name] ?? 0 })) };
}

/** Print "name value\n" per counter, in the given order. */
export function renderVmstat(v: Vmstat): string {
  let out = '';
  for (const s of v.stats) out += `${s.name} ${s.value}\n`;
  return out;
}

/** Read /proc/vmstat of any kernel: "name value" lines; tolerates CRLF, blank lines and trailing blanks. */
export function parseVmstat(text: string): Vmstat {
  const stats: ProcStat[] = [];
  for (const { no, text: t } of splitLines(text)) {
    const s = t.trim();
    if (s === '') continue;
    const m = /^([a-z][a-z0-9_]*)\s+(\S+)$/.exec(s);
    if (!m) throw new BadInputError('VMSTAT_BAD_LINE', `Cannot parse vmstat: expected "name value", got "${s.slice(0, 60)}"`, no);
    stats.push({ name: m[1]!, value: parseUInt(m[2]!, no, m[1]!) });
  }
  if (stats.length === 0) throw new BadInputError('VMSTAT_EMPTY', 'Cannot parse vmstat: no counters found');
  return { stats };
}

/** The counters as a name → value map (for lookups). */
export function vmstatMap(v: Vmstat): Map<string, number> {
  return new Map(v.stats.map((s) => [s.name, s.value]));
}
