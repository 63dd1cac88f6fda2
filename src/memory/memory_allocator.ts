/**
 * Real memory: the page allocator over bytes. Addresses are plain numbers (`void *`), every access
 * is checked against the allocation that holds it, freed pages can be poisoned or zeroed, and any
 * number of threads (worker_threads, Web Workers) share one allocator through SharedArrayBuffers,
 * each with its own per-CPU lists.
 * Labyrinth extension over the kernel's direct map; the init and poison options mirror
 * init_on_alloc / init_on_free and CONFIG_PAGE_POISONING.
 * @kernel mm/page_alloc.c post_alloc_hook, free_pages_prepare, want_init_on_alloc, want_init_on_free,
 *   kernel_init_pages, init_mem_debugging_and_hardening; mm/page_poison.c __kernel_poison_pages,
 *   __kernel_unpoison_pages (6.1)
 *
 * @example
 * ```ts
 * import { createAllocator, GFP_ATOMIC } from 'labyrinth';
 * const mm = createAllocator({ memory: '256M', shared: true });
 * const p = mm.allocPages(GFP_ATOMIC, 0);   // an address, 0 on failure
 * const view = mm.bytes(p, 4096);           // a Uint8Array over exactly that page
 * view[0] = 42;
 * mm.freePages(p, 0);
 * ```
 *
 * Threads. The allocator state (src/mm/memmap.ts), a small control block (CPU slots, zone lock
 * words, poison bits) and the backing buffers are all shared; `handle()` is what a worker receives
 * and `attachAllocator(handle)` claims a free CPU slot for it. The per-CPU lists of a slot belong to
 * the thread holding it, so the fast path takes no lock; refilling and draining them, and every
 * order above the pcp orders, take the zone lock (src/memory/zone_lock.ts). The fast paths count
 * events in per-CPU Int32 slots of the shared buffer (each written by its slot's thread, summed on
 * read); a worker's other counters are private doubles folded at detach(). `drainAllPages()` drains only the
 * calling thread's lists; call `detach()` in each worker to hand its lists back.
 */
import {
  __GFP_DIRECT_RECLAIM, __GFP_HIGHMEM, __GFP_ZERO,
} from '../gfp/bits.ts';
import { MAX_ORDER, PAGE_SIZE } from '../mm/constants.ts';
import { F_ADDRESS_BASE, H_NR_CPUS, H_NR_ZONES, Z_END_PFN, Z_MANAGED, Z_START_PFN } from '../mm/memmap.ts';
import type { MemMap } from '../mm/memmap.ts';
import {
  PG_buddy, PG_exclusive, PG_head, PG_lru, PG_pcp, PG_reserved, PG_tail, ORDER_MASK,
} from '../mm/page_flags.ts';
import { PageAllocator, type AllocFailure, type SlowPathHooks } from '../alloc/page_alloc.ts';
import { computeZoneSetup, machineFromMem, type MachineOptions } from '../zone/setup.ts';
import type { MachineSpec } from '../zone/types.ts';
import { verify } from '../debug/verify.ts';
import { BadInputError } from '../errors.ts';
import { Backing, CHUNK_SHIFT, type BackingHandle, type BackingKind, type PfnSpan, type WasmMemory } from './backing.ts';
import { ZoneLock } from './zone_lock.ts';
import { PAGE_POISON, checkPoisonMem, type PageCorruption } from './page_poison.ts';
import { AttachError, ExclusiveAccessError, MemoryAccessError } from './errors.ts';

// ---------------------------------------------------------------------------------------------
// Control block (Int32 slots, then one poison byte per pfn when poisoning is on)
const C_MAGIC = 0;
const C_FLAGS = 1;
const C_NR_CPUS = 2;
const C_NR_ZONES = 3;
/** Poison corruptions found (Atomics.add). */
const C_CORRUPTIONS = 4;
/** Core CPUs per slot (SLOT_STRIDE when shared, else 1). */
const C_STRIDE = 5;
const C_HEADER = 8;
const CONTROL_MAGIC = 0x4c4d454d; // "LMEM"
const OPT_INIT_ON_ALLOC = 1;
const OPT_INIT_ON_FREE = 2;
const OPT_POISON = 4;

/**
 * CPU slot i is the core's CPU i * SLOT_STRIDE: a (zone, cpu) pcp block is 16 bytes and its 13 list
 * heads 52 bytes, so neighbouring CPUs would share cache lines; spacing them keeps each thread's
 * fast path on lines no other thread writes.
 */
export const SLOT_STRIDE = 4;

/** Flags that make a page unreadable through a plain address (not handed out, or keyed). */
const NO_ACCESS = PG_buddy | PG_pcp | PG_reserved | PG_exclusive | PG_tail;
/** Flags that make a free refuse (the core's PAGE_FLAGS_CHECK_AT_FREE). */
const FREE_CHECK = PG_buddy | PG_pcp | PG_tail | PG_reserved | PG_lru | PG_exclusive;

