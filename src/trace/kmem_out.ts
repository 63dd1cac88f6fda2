/**
 * kmem tracepoints out: the allocator's events as ftrace text lines in Linux 6.1's format
 * (fixtures: linux-6.1-qemu/512M/formats/kmem_*.format and trace.txt.xz).
 * @kernel include/trace/events/kmem.h mm_page_alloc, mm_page_free, mm_page_free_batched,
 *   mm_page_alloc_zone_locked, mm_page_pcpu_drain, mm_page_alloc_extfrag (5.15+ hex pfn format)
 *
 * Tracing is off by default: the allocator holds `tracer = null` and each site is one null check.
 * `page=%p` prints as the captured kernel printed it, `(____ptrval____)`.
 */
import type { KmemTracepoints } from '../mm/memmap.ts';
import { pageblock_order } from '../mm/constants.ts';

/** show_gfp_flags() name table of 6.1 (composites first), as in the fixture's format file. */
const GFP_NAMES_6_1: ReadonlyArray<readonly [number, string]> = [
  [0x1c24ca, 'GFP_TRANSHUGE'],
  [0x1c20ca, 'GFP_TRANSHUGE_LIGHT'],
  [0x100cca, 'GFP_HIGHUSER_MOVABLE'],
  [0x100cc2, 'GFP_HIGHUSER'],
  [0x100cc0, 'GFP_USER'],
  [0x400cc0, 'GFP_KERNEL_ACCOUNT'],
  [0xcc0, 'GFP_KERNEL'],
  [0xc40, 'GFP_NOFS'],
  [0xa20, 'GFP_ATOMIC'],
  [0xc00, 'GFP_NOIO'],
  [0x800, 'GFP_NOWAIT'],
  [0x1, 'GFP_DMA'],
  [0x2, '__GFP_HIGHMEM'],
  [0x4, 'GFP_DMA32'],
  [0x20, '__GFP_HIGH'],
  [0x200, '__GFP_ATOMIC'],
  [0x40, '__GFP_IO'],
  [0x80, '__GFP_FS'],
  [0x2000, '__GFP_NOWARN'],
  [0x4000, '__GFP_RETRY_MAYFAIL'],
  [0x8000, '__GFP_NOFAIL'],
  [0x10000, '__GFP_NORETRY'],
  [0x40000, '__GFP_COMP'],
  [0x100, '__GFP_ZERO'],
  [0x80000, '__GFP_NOMEMALLOC'],
  [0x20000, '__GFP_MEMALLOC'],
  [0x100000, '__GFP_HARDWALL'],
  [0x200000, '__GFP_THISNODE'],
  [0x10, '__GFP_RECLAIMABLE'],
  [0x8, '__GFP_MOVABLE'],
  [0x400000, '__GFP_ACCOUNT'],
  [0x1000, '__GFP_WRITE'],
  [0xc00, '__GFP_RECLAIM'],
  [0x400, '__GFP_DIRECT_RECLAIM'],
  [0x800, '__GFP_KSWAPD_RECLAIM'],
  [0x800000, '__GFP_ZEROTAGS'],
];

/** show_gfp_flags() of 6.1: `none` for 0, names joined by `|`, leftover bits as 0x… */
export function showGfpFlags61(gfp: number): string {
  if (gfp === 0) return 'none';
  let rest = gfp >>> 0;
  const out: string[] = [];
  for (const [mask, name] of GFP_NAMES_6_1) {
    if (rest === 0) break;
    if ((rest & mask) >>> 0 === mask) {
      out.push(name);
      rest = (rest & ~mask) >>> 0;
    }
  }
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out.join('|');
}

export interface KmemTracerOptions {
  /** TASK column (default "labyrinth"). */
  comm?: string;
  pid?: number;
  /** CPU column (default 0). */
  cpu?: number;
  /** Timestamp in seconds for each line (default: a counter advancing 1 µs per event). */
  clock?: () => number;
}

/** Formats each event as one ftrace line and hands it to `sink`. */
export class KmemTracer implements KmemTracepoints {
  private readonly sink: (line: string) => void;
  private readonly prefix: string;
  private readonly clock: (() => number) | null;
  private tick: number;

  constructor(sink: (line: string) => void, opts: KmemTracerOptions = {}) {
    this.sink = sink;
    const task = `${opts.comm ?? 'labyrinth'}-${opts.pid ?? 1}`;
    const cpu = String(opts.cpu ?? 0).padStart(3, '0');
    this.prefix = `${task.padStart(16)} [${cpu}] .....`;
    this.clock = opts.clock ?? null;
    this.tick = 0;
  }

  private emit(event: string, body: string): void {
    const ts = this.clock !== null ? this.clock() : (this.tick += 1e-6);
    this.sink(`${this.prefix} ${ts.toFixed(6).padStart(12)}: ${event}: ${body}`);
  }

  pageAlloc(pfn: number, order: number, gfp: number, migratetype: number): void {
    const p = pfn < 0 ? 0 : pfn;
    this.emit('mm_page_alloc',
      `page=(____ptrval____) pfn=0x${p.toString(16)} order=${order} migratetype=${migratetype} gfp_flags=${showGfpFlags61(gfp)}`);
  }
  pageFree(pfn: number, order: number): void {
    this.emit('mm_page_free', `page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order}`);
  }
  pageFreeBatched(pfn: number): void {
    this.emit('mm_page_free_batched', `page=(____ptrval____) pfn=0x${pfn.toString(16)} order=0`);
  }
  pageAllocZoneLocked(pfn: number, order: number, migratetype: number, percpuRefill: boolean): void {
    this.emit('mm_page_alloc_zone_locked',
      `page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order} migratetype=${migratetype} percpu_refill=${percpuRefill ? 1 : 0}`);
  }
  pagePcpuDrain(pfn: number, order: number, migratetype: number): void {
    this.emit('mm_page_pcpu_drain',
      `page=(____ptrval____) pfn=0x${pfn.toString(16)} order=${order} migratetype=${migratetype}`);
  }
  pageAllocExtfrag(pfn: number, allocOrder: number, fallbackOrder: number, allocMt: number, fallbackMt: number,
    changeOwnership: boolean): void {
    this.emit('mm_page_alloc_extfrag',
      `page=(____ptrval____) pfn=0x${pfn.toString(16)} alloc_order=${allocOrder} fallback_order=${fallbackOrder} `
      + `pageblock_order=${pageblock_order} alloc_migratetype=${allocMt} fallback_migratetype=${fallbackMt} `
      + `fragmenting=${fallbackOrder < pageblock_order ? 1 : 0} change_ownership=${changeOwnership ? 1 : 0}`);
  }
}
