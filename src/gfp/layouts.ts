/**
 * GFP bit layouts of every kernel generation that real reports use, as data.
 *
 * A layout gives the value of each `___GFP_*` bit, the composites (`GFP_KERNEL`, …) built from them,
 * and the ordered name table the kernel prints masks with: `gfpflag_names[]` for `%pGg` (warn_alloc,
 * the OOM header, dump_page) and `__def_gfpflag_names` for the tracepoints' `show_gfp_flags()`.
 * Bits that depend on the kernel configuration (LOCKDEP, KASAN_HW_TAGS, SLAB_OBJ_EXT, KMEMCHECK) are
 * options of a layout; the defaults are those of common distribution kernels.
 *
 * Sources (torvalds/linux history, read with the search tools; see docs/gfp.md for the evidence per row):
 * include/linux/gfp.h (≤5.19), include/linux/gfp_types.h (6.0+; an enum of bit numbers since 6.10),
 * include/trace/events/gfpflags.h (≤4.5), include/trace/events/mmflags.h (4.6+), mm/debug.c.
 * @kernel include/linux/gfp_types.h, include/trace/events/mmflags.h __def_gfpflag_names
 */

/** Config options that move or add GFP bits. */
export interface GfpLayoutOptions {
  /** CONFIG_LOCKDEP: adds __GFP_NOLOCKDEP (4.12+). Off on distribution kernels. */
  lockdep: boolean;
  /** CONFIG_KASAN_HW_TAGS (arm64 MTE only): adds __GFP_SKIP_ZERO / __GFP_SKIP_KASAN* (5.18+). Off by default. */
  kasanHwTags: boolean;
  /** CONFIG_SLAB_OBJ_EXT (selected by MEMCG): adds __GFP_NO_OBJ_EXT (6.10+). On for distribution kernels. */
  slabObjExt: boolean;
  /** CONFIG_KMEMCHECK (≤4.3): gives __GFP_NOTRACK its bit; without it the flag is 0. Off by default. */
  kmemcheck: boolean;
}

export const DEFAULT_GFP_OPTIONS: Readonly<GfpLayoutOptions> = Object.freeze({
  lockdep: false, kasanHwTags: false, slabObjExt: true, kmemcheck: false,
});

/** Which generation of gfp_to_alloc_flags() rules applies (see alloc.ts). */
export type AllocRules = '2.6' | '4.4' | '4.16' | '5.0' | '5.10' | '6.3' | '6.12';

/** One entry of a kernel name table: printed when all bits of `mask` are still set (a 0 mask always matches). */
export interface GfpName {
  readonly name: string;
  readonly mask: number;
}

export interface GfpLayout {
  /** Stable id: the first release of the generation, e.g. "6.3". */
  id: string;
  /** Human name, e.g. "Linux 6.3–6.7". */
  name: string;
  /** First release using it (inclusive) and last one (inclusive), or null for open-ended. */
  since: string;
  until: string | null;
  /** Every flag and composite of this layout with a non-zero value, by its kernel name (plus the extension __GFP_EXCL). */
  flags: Record<string, number>;
  /** Single-bit flags only (non-zero), by name, in bit order. */
  bits: Record<string, number>;
  /** The `%pGg` name table, in the kernel's order, then __GFP_EXCL. */
  table: readonly GfpName[];
  /** The `show_gfp_flags()` (tracepoint) name table. */
  traceTable: readonly GfpName[];
  /** What show_gfp_flags prints for 0: "none" (4.4+) or "GFP_NOWAIT" (≤4.3). */
  traceZero: string;
  /** Whether warn_alloc prints `mode:0x…(names)` (4.6+) or only `mode:0x…`. */
  reportNames: boolean;
  /** Whether the single-bit names in the tables read `GFP_X` (≤4.3) rather than `__GFP_X`. */
  shortNames: boolean;
  allocRules: AllocRules;
  options: Readonly<GfpLayoutOptions>;
  /** Options that change this layout. */
  optionNames: ReadonlyArray<keyof GfpLayoutOptions>;
  /** OR of every bit a kernel flag of this layout can have (without __GFP_EXCL). */
  kernelMask: number;
  /** Flags this layout defines but that are 0 with its options (e.g. __GFP_NOLOCKDEP without LOCKDEP). */
  zeroNames: readonly string[];
  /** Flags known from other layouts but absent here, with a short note why. */
  absent: Readonly<Record<string, string>>;
  /** Names this layout prints for two different masks (4.4: GFP_ATOMIC is also __GFP_ATOMIC alone). */
  ambiguousNames: readonly string[];
  /** Facts about this layout that were not verified against a primary source. */
  unverified: readonly string[];
}

/** Labyrinth's extension bit (see bits.ts): never used by any kernel layout. */
export const GFP_EXCL_BIT = 0x40000000;
export const GFP_EXCL_NAME = '__GFP_EXCL';

type Opt = keyof GfpLayoutOptions;
/** [name without the leading "__GFP_", value, option that must be on for the bit to exist] */
type BitDef = readonly [string, number, Opt?];
/** [composite name, members (full names), members removed (full names)] */
type CompDef = readonly [string, readonly string[], (readonly string[])?];

