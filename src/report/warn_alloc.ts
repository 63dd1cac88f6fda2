/**
 * The "page allocation failure" report, in Linux 6.1's exact text, and its rate limit.
 * @kernel mm/page_alloc.c warn_alloc, show_free_areas (6.1), lib/ratelimit.c ___ratelimit, mm/swap_state.c show_swap_cache_info
 *
 * The renderer takes plain numbers (pages, as the kernel keeps them) and prints what the kernel prints,
 * converting to kB where it does. The stack dump is not simulated: in its place we print a `CPU:` line,
 * a `Hardware name:` line naming the simulator and a `Call Trace:` of the simulated path (see
 * docs/pressure.md), so that parsers that look for those anchors still find them.
 */
import { MAX_ORDER, MIGRATETYPE_LETTERS, PAGE_SHIFT, ZONE_NAMES } from '../mm/constants.ts';

/** K(x): pages to kB. */
export function K(pages: number): number {
  return pages * (1 << (PAGE_SHIFT - 10));
}

/** The global Mem-Info numbers (pages). */
export interface MemInfoGlobal {
  activeAnon: number; inactiveAnon: number; isolatedAnon: number;
  activeFile: number; inactiveFile: number; isolatedFile: number;
  unevictable: number; dirty: number; writeback: number;
  slabReclaimable: number; slabUnreclaimable: number;
  mapped: number; shmem: number; pagetables: number;
  secPagetables: number; bounce: number;
  kernelMiscReclaimable: number;
  free: number; freePcp: number; freeCma: number;
}

/** Per-node numbers (pages; printed in kB). */
export interface MemInfoNode {
  node: number;
  activeAnon: number; inactiveAnon: number; activeFile: number; inactiveFile: number; unevictable: number;
  isolatedAnon: number; isolatedFile: number; mapped: number; dirty: number; writeback: number; shmem: number;
  shmemThp: number; shmemPmdmapped: number; anonThp: number; writebackTmp: number;
  /** kernel stack in kB (NR_KERNEL_STACK_KB is kept in kB by the kernel) */
  kernelStackKb: number;
  pagetables: number; secPagetables: number;
  /** pgdat->kswapd_failures >= MAX_RECLAIM_RETRIES */
  allUnreclaimable: boolean;
}

/** Per-zone numbers (pages), for populated zones. */
export interface MemInfoZone {
  node: number;
  /** ZONE_DMA, ZONE_DMA32, ZONE_NORMAL, … */
  zoneIdx: number;
  free: number;
  /** zone->watermark_boost */
  boost: number;
  /** _watermark[MIN/LOW/HIGH] without the boost; the report adds the boost as the kernel does */
  wmarkMin: number; wmarkLow: number; wmarkHigh: number;
  reservedHighatomic: number;
  activeAnon: number; inactiveAnon: number; activeFile: number; inactiveFile: number; unevictable: number;
  writePending: number; present: number; managed: number; mlocked: number; bounce: number;
  freePcp: number; localPcp: number; freeCma: number;
  /** lowmem_reserve[0..MAX_NR_ZONES-1] */
  lowmemReserve: number[];
  /** free_area[order].nr_free, order 0..MAX_ORDER-1 */
  nrFree: number[];
  /** bit mt set when free_area[order].free_list[mt] is non-empty */
  typesMask: number[];
}

export interface MemInfoTotals {
  /** per node: hugepages_total / free / surp and the hstate size in kB (one hstate: 2048 kB on x86_64 without pdpe1gb) */
  hugepages: Array<{ node: number; total: number; free: number; surp: number; sizeKb: number }>;
  totalPagecache: number;
  swapCache: number;
  freeSwapKb: number;
  totalSwapKb: number;
  pagesRam: number;
  pagesHighMemMovableOnly: number;
  pagesReserved: number;
  pagesHwpoisoned: number;
}

export interface ShowMemInput {
  global: MemInfoGlobal;
  nodes: MemInfoNode[];
  zones: MemInfoZone[];
  totals: MemInfoTotals;
  /** CONFIG_NUMA: prefix zone lines with "Node N " (Debian's 6.1 has NUMA=y) */
  numa: boolean;
}

/** show_migration_types(): letters of the non-empty lists, in migratetype order. */
export function migrationTypeLetters(mask: number): string {
  let s = '';
  for (let mt = 0; mt < MIGRATETYPE_LETTERS.length; mt++) if (mask & (1 << mt)) s += MIGRATETYPE_LETTERS[mt];
  return s;
}

