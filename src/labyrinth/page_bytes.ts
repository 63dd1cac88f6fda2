/**
 * Page contents for exclusive pages: the narrow interface the key-gated accessors use, with three backings —
 * a sparse simulation (pages cost memory only once written), a real contiguous ArrayBuffer /
 * SharedArrayBuffer (every pfn has its 4 KiB at `pfn * PAGE_SIZE`), and src/memory's chunked backing store
 * (BackingPageBytes). The backing itself knows nothing of keys: it is "physical memory". Exclusive pages stay off the
 * direct map because nothing hands out their addresses (page_address / virt_to_page refuse them) and the
 * key-gated accessors copy bytes in and out; no live view of an exclusive page ever escapes.
 */
import { PAGE_SHIFT, PAGE_SIZE } from '../mm/constants.ts';
import { CHUNK_PAGES } from '../memory/backing.ts';

export interface PageBytes {
  /** 'sim' (sparse) or 'arraybuffer' (real memory). */
  readonly kind: string;
  /** Copy `dst.length` bytes of page `pfn` starting at `offset` into dst. */
  read(pfn: number, offset: number, dst: Uint8Array): void;
  /** Copy src into page `pfn` at `offset`. */
  write(pfn: number, offset: number, src: Uint8Array): void;
  /** Zero `nrPages` pages from pfn (clear_page / the wipe). */
  zero(pfn: number, nrPages: number): void;
  /**
   * Physical read at a byte address (pfn * PAGE_SIZE + offset), bypassing every check: what a stray pointer or
   * a debugger sees. Tests use it to prove freed exclusive pages read as zeros.
   */
  physRead(addr: number, len: number): Uint8Array;
}

/** Sparse page contents: a page that was never written (or was zeroed) reads as zeros. */
export class SimPageBytes implements PageBytes {
  readonly kind = 'sim';
  private readonly pages = new Map<number, Uint8Array>();

  read(pfn: number, offset: number, dst: Uint8Array): void {
    const p = this.pages.get(pfn);
    if (p === undefined) dst.fill(0);
    else dst.set(p.subarray(offset, offset + dst.length));
  }

  write(pfn: number, offset: number, src: Uint8Array): void {
    let p = this.pages.get(pfn);
    if (p === undefined) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(pfn, p);
    }
    p.set(src, offset);
  }

  zero(pfn: number, nrPages: number): void {
    if (this.pages.size === 0) return; // nothing was ever written (or all of it was wiped): every page reads as zeros
    for (let i = 0; i < nrPages; i++) this.pages.delete(pfn + i);
  }

  physRead(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len;) {
      const a = addr + i;
      const pfn = Math.floor(a / PAGE_SIZE);
      const off = a - pfn * PAGE_SIZE;
      const n = Math.min(len - i, PAGE_SIZE - off);
      this.read(pfn, off, out.subarray(i, i + n));
      i += n;
    }
    return out;
  }

  /** Pages currently holding bytes (for tests: a wiped page holds none). */
  get nrPopulated(): number {
    return this.pages.size;
  }
}

/** Real memory: one (Shared)ArrayBuffer holding `nrPfn` pages, pfn p at byte p << PAGE_SHIFT. */
export class ArrayBufferPageBytes implements PageBytes {
  readonly kind = 'arraybuffer';
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  private readonly u8: Uint8Array;

  constructor(nrPfn: number, shared = false) {
    const bytes = nrPfn * PAGE_SIZE;
    this.buffer = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    this.u8 = new Uint8Array(this.buffer);
  }

  read(pfn: number, offset: number, dst: Uint8Array): void {
    const at = (pfn << PAGE_SHIFT) + offset;
    dst.set(this.u8.subarray(at, at + dst.length));
  }

  write(pfn: number, offset: number, src: Uint8Array): void {
    this.u8.set(src, (pfn << PAGE_SHIFT) + offset);
  }

  zero(pfn: number, nrPages: number): void {
    const at = pfn << PAGE_SHIFT;
    this.u8.fill(0, at, at + nrPages * PAGE_SIZE);
  }

  physRead(addr: number, len: number): Uint8Array {
    return this.u8.slice(addr, addr + len);
  }
}

/** The part of src/memory's Backing this adapter reads (structural, so either side can evolve). */
export interface BackingLike {
  readonly kind: string;
  readonly u8: ReadonlyArray<Uint8Array | null>;
  readonly startByte: Float64Array;
  refreshWasm?(): boolean;
}

/**
 * Exclusive-page contents in src/memory's real backing store (ArrayBuffer, SharedArrayBuffer or
 * WebAssembly.Memory, in chunks of 2^18 pages): the labyrinth layer writes, reads and wipes the very bytes a
 * `MemoryAllocator` hands out. Install `labs.exclusive.gate()` with `setExclusiveGate` so that its
 * `bytes(addr, n, key)` opens an exclusive page only with the page's live key.
 */
export class BackingPageBytes implements PageBytes {
  readonly kind: string;
  private readonly b: BackingLike;

  constructor(backing: BackingLike) {
    this.b = backing;
    this.kind = `memory:${backing.kind}`;
  }

  /** The chunk bytes and the offset of byte `at` (an address relative to pfn 0) inside them. */
  private locate(at: number, len: number): [Uint8Array, number] {
    const chunk = Math.floor(at / (PAGE_SIZE * CHUNK_PAGES));
    if (this.b.kind === 'wasm') this.b.refreshWasm?.();
    const u8 = this.b.u8[chunk];
    if (u8 === null || u8 === undefined) throw new RangeError(`Cannot reach byte 0x${at.toString(16)}: because no backing store holds it`);
    const off = at - this.b.startByte[chunk]!;
    if (off < 0 || off + len > u8.length) throw new RangeError(`Cannot reach bytes [0x${at.toString(16)}, +${len}): because they cross the backing store`);
    return [u8, off];
  }

  read(pfn: number, offset: number, dst: Uint8Array): void {
    const [u8, off] = this.locate(pfn * PAGE_SIZE + offset, dst.length);
    dst.set(u8.subarray(off, off + dst.length));
  }

  write(pfn: number, offset: number, src: Uint8Array): void {
    const [u8, off] = this.locate(pfn * PAGE_SIZE + offset, src.length);
    u8.set(src, off);
  }

  zero(pfn: number, nrPages: number): void {
    if (this.b.kind === 'none') return;
    for (let i = 0; i < nrPages; i++) {
      const [u8, off] = this.locate((pfn + i) * PAGE_SIZE, PAGE_SIZE);
      u8.fill(0, off, off + PAGE_SIZE);
    }
  }

  physRead(addr: number, len: number): Uint8Array {
    const [u8, off] = this.locate(addr, len);
    return u8.slice(off, off + len);
  }
}