/** A typed-array constructor usable with `view()`. */
export type TypedArrayConstructor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/**
 * Decides whether `key` opens the exclusive page `pfn` (the labyrinth layer installs it; issue 5).
 * Without a gate every exclusive page is unreachable through this layer.
 */
export type ExclusiveGate = (pfn: number, key: unknown) => boolean;

export interface CreateAllocatorOptions extends MachineOptions {
  /** RAM of the machine ('256M', '8G', bytes) or a full machine spec. */
  memory: string | number | MachineSpec;
  /** Keep state and bytes in SharedArrayBuffers so workers can attach. Default false. */
  shared?: boolean;
  /**
   * Where the bytes live. Default: 'sharedarraybuffer' when shared, else 'arraybuffer'.
   * 'none' simulates any size without bytes (addresses only).
   */
  backing?: BackingKind;
  /** backing 'wasm': use this memory (shared memories grow on demand). */
  wasmMemory?: WasmMemory;
  /** CPU slots (threads that can be attached at once). Default: 16 when shared, else 1. */
  cpus?: number;
  /** init_on_alloc=1: zero every page handed out (as __GFP_ZERO does). */
  initOnAlloc?: boolean;
  /** init_on_free=1: zero every page as it is freed. */
  initOnFree?: boolean;
  /** page_poison=1: fill freed pages with PAGE_POISON (0xaa) and check them on the next allocation. */
  pagePoisoning?: boolean;
  /** Address of pfn 0 (addresses are base + pfn * 4096). Default 0; pfn 0 is never handed out. */
  addressBase?: number;
  /** Called with every poison corruption found; default prints the report with console.error. */
  onCorruption?: (c: PageCorruption) => void;
  hooks?: SlowPathHooks;
}

/** What a worker receives (post it with postMessage; every buffer in it is shared). */
export interface MemoryHandle {
  state: SharedArrayBuffer;
  control: SharedArrayBuffer;
  backing: BackingHandle;
}

export interface AttachOptions {
  /** The CPU slot to claim (0 .. cpus-1; 0 is the creator's); default: the first free one. */
  cpu?: number;
  onCorruption?: (c: PageCorruption) => void;
  hooks?: SlowPathHooks;
}

function defaultCorruptionReport(c: PageCorruption): void {
  console.error(c.lines.join('\n'));
}

function controlBytes(nrCpus: number, nrZones: number, nrPfn: number, poison: boolean): { ints: number; total: number } {
  const ints = C_HEADER + nrCpus + nrZones;
  const total = ints * 4 + (poison ? nrPfn : 0);
  return { ints, total };
}

export class MemoryAllocator {
  /** The kernel-named core (alloc_pages, verify hooks, /proc views). Its frees skip poisoning. */
  readonly kernel: PageAllocator;
  readonly mm: MemMap;
  readonly backing: Backing;
  /** This thread's CPU slot (0 for the creating thread). */
  readonly slot: number;
  /** The core's CPU index of that slot (slot × SLOT_STRIDE when shared): whose per-CPU lists it uses. */
  readonly cpu: number;
  /** The zone lock (null when the allocator is not shared). */
  readonly lock: ZoneLock | null;
  readonly spec: MachineSpec | null;
  /** Address of pfn 0. */
  readonly base: number;
  readonly initOnAlloc: boolean;
  readonly initOnFree: boolean;
  readonly pagePoisoning: boolean;
  /** Lines the allocator printed at setup (the kernel's pr_info about option precedence). */
  readonly notes: string[];
  private readonly control: Int32Array;
  private readonly controlBuffer: ArrayBuffer | SharedArrayBuffer;
  /** One byte per pfn: 1 = the page was poisoned when freed (the kernel keeps this in page_ext). */
  private readonly poisoned: Uint8Array | null;
  private readonly bufs: Array<ArrayBuffer | SharedArrayBuffer | null>;
  private readonly startByte: Float64Array;
  private readonly nrPfn: number;
  private readonly allocHook: boolean;
  private readonly freeHook: boolean;
  private readonly onCorruption: (c: PageCorruption) => void;
  private gate: ExclusiveGate | null;
  private detached: boolean;
  /** Worker attachments count events privately: the buffer's counters, and what was folded into them. */
  private sharedEv: Float64Array | null;
  private foldedEv: Float64Array | null;

