/**
 * Building a machine: from a RAM size (the qemu `pc` layout of the captured Debian 6.1 kernel) or from a real
 * /proc/zoneinfo, then sizing its watermarks, lowmem_reserve and per-CPU lists.
 * @kernel mm/page_alloc.c free_area_init_core, calc_memmap_size, init_per_zone_wmark_min (6.1);
 *         mm/huge_memory.c hugepage_init; mm/khugepaged.c set_recommended_min_free_kbytes
 */
import { BadInputError } from '../errors.ts';
import {
  MAX_NR_ZONES, PAGE_SHIFT, PAGE_SIZE, ZONE_DMA, ZONE_DMA32, ZONE_NAMES, ZONE_NORMAL, WMARK_LOW,
} from '../mm/constants.ts';
import { parseZoneinfo, type Zoneinfo } from '../stats/zoneinfo.ts';
import type { MachineSpec, VmTunables, ZoneSpec, ZoneWatermarks } from './types.ts';
import {
  bootMinFreeKbytes, calculateMinFreeKbytes, calculateNormalThreshold, calculateTotalreservePages,
  nrFreeBufferPages, setupPerZoneLowmemReserve, setupPerZoneWmarks, thpEnabledByDefault, zoneBatchsize,
  zoneHighsize, type SetupRules, type Wmarks, type ZoneSizes,
} from './wmark_setup.ts';

/** Options shared by both ways of building a machine. Unset tunables take the kernel's defaults. */
export interface MachineOptions {
  /** CPUs of the (single) node; the captures ran with one. */
  nrCpus?: number;
  /** Force THP on or off; by default on unless totalram < 512 MiB, as hugepage_init decides. */
  thp?: boolean;
  minFreeKbytes?: number;
  watermarkScaleFactor?: number;
  watermarkBoostFactor?: number;
  lowmemReserveRatio?: number[];
  percpuPagelistHighFraction?: number;
}

export const DEFAULT_WATERMARK_SCALE_FACTOR = 10;
export const DEFAULT_WATERMARK_BOOST_FACTOR = 15000;
export const DEFAULT_LOWMEM_RESERVE_RATIO: readonly number[] = [256, 256, 32, 0, 0];

const PAGES_PER_MIB = 1 << (20 - PAGE_SHIFT);
const PFN_1M = 1 << (20 - PAGE_SHIFT);
const PFN_16M = 16 << (20 - PAGE_SHIFT);
const PFN_4G = 4 * 1024 * PAGES_PER_MIB;
/** SPARSEMEM section: 128 MiB on x86_64. */
const PAGES_PER_SECTION = 1 << (27 - PAGE_SHIFT);
const STRUCT_PAGE_BYTES = 64;

/**
 * The reserved-page model of a `--mem` machine: every component named after what reserves it, sized from the
 * captured boots (linux-6.1-qemu 512M, 1024M, 2048M, 4096M, 8192M reproduce managed exactly).
 */
export const QEMU_PC_LAYOUT = {
  /** pfn 0 is turned from usable into reserved by the kernel (e820 update), so node 0 starts at pfn 1. */
  firstPfn: 1,
  /** The first e820 RAM range ends at 0x9fc00: pfns 1..0x9e are present. */
  lowRamEndPfn: 0x9f,
  /** SeaBIOS keeps the top 0x23000 bytes of low RAM (ACPI tables) as e820 reserved. */
  lowRamTopReservedPages: 0x23,
  /** qemu pc: from 3.5 GiB of RAM up, low RAM stops at 3 GiB and the rest starts at 4 GiB. */
  splitAtBytes: 0xe0000000,
  lowRamBytesWhenSplit: 0xc0000000,
  /** Kernel image (text, rodata, data, bss at 16 MiB) and the other fixed early bottom-up reservations. */
  lowFixedPages: 11318,
  /** Fixed early top-down reservations (NODE_DATA, percpu first chunk, page tables, memblock arrays …). */
  topDownFixedPages: 122,
  /** swiotlb bounce buffer (64 MiB below 4 GiB), set up when RAM extends above 4 GiB … */
  swiotlbPages: 16384,
  /** … and its slot metadata, allocated top-down. */
  swiotlbMetaPages: 195,
  /**
   * Pages reserved at the initcalls that size min_free_kbytes and freed later: initrd (1416K), unused
   * decrypted memory (2036K), __init text/data (2824K) and the two section gaps (2040K + 1108K).
   */
  bootFreedPages: 354 + 509 + 706 + 510 + 277,
} as const;