interface Spec {
  id: string;
  name: string;
  since: string;
  until: string | null;
  bits: readonly BitDef[];
  composites: readonly CompDef[];
  /** %pGg table names; `GFP_X=__GFP_X` gives a display name for a flag (≤4.3 tables). `?opt` suffix: only when opt is on. */
  table: readonly string[];
  /** Extra names show_gfp_flags prints after `table` (config-dependent). */
  traceExtra?: readonly string[];
  traceZero: string;
  reportNames: boolean;
  shortNames?: boolean;
  allocRules: AllocRules;
  absent?: Record<string, string>;
  /** Names the table prints for two different masks (the text cannot be parsed back uniquely). */
  ambiguous?: readonly string[];
  unverified?: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------
// Bit sets per generation.

const BITS_2_6: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['WAIT', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['COLD', 0x100], ['NOWARN', 0x200], ['REPEAT', 0x400], ['NOFAIL', 0x800],
  ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
  ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['RECLAIMABLE', 0x80000], ['NOTRACK', 0x200000, 'kmemcheck'],
  ['NO_KSWAPD', 0x400000], ['OTHER_NODE', 0x800000], ['WRITE', 0x1000000],
];

/** 4.4 itself: 0x100000 is still __GFP_NOACCOUNT (4.1–4.4); 4.5 turned it into __GFP_ACCOUNT. */
const BITS_4_4_ONLY: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['COLD', 0x100], ['NOWARN', 0x200], ['REPEAT', 0x400], ['NOFAIL', 0x800],
  ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
  ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['ATOMIC', 0x80000], ['NOACCOUNT', 0x100000], ['NOTRACK', 0x200000],
  ['DIRECT_RECLAIM', 0x400000], ['OTHER_NODE', 0x800000], ['WRITE', 0x1000000], ['KSWAPD_RECLAIM', 0x2000000],
];

const BITS_4_4: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['COLD', 0x100], ['NOWARN', 0x200], ['REPEAT', 0x400], ['NOFAIL', 0x800],
  ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
  ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['ATOMIC', 0x80000], ['ACCOUNT', 0x100000], ['NOTRACK', 0x200000],
  ['DIRECT_RECLAIM', 0x400000], ['OTHER_NODE', 0x800000], ['WRITE', 0x1000000], ['KSWAPD_RECLAIM', 0x2000000],
];

function bits410(retryName: 'REPEAT' | 'RETRY_MAYFAIL', lockdep: boolean): BitDef[] {
  const b: BitDef[] = [
    ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
    ['IO', 0x40], ['FS', 0x80], ['COLD', 0x100], ['NOWARN', 0x200], [retryName, 0x400], ['NOFAIL', 0x800],
    ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
    ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['ATOMIC', 0x80000], ['ACCOUNT', 0x100000], ['NOTRACK', 0x200000],
    ['DIRECT_RECLAIM', 0x400000], ['WRITE', 0x800000], ['KSWAPD_RECLAIM', 0x1000000],
  ];
  if (lockdep) b.push(['NOLOCKDEP', 0x2000000, 'lockdep']);
  return b;
}

/** 4.15–4.17: __GFP_COLD and __GFP_NOTRACK removed, their bits left empty. */
const BITS_4_15: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['NOWARN', 0x200], ['RETRY_MAYFAIL', 0x400], ['NOFAIL', 0x800],
  ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
  ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['ATOMIC', 0x80000], ['ACCOUNT', 0x100000],
  ['DIRECT_RECLAIM', 0x400000], ['WRITE', 0x800000], ['KSWAPD_RECLAIM', 0x1000000], ['NOLOCKDEP', 0x2000000, 'lockdep'],
];

/** 4.18 (Shakeel Butt, "fill the gaps", posted 16 May 2018) to 5.0: __GFP_WRITE into 0x100, reclaim bits moved down. */
const BITS_4_18: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['WRITE', 0x100], ['NOWARN', 0x200], ['RETRY_MAYFAIL', 0x400], ['NOFAIL', 0x800],
  ['NORETRY', 0x1000], ['MEMALLOC', 0x2000], ['COMP', 0x4000], ['ZERO', 0x8000], ['NOMEMALLOC', 0x10000],
  ['HARDWALL', 0x20000], ['THISNODE', 0x40000], ['ATOMIC', 0x80000], ['ACCOUNT', 0x100000],
  ['DIRECT_RECLAIM', 0x200000], ['KSWAPD_RECLAIM', 0x400000], ['NOLOCKDEP', 0x800000, 'lockdep'],
];

/** 5.1 ("mm: shuffle GFP_* flags", Alexey Dobriyan, Jan 2019) through 6.x: the low 23 bits. */
const BITS_5_CORE: readonly BitDef[] = [
  ['DMA', 0x01], ['HIGHMEM', 0x02], ['DMA32', 0x04], ['MOVABLE', 0x08], ['RECLAIMABLE', 0x10], ['HIGH', 0x20],
  ['IO', 0x40], ['FS', 0x80], ['ZERO', 0x100], ['ATOMIC', 0x200], ['DIRECT_RECLAIM', 0x400],
  ['KSWAPD_RECLAIM', 0x800], ['WRITE', 0x1000], ['NOWARN', 0x2000], ['RETRY_MAYFAIL', 0x4000], ['NOFAIL', 0x8000],
  ['NORETRY', 0x10000], ['MEMALLOC', 0x20000], ['COMP', 0x40000], ['NOMEMALLOC', 0x80000], ['HARDWALL', 0x100000],
  ['THISNODE', 0x200000], ['ACCOUNT', 0x400000],
];
const BITS_6_3_CORE = BITS_5_CORE.filter((b) => b[0] !== 'ATOMIC');