  private constructor(kernel: PageAllocator, backing: Backing, controlBuffer: ArrayBuffer | SharedArrayBuffer,
    slot: number, spec: MachineSpec | null, onCorruption: ((c: PageCorruption) => void) | undefined, notes: string[]) {
    this.kernel = kernel;
    this.mm = kernel.mm;
    this.backing = backing;
    this.slot = slot;
    this.spec = spec;
    this.base = kernel.pageOffset;
    this.nrPfn = kernel.mm.nrPfn;
    this.controlBuffer = controlBuffer;
    const nrZones = kernel.mm.nrZones;
    const head = new Int32Array(controlBuffer, 0, C_HEADER);
    const nrCpus = head[C_NR_CPUS]!;
    this.cpu = slot * head[C_STRIDE]!;
    const flags = head[C_FLAGS]!;
    const bytesOk = backing.kind !== 'none';
    this.pagePoisoning = (flags & OPT_POISON) !== 0 && bytesOk;
    this.initOnAlloc = (flags & OPT_INIT_ON_ALLOC) !== 0 && bytesOk;
    this.initOnFree = (flags & OPT_INIT_ON_FREE) !== 0 && bytesOk;
    const sizes = controlBytes(nrCpus, nrZones, this.nrPfn, (flags & OPT_POISON) !== 0);
    this.control = new Int32Array(controlBuffer, 0, sizes.ints);
    this.poisoned = (flags & OPT_POISON) !== 0 ? new Uint8Array(controlBuffer, sizes.ints * 4, this.nrPfn) : null;
    this.lock = controlBuffer instanceof ArrayBuffer ? null : new ZoneLock(new Int32Array(controlBuffer, (C_HEADER + nrCpus) * 4, nrZones));
    kernel.mm.zoneLock = this.lock;
    this.bufs = backing.bufs;
    this.startByte = backing.startByte;
    this.allocHook = this.pagePoisoning || this.initOnAlloc || backing.kind === 'wasm';
    this.freeHook = this.pagePoisoning || this.initOnFree;
    this.onCorruption = onCorruption ?? defaultCorruptionReport;
    this.gate = null;
    this.detached = false;
    this.notes = notes;
    this.sharedEv = null;
    this.foldedEv = null;
    if (this.lock !== null) {
      // Generations: every slot draws from its own residue class modulo a power of two ≥ the slots.
      let step = 1;
      while (step < nrCpus) step <<= 1;
      kernel.mm.seqStep = step;
      if (slot !== 0) {
        kernel.mm.seqWords = Int32Array.of(slot);
        kernel.mm.seqIdx = 0;
      }
    }
    if (slot !== 0) {
      // A worker counts vm events in private counters (no cache line shared with other threads on
      // every allocation) and folds them into the buffer's at detach() / foldEvents().
      this.sharedEv = kernel.mm.ev;
      kernel.mm.ev = new Float64Array(kernel.mm.ev);
      this.foldedEv = new Float64Array(kernel.mm.ev);
    }
  }