/** show_free_areas() / __show_mem() of 6.1, from "Mem-Info:" to "pages hwpoisoned". */
export function renderShowMem(m: ShowMemInput): string[] {
  const g = m.global;
  const out: string[] = ['Mem-Info:'];
  out.push(`active_anon:${g.activeAnon} inactive_anon:${g.inactiveAnon} isolated_anon:${g.isolatedAnon}`);
  out.push(` active_file:${g.activeFile} inactive_file:${g.inactiveFile} isolated_file:${g.isolatedFile}`);
  out.push(` unevictable:${g.unevictable} dirty:${g.dirty} writeback:${g.writeback}`);
  out.push(` slab_reclaimable:${g.slabReclaimable} slab_unreclaimable:${g.slabUnreclaimable}`);
  out.push(` mapped:${g.mapped} shmem:${g.shmem} pagetables:${g.pagetables}`);
  out.push(` sec_pagetables:${g.secPagetables} bounce:${g.bounce}`);
  out.push(` kernel_misc_reclaimable:${g.kernelMiscReclaimable}`);
  out.push(` free:${g.free} free_pcp:${g.freePcp} free_cma:${g.freeCma}`);
  for (const n of m.nodes) {
    out.push(`Node ${n.node} active_anon:${K(n.activeAnon)}kB inactive_anon:${K(n.inactiveAnon)}kB`
      + ` active_file:${K(n.activeFile)}kB inactive_file:${K(n.inactiveFile)}kB unevictable:${K(n.unevictable)}kB`
      + ` isolated(anon):${K(n.isolatedAnon)}kB isolated(file):${K(n.isolatedFile)}kB mapped:${K(n.mapped)}kB`
      + ` dirty:${K(n.dirty)}kB writeback:${K(n.writeback)}kB shmem:${K(n.shmem)}kB`
      + ` shmem_thp: ${K(n.shmemThp)}kB shmem_pmdmapped: ${K(n.shmemPmdmapped)}kB anon_thp: ${K(n.anonThp)}kB`
      + ` writeback_tmp:${K(n.writebackTmp)}kB kernel_stack:${n.kernelStackKb}kB pagetables:${K(n.pagetables)}kB`
      + ` sec_pagetables:${K(n.secPagetables)}kB all_unreclaimable? ${n.allUnreclaimable ? 'yes' : 'no'}`);
  }
  const nodePrefix = (z: MemInfoZone): string => (m.numa ? `Node ${z.node} ` : '');
  for (const z of m.zones) {
    out.push(`${nodePrefix(z)}${ZONE_NAMES[z.zoneIdx]} free:${K(z.free)}kB boost:${K(z.boost)}kB`
      + ` min:${K(z.wmarkMin + z.boost)}kB low:${K(z.wmarkLow + z.boost)}kB high:${K(z.wmarkHigh + z.boost)}kB`
      + ` reserved_highatomic:${K(z.reservedHighatomic)}KB active_anon:${K(z.activeAnon)}kB`
      + ` inactive_anon:${K(z.inactiveAnon)}kB active_file:${K(z.activeFile)}kB inactive_file:${K(z.inactiveFile)}kB`
      + ` unevictable:${K(z.unevictable)}kB writepending:${K(z.writePending)}kB present:${K(z.present)}kB`
      + ` managed:${K(z.managed)}kB mlocked:${K(z.mlocked)}kB bounce:${K(z.bounce)}kB free_pcp:${K(z.freePcp)}kB`
      + ` local_pcp:${K(z.localPcp)}kB free_cma:${K(z.freeCma)}kB`);
    out.push(`lowmem_reserve[]:${z.lowmemReserve.map((r) => ` ${r}`).join('')}`);
  }
  for (const z of m.zones) {
    let line = `${nodePrefix(z)}${ZONE_NAMES[z.zoneIdx]}: `;
    let total = 0;
    for (let order = 0; order < MAX_ORDER; order++) {
      const nr = z.nrFree[order] ?? 0;
      total += nr << order;
      line += `${nr}*${K(1) << order}kB `;
      if (nr) line += `(${migrationTypeLetters(z.typesMask[order] ?? 0)}) `;
    }
    out.push(`${line}= ${K(total)}kB`);
  }
  const t = m.totals;
  for (const h of t.hugepages) {
    out.push(`Node ${h.node} hugepages_total=${h.total} hugepages_free=${h.free} hugepages_surp=${h.surp} hugepages_size=${h.sizeKb}kB`);
  }
  out.push(`${t.totalPagecache} total pagecache pages`);
  out.push(`${t.swapCache} pages in swap cache`);
  out.push(`Free swap  = ${t.freeSwapKb}kB`);
  out.push(`Total swap = ${t.totalSwapKb}kB`);
  out.push(`${t.pagesRam} pages RAM`);
  out.push(`${t.pagesHighMemMovableOnly} pages HighMem/MovableOnly`);
  out.push(`${t.pagesReserved} pages reserved`);
  out.push(`${t.pagesHwpoisoned} pages hwpoisoned`);
  return out;
}

