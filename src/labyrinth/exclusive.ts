/**
 * Exclusive pages (`__GFP_EXCL`, a Labyrinth extension): blocks owned by exactly one labyrinth through one
 * unforgeable key, never aliased, off the direct map, unmovable, unevictable, and wiped on the way in and out.
 * Modelled per allocation on memfd_secret (kernel-facts §9).
 * @kernel mm/secretmem.c secretmem_fault (allocate zeroed, drop from the direct map), secretmem_free_folio
 *   (restore the direct map, zero before the page returns to the allocator), secretmem_migrate_folio (-EBUSY)
 *
 * Keys are capabilities, not numbers: an `ExclusiveKey` is a frozen, empty object that only this module can
 * mint; what it opens is recorded in a module-private WeakMap. Copying a key's fields gives nothing (it has
 * none), `Object.create(ExclusiveKey.prototype)` gives an object the registry does not know (EXCL_FORGED_KEY),
 * a key minted by another allocator's manager is refused (EXCL_FOREIGN_KEY), a key held out by another
 * labyrinth is refused (EXCL_WRONG_LABYRINTH), a transferred or freed key is revoked (EXCL_REVOKED_KEY), and a
 * record whose page no longer carries its owner and generation is stale (EXCL_STALE_KEY). Every check runs
 * before anything changes.
 *
 * In the buffer an exclusive block is an ordinary allocated block (verify() I7 holds): its head carries
 * PG_exclusive | PG_unevictable, `next` = the owning labyrinth's id, `prev` = the allocation's generation;
 * blocks of order > 0 are compound (__GFP_COMP), so every tail resolves to the exclusive head and
 * page_address / virt_to_page / get_page / split_page refuse all of its pages (hooks in src/alloc/page_alloc.ts).
 */
import {
  __GFP_COMP, __GFP_EXCL, __GFP_MOVABLE, __GFP_RECLAIMABLE, __GFP_ZERO, __GFP_DIRECT_RECLAIM,
} from '../gfp/bits.ts';
import type { PageAllocator } from '../alloc/page_alloc.ts';
import { MAX_ORDER, PAGE_SIZE } from '../mm/constants.ts';
import { PG_exclusive, PG_lru, PG_tail, PG_unevictable, ORDER_MASK, clearPageExclusive, setPageExclusive } from '../mm/page_flags.ts';
import { ExclusivePageError } from '../errors.ts';
import type { PageBytes } from './page_bytes.ts';

const MINT: unique symbol = Symbol('ExclusiveKey.mint');

/** A capability that opens one exclusive block. It carries no data; hold it, pass it, never print it. */
export class ExclusiveKey {
  constructor(token: typeof MINT) {
    if (token !== MINT) throw new ExclusivePageError('EXCL_FORGED_KEY', 'Cannot create an ExclusiveKey: because keys are minted only by the allocator');
    Object.freeze(this);
  }
  toString(): string {
    return '[ExclusiveKey]';
  }
  toJSON(): string {
    return '[ExclusiveKey]';
  }
}
Object.freeze(ExclusiveKey.prototype);

/** What a key opens (module-private). */
interface KeyRecord {
  readonly mgr: ExclusivePages;
  readonly pfn: number;
  readonly order: number;
  readonly generation: number;
  labyrinthId: number;
  /** Holder inside the labyrinth (a task id), 0 = the labyrinth itself. */
  holder: number;
  revoked: boolean;
  /** Why the key was revoked (for the error message). */
  revokedBy: string;
  readonly key: ExclusiveKey;
}

const RECORDS = new WeakMap<object, KeyRecord>();
// Bound at load time: patching WeakMap.prototype later cannot make the registry answer for a forged key.
const recordOf: (key: object) => KeyRecord | undefined = WeakMap.prototype.get.bind(RECORDS) as (key: object) => KeyRecord | undefined;
const fileRecord: (key: object, rec: KeyRecord) => void = WeakMap.prototype.set.bind(RECORDS) as (key: object, rec: KeyRecord) => void;

/** Why an exclusive allocation failed (a value, not an exception: expected failure under pressure). */
export interface ExclusiveAllocFailure {
  readonly ok: false;
  readonly code: 'EXCL_NOMEM' | 'EXCL_CHARGE';
  readonly order: number;
  readonly gfp: number;
  readonly message: string;
}

/** A read-only view of a live key's record (for the owner and for tests). */
export interface ExclusiveInfo {
  pfn: number;
  order: number;
  nrPages: number;
  generation: number;
  labyrinthId: number;
  holder: number;
}

export class ExclusivePages {
  readonly alloc: PageAllocator;
  readonly bytes: PageBytes;
  /** Live records per labyrinth id (#private: records hold keys, so no reference may leak). */
  readonly #byLabyrinth = new Map<number, Set<KeyRecord>>();
  /** Live records by head pfn (one at most: never aliased). */
  readonly #byPfn = new Map<number, KeyRecord>();
  /** Pages wiped so far (on allocation and on release). */
  wipedPages = 0;