/** "512M", "1G", "64G", "1.5G", "4096" (MiB), "2097152K" → bytes. */
export function parseMemSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*$/i.exec(String(s));
  if (!m) throw new BadInputError('BAD_MEM_SIZE', `Cannot parse memory size "${s}": expected e.g. 512M, 1G, 64G`);
  const unit = (m[2] ?? 'M').toUpperCase()[0]!;
  const mult = unit === 'B' ? 1 : unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1024 ** 4;
  const bytes = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(bytes)) throw new BadInputError('BAD_MEM_SIZE', `Cannot use memory size "${s}": too large`);
  return bytes;
}

function fullTunables(o: MachineOptions, minFreeKbytes: number): VmTunables {
  const ratio = o.lowmemReserveRatio ?? [...DEFAULT_LOWMEM_RESERVE_RATIO];
  return {
    minFreeKbytes,
    watermarkScaleFactor: o.watermarkScaleFactor ?? DEFAULT_WATERMARK_SCALE_FACTOR,
    watermarkBoostFactor: o.watermarkBoostFactor ?? DEFAULT_WATERMARK_BOOST_FACTOR,
    lowmemReserveRatio: Array.from({ length: MAX_NR_ZONES }, (_, i) => ratio[i] ?? 0),
    percpuPagelistHighFraction: o.percpuPagelistHighFraction ?? 0,
  };
}

function checkOptions(o: MachineOptions): void {
  const nonNeg = (v: number | undefined, name: string, max = 2 ** 31 - 1): void => {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > max)) {
      throw new BadInputError('BAD_TUNABLE', `Cannot use ${name} ${v}: expected an integer 0..${max}`);
    }
  };
  nonNeg(o.minFreeKbytes, 'min_free_kbytes');
  // sysctl ranges: watermark_scale_factor 1..3000, lowmem_reserve_ratio entries >= 0
  if (o.watermarkScaleFactor !== undefined && (!Number.isInteger(o.watermarkScaleFactor) || o.watermarkScaleFactor < 1 || o.watermarkScaleFactor > 3000)) {
    throw new BadInputError('BAD_TUNABLE', `Cannot use watermark_scale_factor ${o.watermarkScaleFactor}: the kernel accepts 1..3000`);
  }
  nonNeg(o.watermarkBoostFactor, 'watermark_boost_factor');
  nonNeg(o.percpuPagelistHighFraction, 'percpu_pagelist_high_fraction');
  if (o.percpuPagelistHighFraction !== undefined && o.percpuPagelistHighFraction !== 0 && o.percpuPagelistHighFraction < 8) {
    throw new BadInputError('BAD_TUNABLE', 'Cannot use percpu_pagelist_high_fraction below 8 (except 0): the kernel refuses it');
  }
  if (o.lowmemReserveRatio !== undefined) {
    for (const r of o.lowmemReserveRatio) nonNeg(r, 'lowmem_reserve_ratio entry');
  }
  if (o.nrCpus !== undefined && (!Number.isInteger(o.nrCpus) || o.nrCpus < 1 || o.nrCpus > 8192)) {
    throw new BadInputError('BAD_TUNABLE', `Cannot use ${o.nrCpus} CPUs: expected 1..8192`);
  }
}

/** A `"256 256 32 0 0"` string as the sysctl takes it. */
export function parseLowmemReserveRatio(s: string): number[] {
  const parts = String(s).trim().split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0 || parts.length > MAX_NR_ZONES || parts.some((p) => !/^\d+$/.test(p))) {
    throw new BadInputError('BAD_TUNABLE', `Cannot parse lowmem_reserve_ratio "${s}": expected up to ${MAX_NR_ZONES} integers like "256 256 32 0 0"`);
  }
  return parts.map(Number);
}

function zoneSizes(zones: readonly ZoneSpec[], atBoot = false): ZoneSizes[] {
  return zones.map((z) => ({
    node: z.node, zoneIdx: z.zoneIdx, present: z.present,
    managed: atBoot ? (z.managedAtBoot ?? z.managed) : z.managed,
  }));
}

/** Σ managed over all zones (totalram_pages). */
export function totalramPages(spec: Pick<MachineSpec, 'zones'>, atBoot = false): number {
  let s = 0;
  for (const z of spec.zones) s += atBoot ? (z.managedAtBoot ?? z.managed) : z.managed;
  return s;
}