const BITS_5_1: readonly BitDef[] = [...BITS_5_CORE, ['NOLOCKDEP', 0x800000, 'lockdep']];
const BITS_5_14: readonly BitDef[] = [
  ...BITS_5_CORE, ['ZEROTAGS', 0x800000], ['SKIP_KASAN_POISON', 0x1000000], ['NOLOCKDEP', 0x2000000, 'lockdep'],
];
const BITS_5_18: readonly BitDef[] = [
  ...BITS_5_CORE, ['ZEROTAGS', 0x800000], ['SKIP_ZERO', 0x1000000, 'kasanHwTags'],
  ['SKIP_KASAN_UNPOISON', 0x2000000, 'kasanHwTags'], ['SKIP_KASAN_POISON', 0x4000000, 'kasanHwTags'],
  ['NOLOCKDEP', 0x8000000, 'lockdep'],
];
/** 6.3 only: __GFP_ATOMIC gone, KASAN bits still those of 5.18–6.2 ("kasan: remove PG_skip_kasan_poison flag" came in 6.4). */
const BITS_6_3_ONLY: readonly BitDef[] = [
  ...BITS_6_3_CORE, ['ZEROTAGS', 0x800000], ['SKIP_ZERO', 0x1000000, 'kasanHwTags'],
  ['SKIP_KASAN_UNPOISON', 0x2000000, 'kasanHwTags'], ['SKIP_KASAN_POISON', 0x4000000, 'kasanHwTags'],
  ['NOLOCKDEP', 0x8000000, 'lockdep'],
];
const BITS_6_4: readonly BitDef[] = [
  ...BITS_6_3_CORE, ['ZEROTAGS', 0x800000], ['SKIP_ZERO', 0x1000000, 'kasanHwTags'],
  ['SKIP_KASAN', 0x2000000, 'kasanHwTags'], ['NOLOCKDEP', 0x4000000, 'lockdep'],
];