  constructor(alloc: PageAllocator, bytes: PageBytes) {
    this.alloc = alloc;
    this.bytes = bytes;
  }

  /** Live exclusive blocks held by a labyrinth. */
  count(labyrinthId: number): number {
    return this.#byLabyrinth.get(labyrinthId)?.size ?? 0;
  }

  /**
   * Allocate a zeroed exclusive block of 2^order pages for a labyrinth (uncharged: the domain charges).
   * Never sleeps here: the request takes the core's path its gfp allows (an atomic request its reserves),
   * then fails with a plain reason.
   */
  allocate(labyrinthId: number, holder: number, gfp: number, order: number, cpu = 0): ExclusiveKey | ExclusiveAllocFailure {
    if ((gfp & (__GFP_MOVABLE | __GFP_RECLAIMABLE)) !== 0) {
      throw new ExclusivePageError('EXCL_BAD_GFP', 'Cannot allocate an exclusive page with __GFP_MOVABLE or __GFP_RECLAIMABLE: because exclusive pages are never migrated or reclaimed, so they are MIGRATE_UNMOVABLE');
    }
    if (!(order >= 0 && order < MAX_ORDER) || (order | 0) !== order) {
      throw new ExclusivePageError('EXCL_BAD_GFP', `Cannot allocate an exclusive block of order ${order}: because orders run 0..${MAX_ORDER - 1}`);
    }
    // The wipe is ours (bytes.zero), so __GFP_ZERO is dropped; order > 0 is compound so tails resolve to the head.
    const coreGfp = ((gfp & ~(__GFP_EXCL | __GFP_ZERO)) | (order > 0 ? __GFP_COMP : 0)) >>> 0;
    const pfn = this.alloc.alloc_pages(coreGfp, order, cpu);
    if (pfn < 0) {
      const why = this.alloc.describeAllocFailure();
      const atomic = (gfp & __GFP_DIRECT_RECLAIM) === 0;
      return Object.freeze({
        ok: false as const, code: 'EXCL_NOMEM' as const, order, gfp,
        message: `Cannot allocate an exclusive order-${order} block: ${why.replace(/^Cannot allocate [^:]*: because /, 'because ')}`
          + (atomic ? '. This request may not sleep: it never waits for reclaim, so under pressure it fails at once; preallocate with a mempool when failure is not an option' : ''),
      });
    }
    const m = this.alloc.mm;
    m.flags[pfn] = setPageExclusive(m.flags[pfn]!);
    this.alloc.setPageOwner(pfn, labyrinthId);
    this.bytes.zero(pfn, 1 << order);
    this.wipedPages += 1 << order;
    return this.mint(pfn, order, this.alloc.pageGeneration(pfn), labyrinthId, holder);
  }

  private mint(pfn: number, order: number, generation: number, labyrinthId: number, holder: number): ExclusiveKey {
    const key = new ExclusiveKey(MINT);
    const rec: KeyRecord = { mgr: this, pfn, order, generation, labyrinthId, holder, revoked: false, revokedBy: '', key };
    fileRecord(key, rec);
    this.#byPfn.set(pfn, rec);
    let set = this.#byLabyrinth.get(labyrinthId);
    if (set === undefined) {
      set = new Set();
      this.#byLabyrinth.set(labyrinthId, set);
    }
    set.add(rec);
    return key;
  }

  /** Resolve a key presented by labyrinth `labyrinthId`, or throw (changing nothing). */
  private check(labyrinthId: number, key: unknown, what: string): KeyRecord {
    const rec = typeof key === 'object' && key !== null ? recordOf(key) : undefined;
    if (rec === undefined) {
      throw new ExclusivePageError('EXCL_FORGED_KEY', `Cannot ${what}: because the key was not minted by any exclusive-page allocator (forged)`);
    }
    if (rec.mgr !== this) {
      throw new ExclusivePageError('EXCL_FOREIGN_KEY', `Cannot ${what}: because the key belongs to another allocator`);
    }
    if (rec.revoked) {
      throw new ExclusivePageError('EXCL_REVOKED_KEY', `Cannot ${what}: because the key was revoked (${rec.revokedBy})`, rec.pfn);
    }
    if (rec.labyrinthId !== labyrinthId) {
      throw new ExclusivePageError('EXCL_WRONG_LABYRINTH', `Cannot ${what}: because the page belongs to another labyrinth`, rec.pfn);
    }
    const m = this.alloc.mm;
    const f = m.flags[rec.pfn]!;
    if ((f & PG_exclusive) === 0 || this.alloc.pageOwner(rec.pfn) !== labyrinthId || this.alloc.pageGeneration(rec.pfn) !== rec.generation) {
      throw new ExclusivePageError('EXCL_STALE_KEY', `Cannot ${what}: because the page no longer carries this key's owner and generation (stale handle)`, rec.pfn);
    }
    return rec;
  }