/** What identifies a failed request in the report's first line and our stand-in for the stack dump. */
export interface WarnAllocHeader {
  comm: string;
  pid: number;
  cpu: number;
  order: number;
  gfp: number;
  /** %pGg text of the mask for the kernel version (src/gfp formatGfp) */
  gfpNames: string;
  /** nodemask printed with %*pbl; null prints "(null)" */
  nodemask: string | null;
  /** cpuset cgroup name and mems_allowed list (CONFIG_CPUSETS) */
  cpuset: string;
  memsAllowed: string;
  /** true when the context is atomic: the kernel's show_mem then does not filter nodes */
  inInterrupt: boolean;
  /** simulated frames, innermost first, printed after Call Trace: */
  frames?: string[];
}

/** The first line: "<comm>: page allocation failure: order:N, mode:0x…(…), nodemask=(null),cpuset=/,mems_allowed=0" */
export function warnAllocFirstLine(h: WarnAllocHeader): string {
  return `${h.comm}: page allocation failure: order:${h.order}, mode:0x${h.gfp.toString(16)}(${h.gfpNames}),`
    + ` nodemask=${h.nodemask === null ? '(null)' : h.nodemask},cpuset=${h.cpuset},mems_allowed=${h.memsAllowed}`;
}

/** Lines standing where dump_stack() prints: not a real stack (we do not simulate one). */
export function simulatedStack(h: WarnAllocHeader): string[] {
  const frames = h.frames ?? ['warn_alloc', '__alloc_pages_slowpath', '__alloc_pages'];
  return [
    `CPU: ${h.cpu} PID: ${h.pid} Comm: ${h.comm} Not tainted 6.1.0-labyrinth #1`,
    'Hardware name: Labyrinth simulator (no stack is simulated)',
    'Call Trace:',
    ...(h.inInterrupt ? [' <IRQ>'] : [' <TASK>']),
    ...frames.map((f) => ` ${f}`),
    ...(h.inInterrupt ? [' </IRQ>'] : [' </TASK>']),
  ];
}

/** The whole report: first line, simulated stack, Mem-Info block. */
export function renderWarnAlloc(h: WarnAllocHeader, m: ShowMemInput): string[] {
  return [warnAllocFirstLine(h), ...simulatedStack(h), ...renderShowMem(m)];
}

/** HZ of the Debian 6.1 kernel (CONFIG_HZ=250). */
export const HZ = 250;
export const NSEC_PER_JIFFY = 1_000_000_000 / HZ;

/**
 * A ratelimit_state in virtual time. warn_alloc uses DEFINE_RATELIMIT_STATE(nopage_rs, 10*HZ, 1) (5.x+).
 * @kernel lib/ratelimit.c ___ratelimit
 */
export class RateLimit {
  readonly intervalJiffies: number;
  readonly burst: number;
  readonly name: string;
  private begin = -1;
  private printed = 0;
  /** callbacks suppressed since the last window */
  missed = 0;

  constructor(name: string, intervalJiffies: number, burst: number) {
    this.name = name;
    this.intervalJiffies = intervalJiffies;
    this.burst = burst;
  }

  /**
   * May this caller print now? `notice` receives "<name>: N callbacks suppressed" when a new window
   * opens after suppressions, as the kernel prints it.
   */
  allow(nowNs: number, notice?: (line: string) => void): boolean {
    const jiffies = Math.floor(nowNs / NSEC_PER_JIFFY);
    if (this.begin < 0) this.begin = jiffies;
    if (jiffies > this.begin + this.intervalJiffies) {
      if (this.missed > 0) {
        if (notice) notice(`${this.name}: ${this.missed} callbacks suppressed`);
        this.missed = 0;
      }
      this.begin = jiffies;
      this.printed = 0;
    }
    if (this.burst > this.printed) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}

/** warn_alloc's own limiter: 10 s, burst 1. */
export function warnAllocRateLimit(): RateLimit {
  return new RateLimit('warn_alloc', 10 * HZ, 1);
}
