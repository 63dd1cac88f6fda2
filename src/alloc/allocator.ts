/**
 * The idiomatic TypeScript facade over PageAllocator: camelCase names, a machine from a size or a
 * spec, pfns and addresses as plain numbers.
 *
 * @example
 * ```ts
 * import { createPageAllocator, GFP_KERNEL } from 'labyrinth';
 * const mm = createPageAllocator({ mem: '1G' });
 * const pfn = mm.allocPages(GFP_KERNEL, 0);      // -1 on failure: mm.lastFailure().text says why
 * mm.freePages(pfn, 0);
 * const addr = mm.getFreePages(GFP_KERNEL, 2);   // an address (pfn * 4096 + base), 0 on failure
 * mm.freePagesAddr(addr, 2);
 * ```
 */
import { computeZoneSetup, machineFromMem, type MachineOptions } from '../zone/setup.ts';
import type { MachineSpec, ZoneWatermarks } from '../zone/types.ts';
import { PageAllocator, type AllocFailure, type SlowPathHooks } from './page_alloc.ts';
import { verify } from '../debug/verify.ts';

export interface CreatePageAllocatorOptions extends MachineOptions {
  /** RAM size ('1G', '64G', bytes) or a full machine spec. */
  mem: string | number | MachineSpec;
  /** Watermarks per spec zone; computed from the spec's tunables when absent. */
  watermarks?: ZoneWatermarks[];
  /** Use the watermarks a freshly booted kernel has (sized before init memory was freed). */
  bootWatermarks?: boolean;
  /** Keep all state in a SharedArrayBuffer so workers can attach. */
  shared?: boolean;
  /** Address of pfn 0. Default 0. */
  addressBase?: number;
  hooks?: SlowPathHooks;
}

export class Allocator {
  /** The kernel-named API (alloc_pages, __free_pages, …) and the inspection hooks. */
  readonly kernel: PageAllocator;
  readonly spec: MachineSpec | null;

  constructor(kernel: PageAllocator, spec: MachineSpec | null) {
    this.kernel = kernel;
    this.spec = spec;
  }

  /** alloc_pages: head pfn or -1. */
  allocPages(gfp: number, order: number, cpu = 0): number {
    return this.kernel.alloc_pages(gfp, order, cpu);
  }
  /** __free_pages */
  freePages(pfn: number, order: number, cpu = 0): void {
    this.kernel.__free_pages(pfn, order, cpu);
  }
  /** __get_free_pages: an address, or 0. */
  getFreePages(gfp: number, order: number, cpu = 0): number {
    return this.kernel.__get_free_pages(gfp, order, cpu);
  }
  /** free_pages by address. */
  freePagesAddr(addr: number, order: number, cpu = 0): void {
    this.kernel.free_pages(addr, order, cpu);
  }
  getZeroedPage(gfp: number, cpu = 0): number {
    return this.kernel.get_zeroed_page(gfp, cpu);
  }
  pageAddress(pfn: number): number {
    return this.kernel.page_address(pfn);
  }
  virtToPage(addr: number): number {
    return this.kernel.virt_to_page(addr);
  }
  getPage(pfn: number): void {
    this.kernel.get_page(pfn);
  }
  putPage(pfn: number, cpu = 0): void {
    this.kernel.put_page(pfn, cpu);
  }
  splitPage(pfn: number, order: number): void {
    this.kernel.split_page(pfn, order);
  }
  drainAllPages(): void {
    this.kernel.drain_all_pages();
  }
  /** Why the last allocation failed. */
  lastFailure(): AllocFailure {
    return this.kernel.allocFailure();
  }
  /** The whole-structure invariant walk (throws InvariantError citing docs/invariants.md). */
  verify(): void {
    verify(this.kernel);
  }
  /** The state buffer (share it with a worker, or copy it for a snapshot). */
  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.kernel.mm.buffer;
  }
}

/** Build an allocator for a machine of a given size (Debian 6.1 amd64 defaults) or spec. */
export function createPageAllocator(opts: CreatePageAllocatorOptions): Allocator {
  const spec = typeof opts.mem === 'object' ? opts.mem : machineFromMem(opts.mem, opts);
  const watermarks = opts.watermarks ?? computeZoneSetup(spec, { boot: opts.bootWatermarks === true }).zones;
  const kernel = PageAllocator.create({
    spec, watermarks, shared: opts.shared, addressBase: opts.addressBase, hooks: opts.hooks,
  });
  return new Allocator(kernel, spec);
}

/** Attach to the buffer of an existing allocator (e.g. in a worker). */
export function attachPageAllocator(buffer: ArrayBuffer | SharedArrayBuffer, hooks?: SlowPathHooks): Allocator {
  return new Allocator(PageAllocator.attach(buffer, hooks), null);
}