  private checkRange(rec: KeyRecord, offset: number, len: number, what: string): void {
    const bytes = PAGE_SIZE << rec.order;
    if (!(offset >= 0 && len >= 0 && offset + len <= bytes) || (offset | 0) !== offset || (len | 0) !== len) {
      throw new ExclusivePageError('EXCL_RANGE', `Cannot ${what}: because [${offset}, ${offset + len}) is outside the block's ${bytes} bytes`, rec.pfn);
    }
  }

  /** Facts about a live key (throws like any use of the key). */
  info(labyrinthId: number, key: ExclusiveKey): ExclusiveInfo {
    const rec = this.check(labyrinthId, key, 'inspect an exclusive page');
    return { pfn: rec.pfn, order: rec.order, nrPages: 1 << rec.order, generation: rec.generation, labyrinthId: rec.labyrinthId, holder: rec.holder };
  }

  /** Holder (task id) of a key's block, for the domain's bookkeeping. */
  holderOf(labyrinthId: number, key: ExclusiveKey): number {
    return this.check(labyrinthId, key, 'use an exclusive page').holder;
  }

  /**
   * The key check src/memory's `MemoryAllocator.setExclusiveGate` expects: true only for the live key of the
   * exclusive block headed at pfn, minted by this manager, whose page still carries its owner and generation.
   */
  gate(): (pfn: number, key: unknown) => boolean {
    return (pfn: number, key: unknown): boolean => {
      const rec = typeof key === 'object' && key !== null ? recordOf(key) : undefined;
      if (rec === undefined || rec.mgr !== this || rec.revoked || rec.pfn !== pfn) return false;
      return (this.alloc.mm.flags[pfn]! & PG_exclusive) !== 0 && this.alloc.pageOwner(pfn) === rec.labyrinthId
        && this.alloc.pageGeneration(pfn) === rec.generation;
    };
  }

  /** Record which holder (task id) of the labyrinth holds the block. */
  setHolder(labyrinthId: number, key: ExclusiveKey, holder: number): void {
    this.check(labyrinthId, key, 'use an exclusive page').holder = holder;
  }