  /** Build a machine with real bytes. */
  static create(opts: CreateAllocatorOptions): MemoryAllocator {
    const shared = opts.shared === true;
    const nrCpus = opts.cpus ?? (shared ? 16 : 1);
    if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > 8192) {
      throw new BadInputError('BAD_CPUS', `Cannot create an allocator with ${nrCpus} CPU slots: expected 1..8192`);
    }
    const kind: BackingKind = opts.backing ?? (shared ? 'sharedarraybuffer' : 'arraybuffer');
    if (shared && kind === 'arraybuffer') {
      throw new BadInputError('BACKING_NOT_SHARED', "Cannot create a shared allocator over ArrayBuffers: because workers cannot share them (use 'sharedarraybuffer' or 'wasm')");
    }
    const stride = shared ? SLOT_STRIDE : 1;
    const spec: MachineSpec = typeof opts.memory === 'object'
      ? { ...opts.memory, nrCpus }
      : machineFromMem(opts.memory, { ...opts, nrCpus });
    // pcp batch/high come from the real number of slots; the layout spaces the slots' pcp blocks.
    const watermarks = computeZoneSetup(spec).zones;
    const kernel = PageAllocator.create({
      spec: { ...spec, nrCpus: nrCpus * stride }, watermarks, shared, addressBase: opts.addressBase, hooks: opts.hooks,
    });
    const m = kernel.mm;
    const spans: PfnSpan[] = [];
    for (let z = 0; z < m.nrZones; z++) {
      if (m.ints[m.zf(z, Z_MANAGED)]! > 0) spans.push({ startPfn: m.ints[m.zf(z, Z_START_PFN)]!, endPfn: m.ints[m.zf(z, Z_END_PFN)]! });
    }
    const backing = Backing.create({ kind, memory: opts.wasmMemory }, spans, m.nrPfn);
    const notes: string[] = [];
    const poison = opts.pagePoisoning === true;
    let initOnAlloc = opts.initOnAlloc === true;
    let initOnFree = opts.initOnFree === true;
    if (poison && (initOnAlloc || initOnFree)) {
      notes.push('mem auto-init: CONFIG_PAGE_POISONING is on, will take precedence over init_on_alloc and init_on_free');
      initOnAlloc = false;
      initOnFree = false;
    }
    const sizes = controlBytes(nrCpus, m.nrZones, m.nrPfn, poison);
    const controlBuffer = shared ? new SharedArrayBuffer(sizes.total) : new ArrayBuffer(sizes.total);
    const c = new Int32Array(controlBuffer, 0, C_HEADER + nrCpus);
    c[C_MAGIC] = CONTROL_MAGIC;
    c[C_FLAGS] = (initOnAlloc ? OPT_INIT_ON_ALLOC : 0) | (initOnFree ? OPT_INIT_ON_FREE : 0) | (poison ? OPT_POISON : 0);
    c[C_NR_CPUS] = nrCpus;
    c[C_NR_ZONES] = m.nrZones;
    c[C_STRIDE] = stride;
    c[C_HEADER + 0] = 1; // the creating thread holds CPU slot 0
    return new MemoryAllocator(kernel, backing, controlBuffer, 0, spec, opts.onCorruption, notes);
  }

  /** Attach a thread to a shared allocator: claims a CPU slot (its own per-CPU lists). */
  static attach(h: MemoryHandle, opts: AttachOptions = {}): MemoryAllocator {
    if (!(h.state instanceof SharedArrayBuffer) || !(h.control instanceof SharedArrayBuffer)) {
      throw new AttachError('ATTACH_NOT_SHARED', 'Cannot attach to the allocator: because its handle does not carry SharedArrayBuffers');
    }
    const head = new Int32Array(h.control, 0, C_HEADER);
    if (head[C_MAGIC] !== CONTROL_MAGIC) {
      throw new AttachError('ATTACH_BAD_HANDLE', 'Cannot attach to the allocator: because its control block is not a Labyrinth memory control block');
    }
    const kernel = PageAllocator.attach(h.state, opts.hooks ?? {});
    const nrCpus = head[C_NR_CPUS]!;
    if (kernel.mm.ints[H_NR_CPUS] !== nrCpus * head[C_STRIDE]! || kernel.mm.ints[H_NR_ZONES] !== head[C_NR_ZONES]) {
      throw new AttachError('ATTACH_BAD_HANDLE', 'Cannot attach to the allocator: because its state and control block disagree');
    }
    const slots = new Int32Array(h.control, C_HEADER * 4, nrCpus);
    let cpu = -1;
    if (opts.cpu !== undefined) {
      if (!(opts.cpu >= 0 && opts.cpu < nrCpus) || Atomics.compareExchange(slots, opts.cpu, 0, 1) !== 0) {
        throw new AttachError('CPU_BUSY', `Cannot attach as CPU ${opts.cpu}: because that slot is out of range or taken`);
      }
      cpu = opts.cpu;
    } else {
      for (let i = 0; i < nrCpus && cpu < 0; i++) if (Atomics.compareExchange(slots, i, 0, 1) === 0) cpu = i;
      if (cpu < 0) {
        throw new AttachError('NO_FREE_CPU', `Cannot attach another thread: because all ${nrCpus} CPU slots are taken (create the allocator with more cpus, or detach a thread)`);
      }
    }
    return new MemoryAllocator(kernel, Backing.attach(h.backing), h.control, cpu, null, opts.onCorruption, []);
  }

  /** What a worker needs to attach (post it; all buffers are shared). */
  handle(): MemoryHandle {
    const state = this.mm.buffer;
    if (!(state instanceof SharedArrayBuffer) || !(this.controlBuffer instanceof SharedArrayBuffer)) {
      throw new AttachError('NOT_SHARED', 'Cannot hand this allocator to a worker: because it was created without shared: true');
    }
    return { state, control: this.controlBuffer, backing: this.backing.handle() };
  }

  /** Give this thread's per-CPU pages back to the buddy lists and release its CPU slot. */
  detach(): void {
    if (this.detached) return;
    this.kernel.drain_local_pages(this.cpu);
    this.foldEvents();
    this.detached = true;
    Atomics.store(this.control, C_HEADER + this.slot, 0);
  }

  /**
   * Add this worker's private event counts (pgalloc, pgfree, numa_*, …) to the buffer's, so that
   * /proc/vmstat read from any thread includes them (detach() does it too).
   * @kernel mm/vmstat.c vm_events_fold_cpu (the fold done when a CPU goes away)
   */
  foldEvents(): void {
    const shared = this.sharedEv;
    const folded = this.foldedEv;
    if (shared === null || folded === null) return;
    const mine = this.mm.ev;
    const lock = this.lock;
    if (lock !== null) { lock.maySleep = false; lock.lock(0); }
    for (let i = 0; i < mine.length; i++) {
      if (i === F_ADDRESS_BASE) continue;
      shared[i] = shared[i]! + (mine[i]! - folded[i]!);
      folded[i] = mine[i]!;
    }
    if (lock !== null) lock.unlock(0);
  }

  /**
   * Install the labyrinth layer's key check for exclusive pages (issue 5), once per attachment: a gate
   * cannot be replaced (say by a permissive one) after it is set.
   */
  setExclusiveGate(gate: ExclusiveGate): void {
    if (this.gate !== null) {
      throw new AttachError('GATE_SET', 'Cannot install another exclusive-page gate: because this attachment already has one');
    }
    this.gate = gate;
  }

  // -------------------------------------------------------------------------------------------
  // Allocation (idiomatic: addresses)

  /**
   * Allocate 2^order contiguous pages; returns their address, or 0 (NULL) on failure
   * (`lastFailure()` says why). Never sleeps.
   */
  allocPages(gfp: number, order = 0): number {
    const lock = this.lock;
    if (lock !== null) lock.maySleep = (gfp & __GFP_DIRECT_RECLAIM) !== 0;
    const pfn = this.kernel.alloc_pages(gfp & ~__GFP_HIGHMEM, order, this.cpu);
    if (pfn < 0) return 0;
    if (this.allocHook || (gfp & __GFP_ZERO) !== 0) this.postAllocHook(pfn, order, gfp);
    return this.base + pfn * PAGE_SIZE;
  }

  /** Free 2^order pages at addr (0 is ignored, like free_pages). */
  freePages(addr: number, order = 0): void {
    if (addr === 0) return;
    const pfn = Math.floor((addr - this.base) / PAGE_SIZE);
    const lock = this.lock;
    if (lock !== null) lock.maySleep = false;
    if (this.freeHook) this.preFree(pfn, order);
    this.kernel.__free_pages(pfn, order, this.cpu);
  }

  /** Allocate at least `nbytes` (rounded up to a power-of-two number of pages). Address or 0. */
  alloc(nbytes: number, gfp: number): number {
    const order = orderForBytes(nbytes);
    if (order < 0) return 0;
    return this.allocPages(gfp, order);
  }

  /** Free what alloc / allocPages returned, finding its order from the page descriptor. */
  free(addr: number): void {
    if (addr === 0) return;
    const pfn = Math.floor((addr - this.base) / PAGE_SIZE);
    const order = pfn >= 0 && pfn < this.nrPfn ? this.mm.order[pfn]! & ORDER_MASK : 0;
    this.freePages(addr, order);
  }

  /** Size in bytes of the allocation that starts at addr (0 when addr starts none). */
  allocationBytes(addr: number): number {
    const pfn = (addr - this.base) / PAGE_SIZE;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= this.nrPfn) return 0;
    const m = this.mm;
    if ((m.flags[pfn]! & NO_ACCESS & ~PG_exclusive) !== 0 || m.refcount[pfn] === 0) return 0;
    return PAGE_SIZE * (1 << (m.order[pfn]! & ORDER_MASK));
  }

  /** Why the last allocation failed. */
  lastFailure(): AllocFailure {
    return this.kernel.allocFailure();
  }

  // -------------------------------------------------------------------------------------------
  // Kernel names (pfns and addresses), routed through zeroing and poisoning

  /** @kernel mm/page_alloc.c __alloc_pages — the head pfn, or -1. */
  alloc_pages(gfp: number, order: number): number {
    const addr = this.allocPages(gfp, order);
    return addr === 0 ? -1 : (addr - this.base) / PAGE_SIZE;
  }
  /** @kernel mm/page_alloc.c __free_pages */
  __free_pages(pfn: number, order: number): void {
    if (this.lock !== null) this.lock.maySleep = false;
    if (this.freeHook) this.preFree(pfn, order);
    this.kernel.__free_pages(pfn, order, this.cpu);
  }
  /** @kernel mm/page_alloc.c __get_free_pages */
  __get_free_pages(gfp: number, order: number): number {
    return this.allocPages(gfp, order);
  }
  /** @kernel mm/page_alloc.c get_zeroed_page */
  get_zeroed_page(gfp: number): number {
    return this.allocPages(gfp | __GFP_ZERO, 0);
  }
  /** @kernel mm/page_alloc.c free_pages */
  free_pages(addr: number, order: number): void {
    this.freePages(addr, order);
  }
  /** @kernel page_address */
  page_address(pfn: number): number {
    return this.base + pfn * PAGE_SIZE;
  }
  /** @kernel virt_to_page (as a pfn) */
  virt_to_page(addr: number): number {
    return Math.floor((addr - this.base) / PAGE_SIZE);
  }
  /** @kernel include/linux/mm.h get_page */
  get_page(pfn: number): void {
    this.kernel.get_page(pfn);
  }
  /** @kernel include/linux/mm.h put_page — wipes the pages when this was the last reference. */
  put_page(pfn: number): void {
    if (this.lock !== null) this.lock.maySleep = false;
    if (this.freeHook && pfn >= 0 && pfn < this.nrPfn) {
      const head = this.kernel.compound_head(pfn);
      const m = this.mm;
      if (m.refcount[head] === 1 && (m.flags[head]! & FREE_CHECK) === 0) this.wipeFreed(head, m.order[head]! & ORDER_MASK, 0);
    }
    this.kernel.put_page(pfn, this.cpu);
  }

  // -------------------------------------------------------------------------------------------
  // Access

  /**
   * A Uint8Array over [addr, addr + nbytes) (default: to the end of the allocation). Throws
   * MemoryAccessError unless the whole range lies in one allocation that is handed out, and
   * ExclusiveAccessError for an exclusive page without a key its gate accepts.
   */
  bytes(addr: number, nbytes = -1, key?: unknown): Uint8Array {
    const buf = this.locate(addr, nbytes, 1, key);
    return new Uint8Array(buf, this.hitOff, this.hitLen);
  }

  /** A typed array of `count` elements at addr (default: to the end of the allocation). addr must be aligned. */
  view<T>(ctor: TypedArrayConstructor<T>, addr: number, count = -1, key?: unknown): T {
    const size = ctor.BYTES_PER_ELEMENT;
    if (count !== -1 && !(Number.isInteger(count) && count >= 0)) {
      throw new MemoryAccessError('BAD_LENGTH', addr, 0, `the element count ${count} is not a count`);
    }
    const buf = this.locate(addr, count === -1 ? -1 : count * size, size, key);
    return new ctor(buf, this.hitOff, Math.floor(this.hitLen / size));
  }

  u8(addr: number, count = -1, key?: unknown): Uint8Array { return this.bytes(addr, count, key); }
  i8(addr: number, count = -1, key?: unknown): Int8Array { return this.view(Int8Array, addr, count, key); }
  u16(addr: number, count = -1, key?: unknown): Uint16Array { return this.view(Uint16Array, addr, count, key); }
  i16(addr: number, count = -1, key?: unknown): Int16Array { return this.view(Int16Array, addr, count, key); }
  u32(addr: number, count = -1, key?: unknown): Uint32Array { return this.view(Uint32Array, addr, count, key); }
  i32(addr: number, count = -1, key?: unknown): Int32Array { return this.view(Int32Array, addr, count, key); }
  f32(addr: number, count = -1, key?: unknown): Float32Array { return this.view(Float32Array, addr, count, key); }
  f64(addr: number, count = -1, key?: unknown): Float64Array { return this.view(Float64Array, addr, count, key); }
  i64(addr: number, count = -1, key?: unknown): BigInt64Array { return this.view(BigInt64Array, addr, count, key); }
  u64(addr: number, count = -1, key?: unknown): BigUint64Array { return this.view(BigUint64Array, addr, count, key); }

  /** A DataView over [addr, addr + nbytes) (default: to the end of the allocation). */
  dataView(addr: number, nbytes = -1, key?: unknown): DataView {
    const buf = this.locate(addr, nbytes, 1, key);
    return new DataView(buf, this.hitOff, this.hitLen);
  }

  /** Copy src into memory at addr (checked like bytes()). */
  write(addr: number, src: ArrayLike<number>, key?: unknown): void {
    this.bytes(addr, src.length, key).set(src);
  }

  /** Copy nbytes at addr into a new Uint8Array (checked like bytes()). */
  read(addr: number, nbytes: number, key?: unknown): Uint8Array {
    return this.bytes(addr, nbytes, key).slice();
  }

  // Where locate found the range (fields, so that the hot path allocates nothing but the view).
  private hitOff = 0;
  private hitLen = 0;

  /**
   * The one address check of every access (bytes, view, dataView, read, write): the buffer holding
   * [addr, addr + nbytes), its offset and length left in hitOff / hitLen; the cold path throws.
   * `align === 1 ||` spares bytes() the division (a quarter of its time).
   */
  private locate(addr: number, nbytes: number, align: number, key: unknown): ArrayBuffer | SharedArrayBuffer {
    const rel = addr - this.base;
    const pfn = Math.floor(rel / PAGE_SIZE);
    const m = this.mm;
    if (pfn >= 0 && pfn < this.nrPfn && (m.flags[pfn]! & NO_ACCESS) === 0 && m.refcount[pfn] !== 0
      && (align === 1 || rel % align === 0) && Math.floor(rel) === rel) {
      const end = (pfn + (1 << (m.order[pfn]! & ORDER_MASK))) * PAGE_SIZE;
      const n = nbytes === -1 ? end - rel : nbytes;
      const c = pfn >>> CHUNK_SHIFT;
      const buf = this.bufs[c]!;
      if (rel + n <= end && (n | 0) === n && n >= 0 && buf !== null) {
        const off = rel - this.startByte[c]!;
        if (off + n <= buf.byteLength) {
          this.hitOff = off;
          this.hitLen = n;
          return buf;
        }
      }
    }
    return this.locateSlow(addr, nbytes, align, key);
  }

  /** The cold path of every access: find the allocation holding addr, or say why there is none. */
  private locateSlow(addr: number, nbytes: number, align: number, key: unknown): ArrayBuffer | SharedArrayBuffer {
    const rel = addr - this.base;
    const m = this.mm;
    const shown = nbytes < 0 ? 0 : nbytes;
    if (!Number.isFinite(addr) || !Number.isInteger(addr)) {
      throw new MemoryAccessError('BAD_ADDRESS', addr, shown, 'the address is not an integer');
    }
    if (!Number.isInteger(nbytes) || nbytes < -1) throw new MemoryAccessError('BAD_LENGTH', addr, shown, 'the length is not a byte count');
    if (rel % align !== 0) throw new MemoryAccessError('MISALIGNED', addr, shown, `the address is not aligned to ${align} bytes`);
    const pfn = Math.floor(rel / PAGE_SIZE);
    if (addr === 0) throw new MemoryAccessError('NULL', addr, shown, 'it is the NULL address (an allocation that failed returns 0)');
    if (pfn < 0 || pfn >= this.nrPfn) throw new MemoryAccessError('OUT_OF_RANGE', addr, shown, 'the address is outside the machine');
    const head = this.findHead(pfn);
    if (head < 0) {
      const f = m.flags[pfn]!;
      const why = (f & PG_reserved) !== 0 ? 'the page is reserved (never handed out)'
        : m.pageZone(pfn) < 0 ? 'the address is in a hole between zones'
          : 'the page is free (use after free, or never allocated)';
      throw new MemoryAccessError('NOT_ALLOCATED', addr, shown, why);
    }
    if ((m.flags[head]! & PG_exclusive) !== 0) {
      const gate = this.gate;
      if (key === undefined || gate === null || !gate(head, key)) throw new ExclusiveAccessError(addr, shown, head);
    }
    const end = (head + (1 << (m.order[head]! & ORDER_MASK))) * PAGE_SIZE;
    const n = nbytes < 0 ? end - rel : nbytes;
    if (rel + n > end) {
      throw new MemoryAccessError('PAST_ALLOCATION', addr, shown, `the allocation at 0x${(this.base + head * PAGE_SIZE).toString(16)} ends at 0x${(this.base + end).toString(16)}`);
    }
    const c = pfn >>> CHUNK_SHIFT;
    if (this.backing.kind === 'wasm') this.backing.refreshWasm();
    const buf = this.bufs[c] ?? null;
    if (buf === null) {
      throw new MemoryAccessError('NO_BACKING', addr, shown, this.backing.kind === 'none'
        ? "the allocator was created with backing 'none' (addresses only, no bytes)" : 'no buffer backs this pfn');
    }
    const off = rel - this.startByte[c]!;
    if (off < 0 || off + n > buf.byteLength) {
      throw new MemoryAccessError('NO_BACKING', addr, shown, 'the backing store does not reach this address');
    }
    this.hitOff = off;
    this.hitLen = n;
    return buf;
  }

  /**
   * The head pfn of the allocation holding pfn, or -1 when pfn is in none. A compound tail names
   * its head; inside a plain block the head is the nearest aligned pfn below whose order covers pfn.
   */
  findHead(pfn: number): number {
    const m = this.mm;
    const f = m.flags[pfn]!;
    if ((f & PG_tail) !== 0) return m.next[pfn]!;
    if ((f & (PG_buddy | PG_pcp | PG_reserved)) !== 0) return -1;
    if (m.refcount[pfn] !== 0) return pfn;
    for (let o = 1; o < MAX_ORDER; o++) {
      const h = pfn & ~((1 << o) - 1);
      if (m.refcount[h] !== 0 || (m.flags[h]! & (PG_buddy | PG_pcp)) !== 0) {
        const hf = m.flags[h]!;
        if ((hf & (PG_buddy | PG_pcp | PG_reserved | PG_tail)) !== 0 || m.refcount[h] === 0) return -1;
        return (m.order[h]! & ORDER_MASK) >= o ? h : -1;
      }
    }
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Init and poison hooks

  /** @kernel mm/page_alloc.c post_alloc_hook (unpoison check, then init for __GFP_ZERO / init_on_alloc) */
  private postAllocHook(pfn: number, order: number, gfp: number): void {
    const nr = 1 << order;
    const b = this.backing;
    if (b.kind === 'none') return;
    if (b.kind === 'wasm') b.ensureBacked(pfn + nr);
    if (this.poisoned !== null) this.unpoisonPages(pfn, nr);
    if ((gfp & __GFP_ZERO) !== 0 || this.initOnAlloc) this.fillPages(pfn, nr, 0);
  }

  /** @kernel mm/page_poison.c __kernel_unpoison_pages */
  private unpoisonPages(pfn: number, nr: number): void {
    const poisoned = this.poisoned!;
    const m = this.mm;
    for (let p = pfn; p < pfn + nr; p++) {
      if (poisoned[p] === 0) continue;
      poisoned[p] = 0;
      const c = p >>> CHUNK_SHIFT;
      const u8 = this.backing.u8[c];
      if (u8 === null || u8 === undefined) continue;
      const off = p * PAGE_SIZE - this.startByte[c]!;
      const bad = checkPoisonMem(u8, off, PAGE_SIZE, this.base + p * PAGE_SIZE,
        { pfn: p, flags: m.flags[p]!, refcount: m.refcount[p]!, order: m.order[p]! & ORDER_MASK });
      if (bad !== null) {
        Atomics.add(this.control, C_CORRUPTIONS, 1);
        this.onCorruption(bad);
      }
    }
  }

  /** Check a free like the core does (so that wiping never touches pages the core will refuse). */
  private preFree(pfn: number, order: number): void {
    const m = this.mm;
    if (!(pfn >= 0 && pfn < this.nrPfn) || !Number.isInteger(pfn)) return;
    if ((m.flags[pfn]! & FREE_CHECK) !== 0 || m.refcount[pfn] === 0 || (m.order[pfn]! & ORDER_MASK) !== order) return;
    const rc = m.refcount[pfn]!;
    if (rc === 1) this.wipeFreed(pfn, order, 0);
    else if ((m.flags[pfn]! & PG_head) === 0 && order > 0) this.wipeFreed(pfn, order, 1);
  }

  /** free_pages_prepare: init_on_free zeroes, poisoning fills with PAGE_POISON; pages [from, 2^order). */
  private wipeFreed(pfn: number, order: number, from: number): void {
    const nr = 1 << order;
    if (this.pagePoisoning) {
      this.fillPages(pfn + from, nr - from, PAGE_POISON);
      const poisoned = this.poisoned!;
      for (let p = pfn + from; p < pfn + nr; p++) poisoned[p] = 1;
    } else if (this.initOnFree) {
      this.fillPages(pfn + from, nr - from, 0);
    }
  }

  /** kernel_init_pages / memset over pages [pfn, pfn + nr). */
  private fillPages(pfn: number, nr: number, value: number): void {
    const c = pfn >>> CHUNK_SHIFT;
    // A shared wasm memory may have been grown by another thread since this one last looked.
    if (this.backing.kind === 'wasm' && pfn + nr > this.backing.backedEndPfn) this.backing.ensureBacked(pfn + nr);
    const u8 = this.backing.u8[c];
    if (u8 === null || u8 === undefined) return;
    const off = pfn * PAGE_SIZE - this.startByte[c]!;
    u8.fill(value, off, off + nr * PAGE_SIZE);
  }

  /**
   * Forget that pages [pfn, pfn + 2^order) were poisoned. A layer that allocates through the core
   * directly (`mm.kernel.alloc_pages`, as the labyrinth's exclusive pages do) calls it for the block
   * it takes, since its own wipe replaces the poison and the next check here would misread the zeros.
   */
  forgetPoison(pfn: number, order: number): void {
    const poisoned = this.poisoned;
    if (poisoned !== null) poisoned.fill(0, pfn, pfn + (1 << order));
  }

  /** Zero 2^order pages at pfn (the labyrinth layer wipes exclusive pages with it). */
  zeroPages(pfn: number, order: number): void {
    if (this.backing.kind !== 'none') this.fillPages(pfn, 1 << order, 0);
  }

  // -------------------------------------------------------------------------------------------
  // Inspection

  /** The whole-structure invariant walk of the core (docs/invariants.md). */
  verify(): void {
    verify(this.kernel);
  }

  /** Poison corruptions found by every thread so far. */
  corruptions(): number {
    return Atomics.load(this.control, C_CORRUPTIONS);
  }

  /** Zone-lock acquisitions of this thread that found it held, and how many of them slept. */
  lockStats(): { contended: number; sleeps: number } {
    return this.lock === null ? { contended: 0, sleeps: 0 } : { contended: this.lock.contended, sleeps: this.lock.sleeps };
  }

  /** Drain this thread's per-CPU lists back to the buddy allocator. */
  drainLocalPages(): void {
    this.kernel.drain_local_pages(this.cpu);
  }
}

/** The smallest order whose block holds nbytes, or -1 when none does. */
export function orderForBytes(nbytes: number): number {
  if (!(nbytes > 0)) return nbytes === 0 ? 0 : -1;
  const pages = Math.ceil(nbytes / PAGE_SIZE);
  let order = 0;
  while ((1 << order) < pages) order++;
  return order < MAX_ORDER ? order : -1;
}

/** Create an allocator with real bytes (see MemoryAllocator). */
export function createAllocator(opts: CreateAllocatorOptions): MemoryAllocator {
  return MemoryAllocator.create(opts);
}

/** Attach this thread (a worker) to a shared allocator from its handle. */
export function attachAllocator(handle: MemoryHandle, opts?: AttachOptions): MemoryAllocator {
  return MemoryAllocator.attach(handle, opts);
}
