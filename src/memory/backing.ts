/**
 * Backing stores: where the bytes of handed-out pages live. Labyrinth extension (the kernel's
 * direct map): a page's address is `base + pfn * PAGE_SIZE` (a plain Number, exact up to 2^53, so
 * memory above 4 GiB has no 32-bit limit), and its bytes live in the chunk that covers its pfn.
 *
 * Kinds:
 *  - `none`              no bytes at all: pure simulation of any size (addresses still work).
 *  - `arraybuffer`       one ArrayBuffer per chunk (single thread).
 *  - `sharedarraybuffer` one SharedArrayBuffer per chunk (workers receive them).
 *  - `wasm`              one WebAssembly.Memory for the whole managed span (≤ 4 GiB: memory32).
 *                        Shared memories grow on demand as allocations reach higher pfns (views
 *                        stay valid); an unshared memory is sized to the span at once, because
 *                        growing it would detach every view handed out before.
 *
 * Mapping: pfns are cut into CHUNK_PAGES-aligned chunks (1 GiB). A chunk is backed only over the
 * pfns that lie inside some zone's span, so the holes between zones (e.g. 3.5–4 GiB on a PC) and
 * chunks with no zone take no buffer at all. Every block the buddy allocator hands out is aligned
 * to its own size (≤ 4 MiB), so no allocation ever crosses a chunk: a view is always one slice of
 * one buffer. Untouched pages cost no RSS (buffers are committed lazily by the OS).
 */
import { PAGE_SIZE } from '../mm/constants.ts';
import { BadInputError } from '../errors.ts';

/**
 * The part of a WebAssembly.Memory this layer uses (the project's lib settings carry no DOM or wasm
 * types; a real `WebAssembly.Memory` fits this shape).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum?: number; shared?: boolean }): WasmMemory;
}

/** `new WebAssembly.Memory(…)` without DOM typings. */
export function newWasmMemory(descriptor: { initial: number; maximum?: number; shared?: boolean }): WasmMemory {
  const wasm = (globalThis as unknown as { WebAssembly?: { Memory: WasmMemoryConstructor } }).WebAssembly;
  if (wasm === undefined) throw new BadInputError('NO_WASM', 'Cannot create a WebAssembly.Memory: because this runtime has no WebAssembly');
  return new wasm.Memory(descriptor);
}

export type BackingKind = 'none' | 'arraybuffer' | 'sharedarraybuffer' | 'wasm';

/** log2 of the pages in one chunk: 2^18 pages = 1 GiB. */
export const CHUNK_SHIFT = 18;
export const CHUNK_PAGES = 1 << CHUNK_SHIFT;
/** WebAssembly page size (64 KiB) and the memory32 limit. */
const WASM_PAGE = 65536;
const WASM_MAX_PAGES = 65536;
/** A shared wasm memory grows by at least this many bytes at a time. */
const WASM_GROW_STEP = 64 * 1024 * 1024;

/** A pfn range [startPfn, endPfn) that may be handed out (a zone's span). */
export interface PfnSpan {
  startPfn: number;
  endPfn: number;
}

/** What a worker receives to reach the same bytes (structured-cloneable; buffers are shared). */
export interface BackingHandle {
  kind: BackingKind;
  /** Per chunk: its buffer (null = no backing) and the first pfn it covers. */
  chunks: Array<ArrayBuffer | SharedArrayBuffer | null>;
  chunkStartPfn: number[];
  /** wasm only. */
  memory?: WasmMemory;
  wasmStartPfn?: number;
  wasmEndPfn?: number;
}

export interface BackingOptions {
  kind: BackingKind;
  /** wasm: use this memory instead of creating one (it must be shared to be grown on demand). */
  memory?: WasmMemory;
}

/**
 * The chunk table of one attachment. Hot code reads `bufs[c]` and `startByte[c]` directly:
 * the byte offset of address `addr` is `addr - base - startByte[c]` with `c = pfn >>> CHUNK_SHIFT`.
 */