  /** Copy `len` bytes out of the block at `offset`. */
  read(labyrinthId: number, key: ExclusiveKey, offset: number, len: number): Uint8Array {
    const rec = this.check(labyrinthId, key, 'read an exclusive page');
    this.checkRange(rec, offset, len, 'read an exclusive page');
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = offset + done;
      const page = Math.floor(at / PAGE_SIZE);
      const off = at - page * PAGE_SIZE;
      const n = Math.min(len - done, PAGE_SIZE - off);
      this.bytes.read(rec.pfn + page, off, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }

  /** Copy `data` into the block at `offset`. */
  write(labyrinthId: number, key: ExclusiveKey, offset: number, data: Uint8Array): void {
    const rec = this.check(labyrinthId, key, 'write an exclusive page');
    this.checkRange(rec, offset, data.length, 'write an exclusive page');
    let done = 0;
    while (done < data.length) {
      const at = offset + done;
      const page = Math.floor(at / PAGE_SIZE);
      const off = at - page * PAGE_SIZE;
      const n = Math.min(data.length - done, PAGE_SIZE - off);
      this.bytes.write(rec.pfn + page, off, data.subarray(done, done + n));
      done += n;
    }
  }

  /** Check a key for `free` without freeing (the domain uncharges after). Returns nrPages and holder. */
  peek(labyrinthId: number, key: ExclusiveKey, what: string): { nrPages: number; holder: number; pfn: number } {
    const rec = this.check(labyrinthId, key, what);
    return { nrPages: 1 << rec.order, holder: rec.holder, pfn: rec.pfn };
  }

  /** Wipe and free the block; the key is revoked. Returns the pages freed. */
  free(labyrinthId: number, key: ExclusiveKey, cpu = 0): number {
    const rec = this.check(labyrinthId, key, 'free an exclusive page');
    return this.release(rec, 'the page was freed', cpu);
  }

  /** Zero, drop the exclusive state, return the block to the buddy allocator, revoke the key. */
  private release(rec: KeyRecord, why: string, cpu: number): number {
    const nr = 1 << rec.order;
    this.bytes.zero(rec.pfn, nr);
    this.wipedPages += nr;
    const m = this.alloc.mm;
    m.flags[rec.pfn] = clearPageExclusive(m.flags[rec.pfn]!);
    this.alloc.setPageOwner(rec.pfn, 0);
    this.alloc.__free_pages(rec.pfn, rec.order, cpu);
    this.forget(rec, why);
    return nr;
  }

  private forget(rec: KeyRecord, why: string): void {
    rec.revoked = true;
    rec.revokedBy = why;
    this.#byPfn.delete(rec.pfn);
    this.#byLabyrinth.get(rec.labyrinthId)?.delete(rec);
  }

  /**
   * Hand the block to another holder (possibly in another labyrinth): a new key is minted and the old one is
   * revoked at once. The page's bytes and pfn stay; its owner id becomes the new labyrinth's.
   */
  transfer(labyrinthId: number, key: ExclusiveKey, toLabyrinthId: number, toHolder: number): ExclusiveKey {
    const rec = this.check(labyrinthId, key, 'transfer an exclusive page');
    this.forget(rec, 'the page was transferred; the new holder has the only key');
    this.alloc.setPageOwner(rec.pfn, toLabyrinthId);
    return this.mint(rec.pfn, rec.order, rec.generation, toLabyrinthId, toHolder);
  }

  /** Wipe and free every block a holder (or, with holder < 0, a whole labyrinth) holds. Returns pages freed. */
  releaseAll(labyrinthId: number, holder: number, why: string, cpu = 0): number {
    const set = this.#byLabyrinth.get(labyrinthId);
    if (set === undefined) return 0;
    let nr = 0;
    for (const rec of Array.from(set)) {
      if (holder < 0 || rec.holder === holder) nr += this.release(rec, why, cpu);
    }
    if (holder < 0) this.#byLabyrinth.delete(labyrinthId);
    return nr;
  }

  /** Pages held by one holder of a labyrinth. */
  pagesHeldBy(labyrinthId: number, holder: number): number {
    let nr = 0;
    for (const rec of this.#byLabyrinth.get(labyrinthId) ?? []) if (rec.holder === holder) nr += 1 << rec.order;
    return nr;
  }

  /**
   * The isolation invariants (docs/labyrinths.md X1–X5), over every live key and every page:
   * X1 each live key's head carries PG_exclusive|PG_unevictable and never PG_lru or PG_tail, refcount exactly 1;
   * X2 its owner id is the key's labyrinth and its generation the key's; X3 order > 0 blocks are compound with
   * every tail pointing at the head; X4 every PG_exclusive page in the buffer is the head of exactly one live
   * key; X5 `liveLabyrinths` (when given) holds every owning labyrinth. Throws ExclusivePageError('EXCL_INVARIANT').
   */
  verify(liveLabyrinths?: ReadonlySet<number>): void {
    const m = this.alloc.mm;
    const bad = (inv: string, msg: string): never => {
      throw new ExclusivePageError('EXCL_INVARIANT', `${inv}: ${msg}`);
    };
    for (const [pfn, rec] of this.#byPfn) {
      const f = m.flags[pfn]!;
      if ((f & (PG_exclusive | PG_unevictable)) !== (PG_exclusive | PG_unevictable) || (f & (PG_lru | PG_tail)) !== 0) bad('X1', `pfn ${pfn} flags 0x${f.toString(16)}`);
      if (m.refcount[pfn] !== 1) bad('X1', `pfn ${pfn} refcount ${m.refcount[pfn]} (an exclusive page is never aliased)`);
      if ((m.order[pfn]! & ORDER_MASK) !== rec.order) bad('X1', `pfn ${pfn} order ${m.order[pfn]! & ORDER_MASK}, key says ${rec.order}`);
      if (this.alloc.pageOwner(pfn) !== rec.labyrinthId || this.alloc.pageGeneration(pfn) !== rec.generation) bad('X2', `pfn ${pfn} owner/generation do not match its key`);
      for (let t = pfn + 1; t < pfn + (1 << rec.order); t++) {
        if (this.alloc.compound_head(t) !== pfn) bad('X3', `tail ${t} does not resolve to exclusive head ${pfn}`);
      }
      if (liveLabyrinths !== undefined && !liveLabyrinths.has(rec.labyrinthId)) bad('X5', `pfn ${pfn} is held by dead labyrinth ${rec.labyrinthId}`);
      if (!this.#byLabyrinth.get(rec.labyrinthId)?.has(rec)) bad('X4', `pfn ${pfn}'s key is not filed under its labyrinth`);
    }
    for (let pfn = 0; pfn < m.nrPfn; pfn++) {
      if ((m.flags[pfn]! & PG_exclusive) !== 0 && !this.#byPfn.has(pfn)) bad('X4', `pfn ${pfn} is PG_exclusive without a live key`);
    }
    let n = 0;
    for (const set of this.#byLabyrinth.values()) n += set.size;
    if (n !== this.#byPfn.size) bad('X4', `${n} keys filed by labyrinth, ${this.#byPfn.size} by pfn`);
  }
}