function finish(zones: ZoneSpec[], o: MachineOptions): MachineSpec {
  checkOptions(o);
  const thp = o.thp ?? thpEnabledByDefault(totalramPages({ zones }, true));
  const minFree = o.minFreeKbytes
    ?? bootMinFreeKbytes(zoneSizes(zones, true), thp, o.watermarkScaleFactor ?? DEFAULT_WATERMARK_SCALE_FACTOR).minFreeKbytes;
  return { nrNodes: 1 + Math.max(...zones.map((z) => z.node)), nrCpus: o.nrCpus ?? 1, thp, zones, tunables: fullTunables(o, minFree) };
}

function emptyZone(node: number, zoneIdx: number): ZoneSpec {
  return { node, zoneIdx, startPfn: 0, spanned: 0, present: 0, managed: 0 };
}

/** Sort and coalesce [start, end) ranges. */
function mergeRanges(r: Array<[number, number]>): Array<[number, number]> {
  const s = r.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of s) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Hash buckets alloc_large_system_hash sizes from nr_kernel_pages, as pages of a memblock allocation. */
function earlyHashPages(nrKernelPages: number, scale: number, bucketBytes: number): number {
  let n = Math.ceil(nrKernelPages / 256) * 256; // round up to 1 MiB of pages
  n = Math.floor(n / 2 ** (scale - PAGE_SHIFT));
  if (n * bucketBytes < 4096) n = Math.floor(4096 / bucketBytes);
  let p = 1;
  while (p < n) p *= 2;
  return Math.ceil((p * bucketBytes) / 4096);
}

/** memmap pages free_area_init_core charges to a zone (6.1 calc_memmap_size). */
function calcMemmapSize(spanned: number, present: number): number {
  const pages = spanned > present + Math.floor(present / 16) ? present : spanned;
  return Math.ceil((pages * STRUCT_PAGE_BYTES) / 4096);
}

/**
 * A machine of `mem` bytes of RAM laid out as qemu's `pc` machine lays it out, with the reserved pages of the
 * captured Debian 6.1 kernel (see QEMU_PC_LAYOUT): DMA below 16 MiB, DMA32 below 4 GiB, Normal above.
 * Every zone of node 0 is listed (MAX_NR_ZONES, in zone_type order), empty ones with zero pages.
 */
