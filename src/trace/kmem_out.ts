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
import { showGfpFlags } from '../gfp/format.ts';

/** show_gfp_flags() of 6.1 (the trace table, `none` for 0), from the per-version layouts of src/gfp. */
export function showGfpFlags61(gfp: number): string {
  return showGfpFlags(gfp >>> 0, '6.1');
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