/** 6.10+ ("mm: enumerate all gfp flags"): bit numbers are an enum, so optional bits shift the later ones. */
function bitsEnum(o: GfpLayoutOptions): BitDef[] {
  const b: BitDef[] = [...BITS_6_3_CORE, ['ZEROTAGS', 0x800000]];
  let next = 24;
  if (o.kasanHwTags) {
    b.push(['SKIP_ZERO', 2 ** next++, 'kasanHwTags']);
    b.push(['SKIP_KASAN', 2 ** next++, 'kasanHwTags']);
  }
  if (o.lockdep) b.push(['NOLOCKDEP', 2 ** next++, 'lockdep']);
  if (o.slabObjExt) b.push(['NO_OBJ_EXT', 2 ** next++, 'slabObjExt']);
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// Composites.

const R = '__GFP_RECLAIM';
const COMPOSITES_2_6: readonly CompDef[] = [
  ['GFP_NOWAIT', []],
  ['GFP_NOIO', ['__GFP_WAIT']],
  ['GFP_NOFS', ['__GFP_WAIT', '__GFP_IO']],
  ['GFP_KERNEL', ['__GFP_WAIT', '__GFP_IO', '__GFP_FS']],
  ['GFP_TEMPORARY', ['__GFP_WAIT', '__GFP_IO', '__GFP_FS', '__GFP_RECLAIMABLE']],
  ['GFP_USER', ['__GFP_WAIT', '__GFP_IO', '__GFP_FS', '__GFP_HARDWALL']],
  ['GFP_HIGHUSER', ['GFP_USER', '__GFP_HIGHMEM']],
  ['GFP_HIGHUSER_MOVABLE', ['GFP_HIGHUSER', '__GFP_MOVABLE']],
  ['GFP_TRANSHUGE', ['GFP_HIGHUSER_MOVABLE', '__GFP_COMP', '__GFP_NOMEMALLOC', '__GFP_NORETRY', '__GFP_NOWARN', '__GFP_NO_KSWAPD']],
  ['GFP_ATOMIC', ['__GFP_HIGH']],
  ['GFP_DMA', ['__GFP_DMA']],
  ['GFP_DMA32', ['__GFP_DMA32']],
];

interface CompositeEra {
  atomicBit: boolean;
  temporary: boolean;
  transhugeLight: boolean;
  nowaitNowarn: boolean;
  /** Extra members of GFP_HIGHUSER_MOVABLE (KASAN skip flags). */
  highuserMovableExtra: readonly string[];
  /** GFP_KERNEL_ACCOUNT exists (4.5+). */
  kernelAccount?: boolean;
}

function modernComposites(e: CompositeEra): CompDef[] {
  const c: CompDef[] = [
    [R, ['__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM']],
    ['GFP_ATOMIC', e.atomicBit ? ['__GFP_HIGH', '__GFP_ATOMIC', '__GFP_KSWAPD_RECLAIM'] : ['__GFP_HIGH', '__GFP_KSWAPD_RECLAIM']],
    ['GFP_KERNEL', [R, '__GFP_IO', '__GFP_FS']],
    ...(e.kernelAccount === false ? [] : [['GFP_KERNEL_ACCOUNT', ['GFP_KERNEL', '__GFP_ACCOUNT']] as CompDef]),
    ['GFP_NOWAIT', e.nowaitNowarn ? ['__GFP_KSWAPD_RECLAIM', '__GFP_NOWARN'] : ['__GFP_KSWAPD_RECLAIM']],
    ['GFP_NOIO', [R]],
    ['GFP_NOFS', [R, '__GFP_IO']],
  ];
  if (e.temporary) c.push(['GFP_TEMPORARY', [R, '__GFP_IO', '__GFP_FS', '__GFP_RECLAIMABLE']]);
  c.push(
    ['GFP_USER', [R, '__GFP_IO', '__GFP_FS', '__GFP_HARDWALL']],
    ['GFP_DMA', ['__GFP_DMA']],
    ['GFP_DMA32', ['__GFP_DMA32']],
    ['GFP_HIGHUSER', ['GFP_USER', '__GFP_HIGHMEM']],
    ['GFP_HIGHUSER_MOVABLE', ['GFP_HIGHUSER', '__GFP_MOVABLE', ...e.highuserMovableExtra]],
  );
  if (e.transhugeLight) {
    c.push(['GFP_TRANSHUGE_LIGHT', ['GFP_HIGHUSER_MOVABLE', '__GFP_COMP', '__GFP_NOMEMALLOC', '__GFP_NOWARN'], [R]]);
    c.push(['GFP_TRANSHUGE', ['GFP_TRANSHUGE_LIGHT', '__GFP_DIRECT_RECLAIM']]);
  } else {
    c.push(['GFP_TRANSHUGE', ['GFP_HIGHUSER_MOVABLE', '__GFP_COMP', '__GFP_NOMEMALLOC', '__GFP_NORETRY', '__GFP_NOWARN'], ['__GFP_KSWAPD_RECLAIM']]);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Name tables.

/** 2.6.x: the kmem tracepoints' table (include/trace/events/kmem.h, later gfpflags.h); ends with GFP_MOVABLE. */
const TABLE_2_6 = [
  'GFP_HIGHUSER_MOVABLE', 'GFP_HIGHUSER', 'GFP_USER', 'GFP_TEMPORARY', 'GFP_KERNEL', 'GFP_NOFS',
  'GFP_ATOMIC', 'GFP_NOIO', 'GFP_HIGH=__GFP_HIGH', 'GFP_WAIT=__GFP_WAIT', 'GFP_IO=__GFP_IO', 'GFP_COLD=__GFP_COLD',
  'GFP_NOWARN=__GFP_NOWARN', 'GFP_REPEAT=__GFP_REPEAT', 'GFP_NOFAIL=__GFP_NOFAIL', 'GFP_NORETRY=__GFP_NORETRY',
  'GFP_COMP=__GFP_COMP', 'GFP_ZERO=__GFP_ZERO', 'GFP_NOMEMALLOC=__GFP_NOMEMALLOC',
  'GFP_HARDWALL=__GFP_HARDWALL', 'GFP_THISNODE=__GFP_THISNODE', 'GFP_RECLAIMABLE=__GFP_RECLAIMABLE',
  'GFP_MOVABLE=__GFP_MOVABLE',
];

/** 3.x (verified on a 3.4 tree) with GFP_MEMALLOC (3.6+) after GFP_NOMEMALLOC. */
const TABLE_3_0 = [
  'GFP_TRANSHUGE', 'GFP_HIGHUSER_MOVABLE', 'GFP_HIGHUSER', 'GFP_USER', 'GFP_TEMPORARY', 'GFP_KERNEL', 'GFP_NOFS',
  'GFP_ATOMIC', 'GFP_NOIO', 'GFP_HIGH=__GFP_HIGH', 'GFP_WAIT=__GFP_WAIT', 'GFP_IO=__GFP_IO', 'GFP_COLD=__GFP_COLD',
  'GFP_NOWARN=__GFP_NOWARN', 'GFP_REPEAT=__GFP_REPEAT', 'GFP_NOFAIL=__GFP_NOFAIL', 'GFP_NORETRY=__GFP_NORETRY',
  'GFP_COMP=__GFP_COMP', 'GFP_ZERO=__GFP_ZERO', 'GFP_NOMEMALLOC=__GFP_NOMEMALLOC', 'GFP_MEMALLOC=__GFP_MEMALLOC',
  'GFP_HARDWALL=__GFP_HARDWALL', 'GFP_THISNODE=__GFP_THISNODE', 'GFP_RECLAIMABLE=__GFP_RECLAIMABLE',
  'GFP_MOVABLE=__GFP_MOVABLE', 'GFP_NOTRACK=__GFP_NOTRACK', 'GFP_NO_KSWAPD=__GFP_NO_KSWAPD',
  'GFP_OTHER_NODE=__GFP_OTHER_NODE',
];

/**
 * 4.4 (Mel Gorman's reclaim-flag split edited the 3.x table in place): still `GFP_X` names and `GFP_NOWAIT`
 * for 0; `__GFP_ATOMIC` prints as `GFP_ATOMIC`, the same text as the composite.
 */
const TABLE_4_4 = [
  'GFP_TRANSHUGE', 'GFP_HIGHUSER_MOVABLE', 'GFP_HIGHUSER', 'GFP_USER', 'GFP_TEMPORARY', 'GFP_KERNEL', 'GFP_NOFS',
  'GFP_ATOMIC', 'GFP_NOIO', 'GFP_HIGH=__GFP_HIGH', 'GFP_ATOMIC=__GFP_ATOMIC', 'GFP_IO=__GFP_IO', 'GFP_COLD=__GFP_COLD',
  'GFP_NOWARN=__GFP_NOWARN', 'GFP_REPEAT=__GFP_REPEAT', 'GFP_NOFAIL=__GFP_NOFAIL', 'GFP_NORETRY=__GFP_NORETRY',
  'GFP_COMP=__GFP_COMP', 'GFP_ZERO=__GFP_ZERO', 'GFP_NOMEMALLOC=__GFP_NOMEMALLOC', 'GFP_MEMALLOC=__GFP_MEMALLOC',
  'GFP_HARDWALL=__GFP_HARDWALL', 'GFP_THISNODE=__GFP_THISNODE', 'GFP_RECLAIMABLE=__GFP_RECLAIMABLE',
  'GFP_MOVABLE=__GFP_MOVABLE', 'GFP_NOTRACK=__GFP_NOTRACK', 'GFP_DIRECT_RECLAIM=__GFP_DIRECT_RECLAIM',
  'GFP_KSWAPD_RECLAIM=__GFP_KSWAPD_RECLAIM', 'GFP_OTHER_NODE=__GFP_OTHER_NODE',
];

interface TableEra {
  transhugeLight: boolean;
  temporary: boolean;
  atomicBit: boolean;
  cold: boolean;
  retryName: '__GFP_REPEAT' | '__GFP_RETRY_MAYFAIL';
  notrack: boolean;
  otherNode: boolean;
  tail: readonly string[];
}

/** The table of 4.4 (gfpflags.h) through 6.14 (mmflags.h): composites first, then single bits by purpose. */
function classicTable(e: TableEra): string[] {
  const t = ['GFP_TRANSHUGE'];
  if (e.transhugeLight) t.push('GFP_TRANSHUGE_LIGHT');
  t.push('GFP_HIGHUSER_MOVABLE', 'GFP_HIGHUSER', 'GFP_USER');
  if (e.temporary) t.push('GFP_TEMPORARY');
  t.push('GFP_KERNEL_ACCOUNT', 'GFP_KERNEL', 'GFP_NOFS', 'GFP_ATOMIC', 'GFP_NOIO', 'GFP_NOWAIT', 'GFP_DMA',
    '__GFP_HIGHMEM', 'GFP_DMA32', '__GFP_HIGH');
  if (e.atomicBit) t.push('__GFP_ATOMIC');
  t.push('__GFP_IO', '__GFP_FS');
  if (e.cold) t.push('__GFP_COLD');
  t.push('__GFP_NOWARN', e.retryName, '__GFP_NOFAIL', '__GFP_NORETRY', '__GFP_COMP', '__GFP_ZERO', '__GFP_NOMEMALLOC',
    '__GFP_MEMALLOC', '__GFP_HARDWALL', '__GFP_THISNODE', '__GFP_RECLAIMABLE', '__GFP_MOVABLE', '__GFP_ACCOUNT');
  if (e.notrack) t.push('__GFP_NOTRACK');
  t.push('__GFP_WRITE', '__GFP_RECLAIM', '__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM');
  if (e.otherNode) t.push('__GFP_OTHER_NODE');
  t.push(...e.tail);
  return t;
}

/**
 * 6.15+ ("tracing: gfp: Remove duplication of recording GFP flags", Steven Rostedt): composites, then
 * __GFP_RECLAIM, then every bit in enum order — including the config-dependent ones, which `%pGg` now prints.
 */
const TABLE_6_15 = [
  'GFP_TRANSHUGE', 'GFP_TRANSHUGE_LIGHT', 'GFP_HIGHUSER_MOVABLE', 'GFP_HIGHUSER', 'GFP_USER', 'GFP_KERNEL_ACCOUNT',
  'GFP_KERNEL', 'GFP_NOFS', 'GFP_ATOMIC', 'GFP_NOIO', 'GFP_NOWAIT', 'GFP_DMA', 'GFP_DMA32', '__GFP_RECLAIM',
  '__GFP_DMA', '__GFP_HIGHMEM', '__GFP_DMA32', '__GFP_MOVABLE', '__GFP_RECLAIMABLE', '__GFP_HIGH', '__GFP_IO',
  '__GFP_FS', '__GFP_ZERO', '__GFP_DIRECT_RECLAIM', '__GFP_KSWAPD_RECLAIM', '__GFP_WRITE', '__GFP_NOWARN',
  '__GFP_RETRY_MAYFAIL', '__GFP_NOFAIL', '__GFP_NORETRY', '__GFP_MEMALLOC', '__GFP_COMP', '__GFP_NOMEMALLOC',
  '__GFP_HARDWALL', '__GFP_THISNODE', '__GFP_ACCOUNT', '__GFP_ZEROTAGS',
  '__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN?kasanHwTags', '__GFP_NOLOCKDEP?lockdep', '__GFP_NO_OBJ_EXT?slabObjExt',
];

// ---------------------------------------------------------------------------------------------------------
// The generations. Each spec is one distinct way of printing; `since`/`until` are inclusive releases.

const ABSENT_PRE_4_4: Record<string, string> = {
  __GFP_ATOMIC: 'added in 4.4', __GFP_DIRECT_RECLAIM: 'added in 4.4 (≤4.3: __GFP_WAIT)',
  __GFP_KSWAPD_RECLAIM: 'added in 4.4 (≤4.3: absence of __GFP_NO_KSWAPD)', __GFP_ACCOUNT: 'added in 4.5',
};
const ATOMIC_GONE = 'removed in 6.3 (GFP_ATOMIC became __GFP_HIGH|__GFP_KSWAPD_RECLAIM); bit 0x200 is unused since';

function specs(o: GfpLayoutOptions): Spec[] {
  const modern = (id: string, name: string, since: string, until: string | null, rest: Omit<Spec, 'id' | 'name' | 'since' | 'until'>): Spec =>
    ({ id, name, since, until, ...rest });
  const t44 = { transhugeLight: false, temporary: true, atomicBit: true, cold: true, retryName: '__GFP_REPEAT' as const, notrack: true, otherNode: true, tail: [] };
  const c44 = { atomicBit: true, temporary: true, transhugeLight: false, nowaitNowarn: false, highuserMovableExtra: [] };
  const t515 = { transhugeLight: true, temporary: false, atomicBit: true, cold: false, retryName: '__GFP_RETRY_MAYFAIL' as const, notrack: false, otherNode: false, tail: [] as string[] };
  const c415 = { atomicBit: true, temporary: false, transhugeLight: true, nowaitNowarn: false, highuserMovableExtra: [] as string[] };
  return [
    modern('2.6', 'Linux 2.6.x', '2.6.0', '2.6.39', {
      bits: BITS_2_6, composites: COMPOSITES_2_6, table: TABLE_2_6, traceZero: 'GFP_NOWAIT', reportNames: false,
      shortNames: true, allocRules: '2.6', absent: ABSENT_PRE_4_4,
      unverified: [
        'bits added during 2.6 (NO_KSWAPD 2.6.38, OTHER_NODE 2.6.39) are decoded in every 2.6 release',
        'these kernels printed no names in reports; the names are the kmem tracepoints\' table',
      ],
    }),
    modern('3.0', 'Linux 3.0–4.3', '3.0', '4.3', {
      bits: BITS_2_6, composites: COMPOSITES_2_6, table: TABLE_3_0, traceZero: 'GFP_NOWAIT', reportNames: false,
      shortNames: true, allocRules: '2.6', absent: ABSENT_PRE_4_4,
      unverified: [
        'one table for 3.0–4.3 (verified on 3.4, plus GFP_MEMALLOC of 3.6+); bits added meanwhile (WRITE 3.2, MEMALLOC 3.6) are decoded in every 3.x release',
        '0x100000 (__GFP_KMEMCG 3.8–3.14, __GFP_NOACCOUNT 4.1–4.3) is left unnamed',
        'these kernels printed no names in reports; the names are the tracepoints\' table',
      ],
    }),
    modern('4.4', 'Linux 4.4', '4.4', '4.4', {
      bits: BITS_4_4_ONLY, composites: modernComposites({ ...c44, kernelAccount: false }), table: TABLE_4_4,
      traceZero: 'GFP_NOWAIT', reportNames: false, shortNames: true, allocRules: '4.4',
      absent: { __GFP_WAIT: 'replaced by __GFP_DIRECT_RECLAIM in 4.4', __GFP_ACCOUNT: 'added in 4.5 (4.4 has __GFP_NOACCOUNT)', GFP_KERNEL_ACCOUNT: 'added in 4.5' },
      ambiguous: ['GFP_ATOMIC'],
      unverified: ['the 4.4 tracepoint table is reconstructed from the 4.4 patch to gfpflags.h'],
    }),
    modern('4.5', 'Linux 4.5', '4.5', '4.5', {
      bits: BITS_4_4, composites: modernComposites(c44), table: TABLE_4_4,
      traceZero: 'GFP_NOWAIT', reportNames: false, shortNames: true, allocRules: '4.4',
      absent: { __GFP_WAIT: 'replaced by __GFP_DIRECT_RECLAIM in 4.4' }, ambiguous: ['GFP_ATOMIC'],
      unverified: ['4.5 is taken to trace with the 4.4 table: "mm, tracing: make show_gfp_flags() up to date" came with the 4.6 series'],
    }),
    modern('4.6', 'Linux 4.6–4.7', '4.6', '4.7', {
      bits: BITS_4_4, composites: modernComposites(c44), table: classicTable(t44), traceZero: 'none', reportNames: true,
      allocRules: '4.4',
    }),
    modern('4.8', 'Linux 4.8–4.9', '4.8', '4.9', {
      bits: BITS_4_4, composites: modernComposites({ ...c44, transhugeLight: true }),
      table: classicTable({ ...t44, transhugeLight: true }), traceZero: 'none', reportNames: true, allocRules: '4.4',
    }),
    modern('4.10', 'Linux 4.10–4.12', '4.10', '4.12', {
      bits: bits410('REPEAT', o.lockdep), composites: modernComposites({ ...c44, transhugeLight: true }),
      table: classicTable({ ...t44, transhugeLight: true, otherNode: false }), traceZero: 'none', reportNames: true,
      allocRules: '4.4', absent: { __GFP_OTHER_NODE: 'removed in 4.10' },
      unverified: [
        '__GFP_OTHER_NODE removal ("mm: get rid of __GFP_OTHER_NODE", posted 2 Jan 2017) taken as 4.10; 4.11 possible',
        '__GFP_NOLOCKDEP exists from 4.12 only; it is an option here for 4.10–4.11 too',
      ],
    }),
    modern('4.13', 'Linux 4.13', '4.13', '4.13', {
      bits: bits410('RETRY_MAYFAIL', o.lockdep), composites: modernComposites({ ...c44, transhugeLight: true }),
      table: classicTable({ ...t44, transhugeLight: true, otherNode: false, retryName: '__GFP_RETRY_MAYFAIL' }),
      traceZero: 'none', reportNames: true, allocRules: '4.4', absent: { __GFP_REPEAT: 'renamed __GFP_RETRY_MAYFAIL in 4.13' },
    }),
    modern('4.14', 'Linux 4.14', '4.14', '4.14', {
      bits: bits410('RETRY_MAYFAIL', o.lockdep), composites: modernComposites({ ...c44, transhugeLight: true, temporary: false }),
      table: classicTable({ ...t44, transhugeLight: true, otherNode: false, retryName: '__GFP_RETRY_MAYFAIL', temporary: false }),
      traceZero: 'none', reportNames: true, allocRules: '4.4', absent: { GFP_TEMPORARY: 'removed in 4.14' },
    }),
    modern('4.15', 'Linux 4.15–4.17', '4.15', '4.17', {
      bits: BITS_4_15, composites: modernComposites(c415), table: classicTable(t515), traceZero: 'none', reportNames: true,
      allocRules: '4.4', absent: { __GFP_COLD: 'removed in 4.15', __GFP_NOTRACK: 'removed in 4.15 with kmemcheck' },
    }),
    modern('4.18', 'Linux 4.18–5.0', '4.18', '5.0', {
      bits: BITS_4_18, composites: modernComposites(c415), table: classicTable(t515), traceZero: 'none', reportNames: true,
      allocRules: '4.4', absent: { __GFP_COLD: 'removed in 4.15', __GFP_NOTRACK: 'removed in 4.15 with kmemcheck' },
      unverified: [
        'the gap filling ("fill the gaps by moving the existing gfp masks around", posted 16 May 2018) is taken to be first in 4.18',
        'the 5.x renumbering ("mm: shuffle GFP_* flags", posted 9 Jan 2019) is taken to be first in 5.1',
      ],
    }),
    modern('5.1', 'Linux 5.1–5.13', '5.1', '5.13', {
      bits: BITS_5_1, composites: modernComposites(c415), table: classicTable(t515), traceZero: 'none', reportNames: true,
      allocRules: '5.0',
    }),
    modern('5.14', 'Linux 5.14–5.17', '5.14', '5.17', {
      bits: BITS_5_14, composites: modernComposites({ ...c415, highuserMovableExtra: ['__GFP_SKIP_KASAN_POISON'] }),
      table: classicTable({ ...t515, tail: ['__GFP_ZEROTAGS', '__GFP_SKIP_KASAN_POISON'] }), traceZero: 'none',
      reportNames: true, allocRules: '5.0',
      unverified: ['__GFP_ZEROTAGS and __GFP_SKIP_KASAN_POISON first in 5.14 (verified in 5.15)', 'made config-dependent in 5.18'],
    }),
    modern('5.18', 'Linux 5.18–6.2', '5.18', '6.2', {
      bits: BITS_5_18,
      composites: modernComposites({ ...c415, highuserMovableExtra: ['__GFP_SKIP_KASAN_UNPOISON', '__GFP_SKIP_KASAN_POISON'] }),
      table: classicTable({ ...t515, tail: ['__GFP_ZEROTAGS'] }),
      traceExtra: ['__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN_POISON?kasanHwTags', '__GFP_SKIP_KASAN_UNPOISON?kasanHwTags'],
      traceZero: 'none', reportNames: true, allocRules: '5.10',
      unverified: ['first release of this layout (5.18) bracketed between 5.15 and 6.0'],
    }),
    modern('6.3', 'Linux 6.3', '6.3', '6.3', {
      bits: BITS_6_3_ONLY,
      composites: modernComposites({ ...c415, atomicBit: false, highuserMovableExtra: ['__GFP_SKIP_KASAN_UNPOISON', '__GFP_SKIP_KASAN_POISON'] }),
      table: classicTable({ ...t515, atomicBit: false, tail: ['__GFP_ZEROTAGS'] }),
      traceExtra: ['__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN_POISON?kasanHwTags', '__GFP_SKIP_KASAN_UNPOISON?kasanHwTags'],
      traceZero: 'none', reportNames: true, allocRules: '6.3', absent: { __GFP_ATOMIC: ATOMIC_GONE },
    }),
    modern('6.4', 'Linux 6.4–6.7', '6.4', '6.7', {
      bits: BITS_6_4,
      composites: modernComposites({ ...c415, atomicBit: false, highuserMovableExtra: ['__GFP_SKIP_KASAN'] }),
      table: classicTable({ ...t515, atomicBit: false, tail: ['__GFP_ZEROTAGS'] }),
      traceExtra: ['__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN?kasanHwTags'],
      traceZero: 'none', reportNames: true, allocRules: '6.3',
      absent: { __GFP_ATOMIC: ATOMIC_GONE, __GFP_SKIP_KASAN_POISON: 'merged into __GFP_SKIP_KASAN in 6.4', __GFP_SKIP_KASAN_UNPOISON: 'merged into __GFP_SKIP_KASAN in 6.4' },
    }),
    modern('6.8', 'Linux 6.8–6.9', '6.8', '6.9', {
      bits: BITS_6_4,
      composites: modernComposites({ ...c415, atomicBit: false, nowaitNowarn: true, highuserMovableExtra: ['__GFP_SKIP_KASAN'] }),
      table: classicTable({ ...t515, atomicBit: false, tail: ['__GFP_ZEROTAGS'] }),
      traceExtra: ['__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN?kasanHwTags'],
      traceZero: 'none', reportNames: true, allocRules: '6.3', absent: { __GFP_ATOMIC: ATOMIC_GONE },
      unverified: ['GFP_NOWAIT gained __GFP_NOWARN in 6.8 (commit posted Nov 2023; absent in 6.6, present in 6.12)'],
    }),
    modern('6.10', 'Linux 6.10–6.14', '6.10', '6.14', {
      bits: bitsEnum(o),
      composites: modernComposites({ ...c415, atomicBit: false, nowaitNowarn: true, highuserMovableExtra: ['__GFP_SKIP_KASAN'] }),
      table: classicTable({ ...t515, atomicBit: false, tail: ['__GFP_ZEROTAGS'] }),
      traceExtra: ['__GFP_SKIP_ZERO?kasanHwTags', '__GFP_SKIP_KASAN?kasanHwTags'],
      traceZero: 'none', reportNames: true, allocRules: '6.3', absent: { __GFP_ATOMIC: ATOMIC_GONE },
    }),
    modern('6.15', 'Linux 6.15 and later', '6.15', null, {
      bits: bitsEnum(o),
      composites: modernComposites({ ...c415, atomicBit: false, nowaitNowarn: true, highuserMovableExtra: ['__GFP_SKIP_KASAN'] }),
      table: TABLE_6_15, traceZero: 'none', reportNames: true, allocRules: '6.12', absent: { __GFP_ATOMIC: ATOMIC_GONE },
      unverified: ['the table order of 6.15+ is checked against real 6.18/6.19 reports only where they disambiguate'],
    }),
  ];
}

/** Alloc rule changes that do not change the bit layout. */
export function allocRulesFor(id: string, version: readonly [number, number, number]): AllocRules {
  const [maj, min] = version;
  const v = maj * 1000 + min;
  if (v < 4004) return '2.6';
  if (v < 4016) return '4.4';
  if (v < 5000) return '4.16';
  if (v < 5010) return '5.0';
  if (v < 6003) return '5.10';
  if (v < 6012) return '6.3';
  void id;
  return '6.12';
}

// ---------------------------------------------------------------------------------------------------------
// Building.

function optionOn(o: GfpLayoutOptions, opt: Opt | undefined): boolean {
  return opt === undefined || o[opt];
}

function splitConditional(entry: string): [string, Opt | undefined] {
  const q = entry.indexOf('?');
  return q < 0 ? [entry, undefined] : [entry.slice(0, q), entry.slice(q + 1) as Opt];
}

function build(spec: Spec, o: GfpLayoutOptions): GfpLayout {
  const all: Record<string, number> = {};
  const bits: Record<string, number> = {};
  const optionNames = new Set<Opt>();
  let kernelMask = 0;
  for (const [short, value, opt] of spec.bits) {
    if (opt !== undefined) optionNames.add(opt);
    const name = `__GFP_${short}`;
    const v = optionOn(o, opt) ? value : 0;
    all[name] = v;
    if (v !== 0) {
      bits[name] = v;
      kernelMask = (kernelMask | v) >>> 0;
    }
  }
  // Flags that exist only with an option are 0 in the kernel without it; keep them resolvable (value 0).
  for (const [short, , opt] of [...spec.bits]) if (!optionOn(o, opt)) all[`__GFP_${short}`] = 0;
  const valueOf = (n: string): number => {
    const v = all[n];
    if (v === undefined) {
      // A member that does not exist in this generation (e.g. __GFP_SKIP_KASAN_POISON before 5.14) is 0.
      return 0;
    }
    return v;
  };
  for (const [name, members, minus] of spec.composites) {
    let v = 0;
    for (const m of members) v |= valueOf(m);
    if (minus) for (const m of minus) v &= ~valueOf(m);
    all[name] = v >>> 0;
  }
  const mkTable = (entries: readonly string[]): GfpName[] => {
    const out: GfpName[] = [];
    for (const e of entries) {
      const [entry, opt] = splitConditional(e);
      if (opt !== undefined) {
        optionNames.add(opt);
        if (!o[opt]) continue;
      }
      const eq = entry.indexOf('=');
      const display = eq < 0 ? entry : entry.slice(0, eq);
      const flag = eq < 0 ? entry : entry.slice(eq + 1);
      const mask = all[flag];
      if (mask === undefined) throw new Error(`layout ${spec.id}: table names unknown flag ${flag}`);
      out.push({ name: display, mask });
    }
    out.push({ name: GFP_EXCL_NAME, mask: GFP_EXCL_BIT });
    return out;
  };
  const table = mkTable(spec.table);
  const traceTable = spec.traceExtra === undefined ? table : [...mkTable(spec.table).slice(0, -1), ...mkTable(spec.traceExtra)];
  const flags: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) if (v !== 0) flags[k] = v;
  flags[GFP_EXCL_NAME] = GFP_EXCL_BIT;
  for (const e of table) if (e.mask !== 0 && flags[e.name] === undefined) flags[e.name] = e.mask;
  const suffix = Object.entries(o).filter(([k, v]) => optionNames.has(k as Opt) && v !== (DEFAULT_GFP_OPTIONS as GfpLayoutOptions)[k as Opt]);
  return {
    id: spec.id,
    name: suffix.length === 0 ? spec.name : `${spec.name} (${suffix.map(([k, v]) => `${v ? '+' : '-'}${k}`).join(', ')})`,
    since: spec.since,
    until: spec.until,
    flags,
    bits,
    table,
    traceTable,
    traceZero: spec.traceZero,
    reportNames: spec.reportNames,
    shortNames: spec.shortNames === true,
    allocRules: spec.allocRules,
    options: Object.freeze({ ...o }),
    optionNames: [...optionNames],
    kernelMask,
    zeroNames: Object.entries(all).filter(([, v]) => v === 0).map(([k]) => k),
    absent: spec.absent ?? {},
    ambiguousNames: spec.ambiguous ?? [],
    unverified: spec.unverified ?? [],
  };
}

const cache = new Map<string, GfpLayout[]>();

/** Every layout, oldest first, for the given config options. */
export function allLayouts(options: Partial<GfpLayoutOptions> = {}): readonly GfpLayout[] {
  const o: GfpLayoutOptions = { ...DEFAULT_GFP_OPTIONS, ...options };
  const key = `${+o.lockdep}${+o.kasanHwTags}${+o.slabObjExt}${+o.kmemcheck}`;
  let list = cache.get(key);
  if (list === undefined) {
    list = specs(o).map((s) => build(s, o));
    cache.set(key, list);
  }
  return list;
}

/** Every name any layout knows (to tell "absent in this version" from "unknown"). */
export function everyFlagName(): ReadonlySet<string> {
  const s = new Set<string>();
  for (const l of allLayouts({ lockdep: true, kasanHwTags: true, slabObjExt: true, kmemcheck: true })) {
    for (const n of Object.keys(l.flags)) s.add(n);
    for (const e of l.table) s.add(e.name);
    for (const e of l.traceTable) s.add(e.name);
  }
  return s;
}