export function machineFromMem(mem: string | number, o: MachineOptions = {}): MachineSpec {
  const L = QEMU_PC_LAYOUT;
  const bytes = typeof mem === 'number' ? mem : parseMemSize(mem);
  if (bytes < 64 * 1024 * 1024) throw new BadInputError('BAD_MEM_SIZE', `Cannot build a machine of ${bytes} bytes: at least 64M is needed`);
  if (bytes > 2 ** 46) throw new BadInputError('BAD_MEM_SIZE', `Cannot build a machine of ${bytes} bytes: at most 64T`);
  if (bytes % PAGE_SIZE !== 0) throw new BadInputError('BAD_MEM_SIZE', 'Cannot build the machine: the size must be a multiple of 4K');
  const lowBytes = bytes >= L.splitAtBytes ? L.lowRamBytesWhenSplit : bytes;
  const highPages = (bytes - lowBytes) / PAGE_SIZE;
  const lowUsableEnd = lowBytes / PAGE_SIZE - L.lowRamTopReservedPages;
  // present ranges [start, end) of memblock.memory
  const ranges: Array<[number, number]> = [[L.firstPfn, L.lowRamEndPfn], [PFN_1M, lowUsableEnd]];
  if (highPages > 0) ranges.push([PFN_4G, PFN_4G + highPages]);
  const nodeStart = L.firstPfn;
  const nodeEnd = ranges[ranges.length - 1]![1];
  const bounds: Array<[number, number]> = [[0, PFN_16M], [PFN_16M, PFN_4G], [PFN_4G, Number.MAX_SAFE_INTEGER]];
  const zones: ZoneSpec[] = [];
  for (let zi = 0; zi < MAX_NR_ZONES; zi++) {
    if (zi > ZONE_NORMAL) { zones.push(emptyZone(0, zi)); continue; }
    const [lo, hi] = bounds[zi]!;
    const start = Math.max(lo, nodeStart);
    const end = Math.min(hi, nodeEnd);
    if (end <= start) { zones.push(emptyZone(0, zi)); continue; }
    let present = 0;
    const holes: Array<[number, number]> = [];
    let cursor = start;
    for (const [a, b] of ranges) {
      const s = Math.max(a, start), e = Math.min(b, end);
      if (e <= s) continue;
      if (s > cursor) holes.push([cursor, s]);
      present += e - s;
      cursor = e;
    }
    if (cursor < end) holes.push([cursor, end]);
    if (present === 0) { zones.push(emptyZone(0, zi)); continue; }
    zones.push({ node: 0, zoneIdx: zi, startPfn: start, spanned: end - start, present, managed: present, holes });
  }
  // nr_kernel_pages: present minus the memmap estimate, over the low-memory zones (all of them on x86_64)
  let nrKernelPages = 0;
  for (const z of zones) if (z.present > 0) nrKernelPages += z.present - calcMemmapSize(z.spanned, z.present);
  const sections = new Set<number>();
  for (const [a, b] of ranges) {
    for (let s = Math.floor(a / PAGES_PER_SECTION); s <= Math.floor((b - 1) / PAGES_PER_SECTION); s++) sections.add(s);
  }
  const swiotlb = highPages > 0;
  const topDown = sections.size * ((PAGES_PER_SECTION * STRUCT_PAGE_BYTES) >> PAGE_SHIFT)
    + earlyHashPages(nrKernelPages, 13, 8) // dentry cache
    + earlyHashPages(nrKernelPages, 14, 8) // inode cache
    + L.topDownFixedPages + (swiotlb ? L.swiotlbMetaPages : 0);
  const reserved: Array<Array<[number, number]>> = zones.map(() => []);
  const reserve = (zi: number, start: number, pages: number): void => {
    const z = zones[zi]!;
    if (z.managed < pages) throw new BadInputError('BAD_MEM_SIZE', `Cannot build the machine: ${ZONE_NAMES[zi]} is too small for the kernel's reservations`);
    z.managed -= pages;
    reserved[zi]!.push([start, start + pages]);
  };
  // Where each reservation sits: the first megabyte (x86 keeps it all), the kernel image from 16 MiB up,
  // swiotlb at the top of low RAM, and the top-down memblock allocations at the top of the highest zone.
  reserve(ZONE_DMA, L.firstPfn, L.lowRamEndPfn - L.firstPfn);
  reserve(ZONE_DMA32, PFN_16M, L.lowFixedPages);
  if (swiotlb) {
    reserve(ZONE_DMA32, lowUsableEnd - L.swiotlbPages, L.swiotlbPages);
    reserve(ZONE_NORMAL, nodeEnd - topDown, topDown);
  } else {
    reserve(ZONE_DMA32, lowUsableEnd - topDown, topDown);
  }
  zones.forEach((z, zi) => {
    if (z.present === 0) return;
    z.unavailable = mergeRanges([...(z.holes ?? []), ...reserved[zi]!]);
    const n = z.unavailable.reduce((a, [x, y]) => a + y - x, 0);
    if (n !== z.spanned - z.managed) throw new BadInputError('BAD_MEM_SIZE', `Cannot build the machine: reservations of ${ZONE_NAMES[zi]} overlap`);
  });
  for (const z of zones) if (z.present > 0) z.managedAtBoot = z.managed;
  zones[ZONE_DMA32]!.managedAtBoot = zones[ZONE_DMA32]!.managed - L.bootFreedPages;
  return finish(zones, o);
}

const ZONE_IDX_BY_NAME: Record<string, number> = { DMA: 0, DMA32: 1, Normal: 2, Movable: 3, Device: 4 };

/** One zone's sizes as /proc/zoneinfo prints them; `managedAtBoot` = managed when the boot watermarks were sized. */
export interface ZoneSizeInput {
  node?: number;
  /** Printed zone name: DMA, DMA32, Normal, Movable, Device */
  zone: string;
  startPfn?: number;
  spanned: number;
  present: number;
  managed?: number;
  /** Managed pages before init memory was freed (boot watermarks); default: managed. */
  managedAtBoot?: number;
}

/**
 * A machine with the zones of a real /proc/zoneinfo: same nodes, zones, start_pfn, spanned, present and managed.
 * Unless given, min_free_kbytes is what the kernel would compute for these managed counts (the square root,
 * then THP's recommended value when THP is on); the file's own watermarks are not used.
 */
export function machineFromZoneinfo(src: string | Zoneinfo, o: MachineOptions = {}): MachineSpec {
  const info = typeof src === 'string' ? parseZoneinfo(src) : src;
  return machineFromZoneSizes(info.zones, o);
}