export class Backing {
  readonly kind: BackingKind;
  /** Per chunk: the buffer holding it, or null (no backing, or a chunk of holes). */
  readonly bufs: Array<ArrayBuffer | SharedArrayBuffer | null>;
  /** Per chunk: byte offset (from address base) of the buffer's first byte. */
  readonly startByte: Float64Array;
  /** Per chunk: whole-buffer byte views (fill, copy, poison checks), or null. */
  readonly u8: Array<Uint8Array | null>;
  readonly memory: WasmMemory | null;
  /** wasm: the pfn at byte 0 of the memory, and the end of what it must be able to cover. */
  readonly wasmStartPfn: number;
  readonly wasmEndPfn: number;
  /** Pages currently backed from wasmStartPfn (wasm); +Infinity for the other kinds. */
  backedEndPfn: number;
  private readonly growable: boolean;

  private constructor(kind: BackingKind, bufs: Array<ArrayBuffer | SharedArrayBuffer | null>, starts: number[],
    memory: WasmMemory | null, wasmStartPfn: number, wasmEndPfn: number) {
    this.kind = kind;
    this.bufs = bufs;
    this.startByte = new Float64Array(bufs.length);
    for (let c = 0; c < bufs.length; c++) this.startByte[c] = starts[c]! * PAGE_SIZE;
    this.u8 = bufs.map((b) => (b === null ? null : new Uint8Array(b)));
    this.memory = memory;
    this.wasmStartPfn = wasmStartPfn;
    this.wasmEndPfn = wasmEndPfn;
    this.growable = memory !== null && isSharedMemory(memory);
    this.backedEndPfn = memory === null ? Number.POSITIVE_INFINITY : wasmStartPfn + memory.buffer.byteLength / PAGE_SIZE;
  }

  /** Build the backing for pfns [0, nrPfn) whose usable spans are `spans`. */
  static create(opts: BackingOptions, spans: readonly PfnSpan[], nrPfn: number): Backing {
    const nrChunks = Math.max(1, Math.ceil(nrPfn / CHUNK_PAGES));
    const bufs: Array<ArrayBuffer | SharedArrayBuffer | null> = new Array(nrChunks).fill(null);
    const starts: number[] = new Array(nrChunks).fill(0);
    const kind = opts.kind;
    if (kind === 'none') return new Backing(kind, bufs, starts, null, 0, 0);
    const live = spans.filter((s) => s.endPfn > s.startPfn);
    if (live.length === 0) return new Backing(kind === 'wasm' ? 'none' : kind, bufs, starts, null, 0, 0);
    if (kind === 'wasm') {
      const lo = Math.min(...live.map((s) => s.startPfn));
      const hi = Math.max(...live.map((s) => s.endPfn));
      const bytes = (hi - lo) * PAGE_SIZE;
      const needPages = Math.ceil(bytes / WASM_PAGE);
      if (needPages > WASM_MAX_PAGES) {
        throw new BadInputError('BACKING_TOO_LARGE', `Cannot back ${bytes} bytes of pfn span with a WebAssembly.Memory: because memory32 holds at most 4 GiB (use 'sharedarraybuffer' or 'arraybuffer')`);
      }
      let memory = opts.memory;
      if (memory === undefined) {
        // A shared memory starts empty and grows on demand; an unshared one is sized at once.
        memory = newWasmMemory({ initial: 0, maximum: needPages, shared: true });
      } else if (!isSharedMemory(memory) && memory.buffer.byteLength < bytes) {
        memory.grow(needPages - memory.buffer.byteLength / WASM_PAGE);
      }
      const b = new Backing(kind, bufs, starts, memory, lo, hi);
      b.refreshWasm();
      return b;
    }
    const shared = kind === 'sharedarraybuffer';
    for (let c = 0; c < nrChunks; c++) {
      const cLo = c * CHUNK_PAGES;
      const cHi = cLo + CHUNK_PAGES;
      let lo = Number.POSITIVE_INFINITY;
      let hi = -1;
      for (const s of live) {
        const a = Math.max(s.startPfn, cLo);
        const e = Math.min(s.endPfn, cHi);
        if (e > a) { lo = Math.min(lo, a); hi = Math.max(hi, e); }
      }
      if (hi < 0) continue;
      const bytes = (hi - lo) * PAGE_SIZE;
      bufs[c] = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
      starts[c] = lo;
    }
    return new Backing(kind, bufs, starts, null, 0, 0);
  }