/** A machine from per-zone sizes (machineFromZoneinfo's input, or a scenario's `machine.zones`). */
export function machineFromZoneSizes(input: readonly ZoneSizeInput[], o: MachineOptions = {}): MachineSpec {
  const zones: ZoneSpec[] = [];
  const nodes = new Set<number>();
  for (const z of input) {
    const zi = ZONE_IDX_BY_NAME[z.zone];
    if (zi === undefined) throw new BadInputError('ZONEINFO_UNKNOWN_ZONE', `Cannot model zone "${z.zone}": only x86_64 zones (DMA, DMA32, Normal, Movable, Device) are supported`);
    const sizes = [z.spanned, z.present, z.managed ?? z.present, z.managedAtBoot ?? z.managed ?? z.present, z.startPfn ?? 0];
    if (sizes.some((n) => !Number.isInteger(n) || n < 0)) {
      throw new BadInputError('ZONEINFO_BAD_SIZES', `Cannot model zone ${z.zone}: start_pfn, spanned, present and managed must be whole numbers ≥ 0`);
    }
    if (z.present > z.spanned || (z.managed ?? z.present) > z.present || (z.managedAtBoot ?? 0) > z.present) {
      throw new BadInputError('ZONEINFO_BAD_SIZES', `Cannot model zone ${z.zone}: needs managed <= present <= spanned`);
    }
    const node = z.node ?? 0;
    nodes.add(node);
    const spec: ZoneSpec = { node, zoneIdx: zi, startPfn: z.startPfn ?? 0, spanned: z.spanned, present: z.present, managed: z.managed ?? z.present };
    if (z.managedAtBoot !== undefined) spec.managedAtBoot = z.managedAtBoot;
    zones.push(spec);
  }
  // make every node list all zones in zone_type order
  const full: ZoneSpec[] = [];
  for (const n of [...nodes].sort((a, b) => a - b)) {
    for (let zi = 0; zi < MAX_NR_ZONES; zi++) {
      const found = zones.filter((z) => z.node === n && z.zoneIdx === zi);
      if (found.length > 1) throw new BadInputError('ZONEINFO_DUPLICATE_ZONE', `Cannot model node ${n}: zone ${ZONE_NAMES[zi]} appears twice`);
      full.push(found[0] ?? emptyZone(n, zi));
    }
  }
  return finish(full, o);
}

/** Everything setup computes from a spec: per-zone watermarks and pcp sizes, and totalreserve_pages. */
export interface ZoneSetup {
  zones: ZoneWatermarks[];
  totalreservePages: number;
  /** "vm stats threshold" per zone (for zoneinfo). */
  statThreshold: number[];
}

/**
 * Watermarks (min/low/high/promo), lowmem_reserve, pcp batch/high and totalreserve_pages of every zone of a spec,
 * from its tunables. Pure: call again after a sysctl write (without `boot`: a write recomputes from the current
 * managed counts, which is what the wmgrid captures show). With `boot: true`, the watermarks a freshly booted
 * kernel still has (sized before the initrd and __init memory were freed).
 * @kernel mm/page_alloc.c setup_per_zone_wmarks, setup_per_zone_lowmem_reserve, zone_pcp_update (6.1)
 */
export function computeZoneSetup(spec: MachineSpec, opts: { rules?: SetupRules; boot?: boolean } = {}): ZoneSetup {
  const rules = opts.rules ?? 'v6.1';
  const sizes = zoneSizes(spec.zones);
  // A freshly booted kernel keeps the watermarks (and the pcp high derived from them) it sized at its initcalls,
  // from the managed counts of that moment; lowmem_reserve shows the final managed counts (as 00_boot does).
  const w = setupPerZoneWmarks(opts.boot === true ? zoneSizes(spec.zones, true) : sizes,
    spec.tunables.minFreeKbytes, spec.tunables.watermarkScaleFactor, rules);
  const lr = setupPerZoneLowmemReserve(sizes, spec.tunables.lowmemReserveRatio, rules);
  const cpusOfNode = spec.nrCpus; // one node holds every CPU
  const zones = spec.zones.map((z, k): ZoneWatermarks => {
    const batch = zoneBatchsize(z.managed);
    return {
      wmark: w[k] as Wmarks,
      lowmemReserve: lr[k]!,
      pcpBatch: batch,
      pcpHigh: zoneHighsize(w[k]![WMARK_LOW], z.managed, batch, cpusOfNode, spec.tunables.percpuPagelistHighFraction),
    };
  });
  return {
    zones,
    totalreservePages: calculateTotalreservePages(sizes, w, lr),
    statThreshold: spec.zones.map((z) => calculateNormalThreshold(z.managed, spec.nrCpus)),
  };
}

/** The square-root min_free_kbytes for a spec's current managed counts (what a hotplug event would recompute). */
export function defaultMinFreeKbytesFor(spec: MachineSpec): number {
  return calculateMinFreeKbytes(nrFreeBufferPages(zoneSizes(spec.zones)));
}