  /** Rebuild a backing from what another thread handed over. */
  static attach(h: BackingHandle): Backing {
    if (h.kind === 'wasm') {
      const nr = h.chunks.length;
      const b = new Backing('wasm', new Array(nr).fill(null), new Array(nr).fill(0), h.memory!, h.wasmStartPfn!, h.wasmEndPfn!);
      b.refreshWasm();
      return b;
    }
    return new Backing(h.kind, h.chunks.slice(), h.chunkStartPfn.slice(), null, 0, 0);
  }

  /** What to post to a worker. Throws when the bytes cannot be shared. */
  handle(): BackingHandle {
    if (this.kind === 'arraybuffer') {
      throw new BadInputError('BACKING_NOT_SHARED', "Cannot share an allocator backed by ArrayBuffers with a worker: because an ArrayBuffer cannot be shared (use backing 'sharedarraybuffer' or 'wasm')");
    }
    if (this.kind === 'wasm' && !isSharedMemory(this.memory!)) {
      throw new BadInputError('BACKING_NOT_SHARED', 'Cannot share an allocator backed by an unshared WebAssembly.Memory with a worker: because its buffer is not a SharedArrayBuffer');
    }
    const chunkStartPfn: number[] = [];
    for (let c = 0; c < this.bufs.length; c++) chunkStartPfn.push(this.startByte[c]! / PAGE_SIZE);
    const h: BackingHandle = { kind: this.kind, chunks: this.kind === 'wasm' ? this.bufs.map(() => null) : this.bufs.slice(), chunkStartPfn };
    if (this.memory !== null) {
      h.memory = this.memory;
      h.wasmStartPfn = this.wasmStartPfn;
      h.wasmEndPfn = this.wasmEndPfn;
    }
    return h;
  }

  /** Total bytes of buffers (virtual; the OS commits them as they are touched). */
  reservedBytes(): number {
    if (this.memory !== null) return this.memory.buffer.byteLength;
    let n = 0;
    for (const b of this.bufs) if (b !== null) n += b.byteLength;
    return n;
  }

  /**
   * wasm: make sure pfns below `endPfn` are backed, growing a shared memory (never past its span).
   * Called with every allocation's end pfn; cheap when already covered.
   */
  ensureBacked(endPfn: number): void {
    if (endPfn <= this.backedEndPfn) return;
    this.growTo(endPfn);
  }

  private growTo(endPfn: number): void {
    const mem = this.memory!;
    // Another thread may have grown it already.
    if (this.refreshWasm() && endPfn <= this.backedEndPfn) return;
    if (!this.growable) return;
    const have = mem.buffer.byteLength;
    const maxBytes = Math.ceil(((this.wasmEndPfn - this.wasmStartPfn) * PAGE_SIZE) / WASM_PAGE) * WASM_PAGE;
    const want = Math.min(maxBytes, Math.max((endPfn - this.wasmStartPfn) * PAGE_SIZE, have + WASM_GROW_STEP));
    const pages = Math.ceil((want - have) / WASM_PAGE);
    if (pages > 0) {
      try {
        mem.grow(pages);
      } catch {
        // A racing grow from another thread may have taken us past the maximum; re-read below.
      }
    }
    this.refreshWasm();
  }

  /**
   * wasm: re-read `memory.buffer` (a shared memory grown by another thread shows a longer buffer).
   * Returns true when the buffer changed.
   */
  refreshWasm(): boolean {
    const mem = this.memory;
    if (mem === null) return false;
    const buf = mem.buffer;
    const changed = this.bufs[0] !== buf;
    if (changed || this.backedEndPfn !== this.wasmStartPfn + buf.byteLength / PAGE_SIZE) {
      const u8 = new Uint8Array(buf);
      for (let c = 0; c < this.bufs.length; c++) {
        this.bufs[c] = buf;
        this.u8[c] = u8;
        this.startByte[c] = this.wasmStartPfn * PAGE_SIZE;
      }
      this.backedEndPfn = this.wasmStartPfn + Math.floor(buf.byteLength / PAGE_SIZE);
      return true;
    }
    return false;
  }
}

function isSharedMemory(mem: WasmMemory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer;
}
