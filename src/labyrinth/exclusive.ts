/**
 * Exclusive pages (`__GFP_EXCL`, a Labyrinth extension): blocks owned by exactly one labyrinth through one
 * unforgeable key, never aliased, off the direct map, unmovable, unevictable, and wiped on the way in and out.
 * Modelled per allocation on memfd_secret (kernel-facts §9).
 * @kernel mm/secretmem.c secretmem_fault (allocate zeroed, drop from the direct map), secretmem_free_folio
 *   (restore the direct map, zero before the page returns to the allocator), secretmem_migrate_folio (-EBUSY)
 *
 * Keys are capabilities, not numbers: an `ExclusiveKey` is a frozen object with no properties that only this
 * module can mint; what it opens is its record, held in its own class-private fields (`#mgr`, `#pfn`, …) that
 * only this module reads (one object per key: a check touches one cache line). Copying a key's properties gives nothing (it has none), and `Object.create(ExclusiveKey.prototype)`,
 * a clone or a proxy lacks the private field (`#mgr in key` is false: EXCL_FORGED_KEY),
 * a key minted by another allocator's manager is refused (EXCL_FOREIGN_KEY), a key held out by another
 * labyrinth is refused (EXCL_WRONG_LABYRINTH), a transferred or freed key is revoked (EXCL_REVOKED_KEY), and a
 * record whose page no longer carries its owner and generation is stale (EXCL_STALE_KEY). Every check runs
 * before anything changes.
 *
 * In the buffer an exclusive block is an ordinary allocated block (verify() I7 holds): its head carries
 * PG_exclusive | PG_unevictable, `next` = the owning labyrinth's id, `prev` = the allocation's generation;
 * blocks of order > 0 are compound (__GFP_COMP), so every tail resolves to the exclusive head and
 * page_address / virt_to_page / get_page / split_page refuse all of its pages (hooks in src/alloc/page_alloc.ts).
 *
 * Across threads (issue 6): key objects never cross a thread; once keys are shared, each carries a 128-bit
 * random secret (drawn only then: `shareKeys()` draws one for every live key, and afterwards each key is
 * minted with one; without a table no secret is ever read). Once `shareKeys()` is called, each live key has a
 * record in a shared key table (SharedArrayBuffer, one
 * record per head pfn: labyrinth id, generation, secret, and the page's last revoked secret). `exportKey`
 * gives an opaque token { pfn, secret }; another thread's manager attached to the same table
 * (`{ keyTable }`) turns it into a key of its own with `importKey` only if the secret matches the live record
 * and the importing labyrinth is the record's. Free, transfer and release clear the record, so every token
 * and every imported key of that page dies at once in every thread. Imported keys read, write and open bytes;
 * only the minting manager frees or transfers (EXCL_IMPORTED_KEY otherwise).
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

/**
 * Module-private access to a key's fields (assigned in ExclusiveKey's static block; nothing outside this
 * module can reach it). A key is its own record: one object, so a check costs one cache line, not two.
 */
interface KeyFields {
  /** Fill a fresh key's record (mint and import only). */
  init(k: ExclusiveKey, pfn: number, order: number, generation: number, labyrinthId: number, holder: number,
    secret: Uint32Array | null, imported: boolean): ExclusiveKey;
  /** True only for objects ExclusiveKey's constructor built (`#mgr in x`: a clone, proxy or Object.create lacks it). */
  is(x: unknown): x is ExclusiveKey;
  mgr(k: ExclusiveKey): ExclusivePages;
  pfn(k: ExclusiveKey): number;
  order(k: ExclusiveKey): number;
  generation(k: ExclusiveKey): number;
  labyrinthId(k: ExclusiveKey): number;
  holder(k: ExclusiveKey): number;
  setHolder(k: ExclusiveKey, holder: number): void;
  revoked(k: ExclusiveKey): boolean;
  revokedBy(k: ExclusiveKey): string;
  revoke(k: ExclusiveKey, why: string): void;
  secret(k: ExclusiveKey): Uint32Array | null;
  setSecret(k: ExclusiveKey, secret: Uint32Array): void;
  imported(k: ExclusiveKey): boolean;
  slot(k: ExclusiveKey): number;
  setSlot(k: ExclusiveKey, slot: number): void;
}
let K: KeyFields;

/**
 * A capability that opens one exclusive block. It has no properties; what it opens (its record) sits in its
 * class-private fields, which only this module reads. Hold it, pass it, never print it.
 */
export class ExclusiveKey {
  // The brand and the record: only objects built by this constructor have these fields, and only K reads them.
  readonly #mgr: ExclusivePages;
  // Set once, by K.init right after the constructor (mint and import only).
  #pfn = -1;
  #order = 0;
  #generation = 0;
  #labyrinthId = 0;
  /** Holder inside the labyrinth (a task id), 0 = the labyrinth itself. */
  #holder = 0;
  #revoked = false;
  /** Why the key was revoked (for the error message). */
  #revokedBy = '';
  /**
   * 128 random bits naming this key in the shared key table (the same for every import of it); null until
   * the manager has a table (drawn by `shareKeys()` for live keys, at mint afterwards).
   */
  #secret: Uint32Array | null = null;
  /** Imported from a token (another thread's key): opens bytes, never frees or transfers. */
  #imported = false;
  /** Its index in its labyrinth's LabyrinthKeys.keys while live and minted here, else -1. */
  #slot = -1;

  constructor(token: typeof MINT, mgr: ExclusivePages) {
    if (token !== MINT) throw new ExclusivePageError('EXCL_FORGED_KEY', 'Cannot create an ExclusiveKey: because keys are minted only by the allocator');
    this.#mgr = mgr;
    Object.freeze(this); // no properties can be added; the private fields stay writable by this module alone
  }

  static {
    K = {
      init: (k, pfn, order, generation, labyrinthId, holder, secret, imported) => {
        k.#pfn = pfn;
        k.#order = order;
        k.#generation = generation;
        k.#labyrinthId = labyrinthId;
        k.#holder = holder;
        k.#secret = secret;
        k.#imported = imported;
        return k;
      },
      is: (x: unknown): x is ExclusiveKey => typeof x === 'object' && x !== null && #mgr in x,
      mgr: (k) => k.#mgr,
      pfn: (k) => k.#pfn,
      order: (k) => k.#order,
      generation: (k) => k.#generation,
      labyrinthId: (k) => k.#labyrinthId,
      holder: (k) => k.#holder,
      setHolder: (k, holder) => { k.#holder = holder; },
      revoked: (k) => k.#revoked,
      revokedBy: (k) => k.#revokedBy,
      revoke: (k, why) => { k.#revoked = true; k.#revokedBy = why; },
      secret: (k) => k.#secret,
      setSecret: (k, secret) => { k.#secret = secret; },
      imported: (k) => k.#imported,
      slot: (k) => k.#slot,
      setSlot: (k, slot) => { k.#slot = slot; },
    };
  }

  toString(): string {
    return '[ExclusiveKey]';
  }
  toJSON(): string {
    return '[ExclusiveKey]';
  }
}
Object.freeze(ExclusiveKey.prototype);

/** What crosses threads for a key: structured-cloneable, opaque; treat it like the key itself. */
export interface ExclusiveKeyToken {
  readonly pfn: number;
  readonly secret: Uint32Array;
}

export interface ExclusivePagesOptions {
  /** Attach to the shared key table of another thread's manager (its `shareKeys()`), for `importKey`. */
  keyTable?: SharedArrayBuffer;
}

/**
 * Shared key table: Int32 words per pfn: [seq, live, labyrinthId, generation, secret×4, lastRevoked×4].
 * `seq` is a seqlock (odd while a record is written; one writer per record: the manager that holds the page).
 */
const KT_SEQ = 0, KT_LIVE = 1, KT_LAB = 2, KT_GEN = 3, KT_SECRET = 4, KT_LAST = 8, KT_STRIDE = 12;

interface TableRecord { live: boolean; labyrinthId: number; generation: number; secret: Uint32Array; last: Uint32Array }

function readTable(t: Int32Array, pfn: number): TableRecord {
  const b = pfn * KT_STRIDE;
  const secret = new Uint32Array(4), last = new Uint32Array(4);
  for (;;) {
    const s1 = Atomics.load(t, b + KT_SEQ);
    if ((s1 & 1) !== 0) continue; // a writer is mid-record (a few stores): retry
    const live = Atomics.load(t, b + KT_LIVE) !== 0;
    const labyrinthId = Atomics.load(t, b + KT_LAB);
    const generation = Atomics.load(t, b + KT_GEN);
    for (let i = 0; i < 4; i++) {
      secret[i] = Atomics.load(t, b + KT_SECRET + i);
      last[i] = Atomics.load(t, b + KT_LAST + i);
    }
    if (Atomics.load(t, b + KT_SEQ) === s1) return { live, labyrinthId, generation, secret, last };
  }
}

/** True while pfn's record is live with exactly this labyrinth, generation and secret (a consistent read, no allocation). */
function tableHolds(t: Int32Array, pfn: number, labyrinthId: number, generation: number, secret: Uint32Array): boolean {
  const b = pfn * KT_STRIDE;
  for (;;) {
    const s1 = Atomics.load(t, b + KT_SEQ);
    if ((s1 & 1) !== 0) continue; // a writer is mid-record: retry
    let d = (Atomics.load(t, b + KT_LIVE) ^ 1) | (Atomics.load(t, b + KT_LAB) ^ labyrinthId) | (Atomics.load(t, b + KT_GEN) ^ generation);
    for (let i = 0; i < 4; i++) d |= Atomics.load(t, b + KT_SECRET + i) ^ (secret[i]! | 0);
    if (Atomics.load(t, b + KT_SEQ) === s1) return d === 0;
  }
}

/** Write (secret given) or clear (null: the live secret becomes the last revoked one) pfn's record. */
function writeTable(t: Int32Array, pfn: number, labyrinthId: number, generation: number, secret: Uint32Array | null): void {
  const b = pfn * KT_STRIDE;
  Atomics.add(t, b + KT_SEQ, 1);
  if (secret === null) {
    if (Atomics.load(t, b + KT_LIVE) !== 0) {
      for (let i = 0; i < 4; i++) Atomics.store(t, b + KT_LAST + i, Atomics.load(t, b + KT_SECRET + i));
    }
    Atomics.store(t, b + KT_LIVE, 0);
    Atomics.store(t, b + KT_LAB, 0);
    Atomics.store(t, b + KT_GEN, 0);
    for (let i = 0; i < 4; i++) Atomics.store(t, b + KT_SECRET + i, 0);
  } else {
    Atomics.store(t, b + KT_LAB, labyrinthId);
    Atomics.store(t, b + KT_GEN, generation);
    for (let i = 0; i < 4; i++) Atomics.store(t, b + KT_SECRET + i, secret[i]! | 0);
    Atomics.store(t, b + KT_LIVE, 1);
  }
  Atomics.add(t, b + KT_SEQ, 1);
}

/** Equal secrets, comparing every word (no early exit). */
function sameSecret(a: Uint32Array, b: Uint32Array): boolean {
  let d = 0;
  for (let i = 0; i < 4; i++) d |= (a[i]! ^ b[i]!);
  return d === 0;
}

// Secrets come from the platform CSPRNG (Web Crypto: Node and browsers), drawn 64 at a time.
const SECRET_POOL = new Uint32Array(256);
let secretAt = SECRET_POOL.length;
function newSecret(): Uint32Array {
  if (secretAt === SECRET_POOL.length) {
    crypto.getRandomValues(SECRET_POOL);
    secretAt = 0;
  }
  const s = SECRET_POOL.slice(secretAt, secretAt + 4);
  SECRET_POOL.fill(0, secretAt, secretAt + 4);
  secretAt += 4;
  return s;
}

/**
 * A labyrinth's live minted records in minting order. A revoked record leaves a hole (null) rather than being
 * spliced out, so a free touches no other record; the array is compacted (order kept) once holes outnumber
 * live records.
 */
class LabyrinthKeys {
  readonly recs: Array<ExclusiveKey | null> = [];
  /** Live records (non-null entries of recs). */
  count = 0;
  holes = 0;

  add(rec: ExclusiveKey): void {
    K.setSlot(rec, this.recs.length);
    this.recs.push(rec);
    this.count++;
  }

  remove(rec: ExclusiveKey): void {
    this.recs[K.slot(rec)] = null;
    K.setSlot(rec, -1);
    this.count--;
    if (++this.holes > 32 && this.holes > this.count) {
      const recs = this.recs;
      let j = 0;
      for (let i = 0; i < recs.length; i++) {
        const r = recs[i]!;
        if (r === null) continue;
        K.setSlot(r, j);
        recs[j++] = r;
      }
      recs.length = j;
      this.holes = 0;
    }
  }
}

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
  /**
   * Live minted records per labyrinth id, oldest first (#private: records reach keys' pages, so no reference
   * may leak). The only index: the page itself names its owner, and verify() proves each PG_exclusive head has
   * exactly one live record here.
   */
  readonly #byLabyrinth = new Map<number, LabyrinthKeys>();
  /** Pages wiped so far on allocation and on release (a mempool's re-wipe of a kept block is not counted). */
  wipedPages = 0;
  /** The shared key table (null until `shareKeys()` or a `keyTable` option). */
  #table: Int32Array | null = null;

  constructor(alloc: PageAllocator, bytes: PageBytes, opts: ExclusivePagesOptions = {}) {
    this.alloc = alloc;
    this.bytes = bytes;
    if (opts.keyTable !== undefined) {
      const t = opts.keyTable;
      if (!(t instanceof SharedArrayBuffer) || t.byteLength !== alloc.mm.nrPfn * KT_STRIDE * 4) {
        throw new ExclusivePageError('EXCL_BAD_TABLE', `Cannot attach to the exclusive key table: because it is not a SharedArrayBuffer of ${alloc.mm.nrPfn} records for this allocator`);
      }
      this.#table = new Int32Array(t);
    }
  }

  /**
   * The shared key table (created on first call, with a record — and a fresh secret — for every live key):
   * post it to workers, which pass it as `{ keyTable }` to their own ExclusivePages over the same allocator.
   * Costs 48 bytes a pfn.
   */
  shareKeys(): SharedArrayBuffer {
    if (this.#table === null) {
      const t = new Int32Array(new SharedArrayBuffer(this.alloc.mm.nrPfn * KT_STRIDE * 4));
      for (const list of this.#byLabyrinth.values()) {
        for (const rec of list.recs) {
          if (rec === null) continue;
          let secret = K.secret(rec);
          if (secret === null) K.setSecret(rec, secret = newSecret());
          writeTable(t, K.pfn(rec), K.labyrinthId(rec), K.generation(rec), secret);
        }
      }
      this.#table = t;
    }
    return this.#table.buffer as SharedArrayBuffer;
  }

  /**
   * A token for a live key (the labyrinth's own, or one it imported): another thread of the same labyrinth
   * turns it into a key with `importKey`. It is a bearer secret: whoever holds it and names the labyrinth opens
   * the page, so hand it only to threads of that labyrinth. Shares the key table if not yet shared.
   */
  exportKey(labyrinthId: number, key: ExclusiveKey): ExclusiveKeyToken {
    const rec = this.check(labyrinthId, key, 'export an exclusive key');
    this.shareKeys();
    return Object.freeze({ pfn: K.pfn(rec), secret: K.secret(rec)!.slice() });
  }

  /**
   * Turn a token into a key of this thread for labyrinth `labyrinthId`, or throw (changing nothing):
   * EXCL_FORGED_KEY (not a token, or a secret no record of this table ever held), EXCL_REVOKED_KEY (the page's
   * key was freed or transferred since), EXCL_WRONG_LABYRINTH (the page belongs to another labyrinth),
   * EXCL_STALE_KEY (the page no longer carries the record's owner and generation).
   */
  importKey(labyrinthId: number, token: unknown): ExclusiveKey {
    const what = 'import an exclusive key';
    const tok = token as { pfn?: unknown; secret?: unknown } | null;
    const pfn = typeof tok === 'object' && tok !== null ? tok.pfn : undefined;
    const secret = typeof tok === 'object' && tok !== null ? tok.secret : undefined;
    if (typeof pfn !== 'number' || !(pfn >= 0 && pfn < this.alloc.mm.nrPfn) || (pfn | 0) !== pfn
      || !(secret instanceof Uint32Array) || secret.length !== 4) {
      throw new ExclusivePageError('EXCL_FORGED_KEY', `Cannot ${what}: because the token is not an exclusive-key token of this allocator`);
    }
    const t = this.#table;
    if (t === null) {
      throw new ExclusivePageError('EXCL_FORGED_KEY', `Cannot ${what}: because this manager has no shared key table (pass { keyTable } from the exporter's shareKeys())`, pfn);
    }
    const r = readTable(t, pfn);
    if (!(r.live && sameSecret(r.secret, secret))) {
      if (sameSecret(r.last, secret) && !sameSecret(secret, new Uint32Array(4))) {
        throw new ExclusivePageError('EXCL_REVOKED_KEY', `Cannot ${what}: because the key was revoked (the page was freed or transferred)`, pfn);
      }
      throw new ExclusivePageError('EXCL_FORGED_KEY', `Cannot ${what}: because its secret matches no key of this page (forged, or long revoked)`, pfn);
    }
    if (r.labyrinthId !== labyrinthId) {
      throw new ExclusivePageError('EXCL_WRONG_LABYRINTH', `Cannot ${what}: because the page belongs to another labyrinth`, pfn);
    }
    const f = this.alloc.mm.flags[pfn]!;
    if ((f & PG_exclusive) === 0 || this.alloc.pageOwner(pfn) !== labyrinthId || this.alloc.pageGeneration(pfn) !== r.generation) {
      throw new ExclusivePageError('EXCL_STALE_KEY', `Cannot ${what}: because the page no longer carries the key's owner and generation (stale handle)`, pfn);
    }
    return K.init(new ExclusiveKey(MINT, this), pfn, this.alloc.mm.order[pfn]! & ORDER_MASK, r.generation, labyrinthId, 0, r.secret, true);
  }

  /** True while the shared table (if any) still holds rec's secret for its page: false once revoked anywhere. */
  private tableAgrees(rec: ExclusiveKey): boolean {
    const t = this.#table;
    if (t === null) return true;
    const secret = K.secret(rec);
    return secret !== null && tableHolds(t, K.pfn(rec), K.labyrinthId(rec), K.generation(rec), secret);
  }

  /** Refuse an imported key where only the minting manager may act (it holds the bookkeeping). */
  private owned(rec: ExclusiveKey, what: string): ExclusiveKey {
    if (K.imported(rec)) {
      throw new ExclusivePageError('EXCL_IMPORTED_KEY', `Cannot ${what}: because this key was imported from another thread; only the thread that allocated the page frees, transfers or re-holds it`, K.pfn(rec));
    }
    return rec;
  }

  /** Live exclusive blocks held by a labyrinth. */
  count(labyrinthId: number): number {
    return this.#byLabyrinth.get(labyrinthId)?.count ?? 0;
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
    if (pfn < 0) return this.allocFailure(gfp, order);
    const m = this.alloc.mm;
    m.flags[pfn] = setPageExclusive(m.flags[pfn]!);
    this.alloc.setPageOwner(pfn, labyrinthId);
    this.bytes.zero(pfn, 1 << order);
    this.wipedPages += 1 << order;
    return this.mint(pfn, order, this.alloc.pageGeneration(pfn), labyrinthId, holder);
  }

  /** The failure value of a refused allocate (cold). */
  private allocFailure(gfp: number, order: number): ExclusiveAllocFailure {
    const why = this.alloc.describeAllocFailure();
    const atomic = (gfp & __GFP_DIRECT_RECLAIM) === 0;
    return Object.freeze({
      ok: false as const, code: 'EXCL_NOMEM' as const, order, gfp,
      message: `Cannot allocate an exclusive order-${order} block: ${why.replace(/^Cannot allocate [^:]*: because /, 'because ')}`
        + (atomic ? '. This request may not sleep: it never waits for reclaim, so under pressure it fails at once; preallocate with a mempool when failure is not an option' : ''),
    });
  }

  private mint(pfn: number, order: number, generation: number, labyrinthId: number, holder: number): ExclusiveKey {
    const t = this.#table;
    const secret = t !== null ? newSecret() : null;
    const key = K.init(new ExclusiveKey(MINT, this), pfn, order, generation, labyrinthId, holder, secret, false);
    if (t !== null) writeTable(t, pfn, labyrinthId, generation, secret);
    let list = this.#byLabyrinth.get(labyrinthId);
    if (list === undefined) {
      list = new LabyrinthKeys();
      this.#byLabyrinth.set(labyrinthId, list);
    }
    list.add(key);
    return key;
  }

  /** Resolve a key presented by labyrinth `labyrinthId`, or throw (changing nothing). */
  private check(labyrinthId: number, key: unknown, what: string): ExclusiveKey {
    if (!K.is(key)) {
      throw new ExclusivePageError('EXCL_FORGED_KEY', `Cannot ${what}: because the key was not minted by any exclusive-page allocator (forged)`);
    }
    const rec = key;
    if (K.mgr(rec) !== this) {
      throw new ExclusivePageError('EXCL_FOREIGN_KEY', `Cannot ${what}: because the key belongs to another allocator`);
    }
    if (K.revoked(rec)) {
      throw new ExclusivePageError('EXCL_REVOKED_KEY', `Cannot ${what}: because the key was revoked (${K.revokedBy(rec)})`, K.pfn(rec));
    }
    if (this.#table !== null && !this.tableAgrees(rec)) {
      throw new ExclusivePageError('EXCL_REVOKED_KEY', `Cannot ${what}: because the key was revoked in another thread (the page was freed or transferred)`, K.pfn(rec));
    }
    if (K.labyrinthId(rec) !== labyrinthId) {
      throw new ExclusivePageError('EXCL_WRONG_LABYRINTH', `Cannot ${what}: because the page belongs to another labyrinth`, K.pfn(rec));
    }
    const pfn = K.pfn(rec);
    if ((this.alloc.mm.flags[pfn]! & PG_exclusive) === 0 || this.alloc.pageOwner(pfn) !== labyrinthId || this.alloc.pageGeneration(pfn) !== K.generation(rec)) {
      throw new ExclusivePageError('EXCL_STALE_KEY', `Cannot ${what}: because the page no longer carries this key's owner and generation (stale handle)`, pfn);
    }
    return rec;
  }

  private checkRange(rec: ExclusiveKey, offset: number, len: number, what: string): void {
    const bytes = PAGE_SIZE << K.order(rec);
    if (!(offset >= 0 && len >= 0 && offset + len <= bytes) || (offset | 0) !== offset || (len | 0) !== len) {
      throw new ExclusivePageError('EXCL_RANGE', `Cannot ${what}: because [${offset}, ${offset + len}) is outside the block's ${bytes} bytes`, K.pfn(rec));
    }
  }

  /** Facts about a live key (throws like any use of the key). */
  info(labyrinthId: number, key: ExclusiveKey): ExclusiveInfo {
    const rec = this.check(labyrinthId, key, 'inspect an exclusive page');
    return { pfn: K.pfn(rec), order: K.order(rec), nrPages: 1 << K.order(rec), generation: K.generation(rec), labyrinthId: K.labyrinthId(rec), holder: K.holder(rec) };
  }

  /** The head pfn of a live key's block (`info(…).pfn` without the object; throws like any use of the key). */
  pfnOf(labyrinthId: number, key: ExclusiveKey): number {
    return K.pfn(this.check(labyrinthId, key, 'inspect an exclusive page'));
  }

  /** Holder (task id) of a key's block, for the domain's bookkeeping. */
  holderOf(labyrinthId: number, key: ExclusiveKey): number {
    return K.holder(this.check(labyrinthId, key, 'use an exclusive page'));
  }

  /**
   * The key check src/memory's `MemoryAllocator.setExclusiveGate` expects: true only for the live key of the
   * exclusive block headed at pfn, minted by this manager, whose page still carries its owner and generation.
   */
  gate(): (pfn: number, key: unknown) => boolean {
    return (pfn: number, key: unknown): boolean => {
      if (!K.is(key)) return false;
      const rec = key;
      if (K.mgr(rec) !== this || K.revoked(rec) || K.pfn(rec) !== pfn) return false;
      return (this.alloc.mm.flags[pfn]! & PG_exclusive) !== 0 && this.alloc.pageOwner(pfn) === K.labyrinthId(rec)
        && this.alloc.pageGeneration(pfn) === K.generation(rec) && this.tableAgrees(rec);
    };
  }

  /** Record which holder (task id) of the labyrinth holds the block. */
  setHolder(labyrinthId: number, key: ExclusiveKey, holder: number): void {
    K.setHolder(this.owned(this.check(labyrinthId, key, 'use an exclusive page'), 'set the holder of an exclusive page'), holder);
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
      this.bytes.read(K.pfn(rec) + page, off, out.subarray(done, done + n));
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
      this.bytes.write(K.pfn(rec) + page, off, data.subarray(done, done + n));
      done += n;
    }
  }

  /**
   * Zero the whole block (what writing zeros over all of it does, without the buffer): a mempool wipes a block
   * it keeps. Not counted in `wipedPages` (the allocation and release wipes).
   */
  wipe(labyrinthId: number, key: ExclusiveKey): void {
    const rec = this.check(labyrinthId, key, 'write an exclusive page');
    this.bytes.zero(K.pfn(rec), 1 << K.order(rec));
  }

  /** Check a key for `free` without freeing (the domain uncharges after). Returns nrPages and holder. */
  peek(labyrinthId: number, key: ExclusiveKey, what: string): { nrPages: number; holder: number; pfn: number } {
    const rec = this.owned(this.check(labyrinthId, key, what), what);
    return { nrPages: 1 << K.order(rec), holder: K.holder(rec), pfn: K.pfn(rec) };
  }

  /** Wipe and free the block; the key is revoked. Returns the pages freed. */
  free(labyrinthId: number, key: ExclusiveKey, cpu = 0): number {
    const rec = this.owned(this.check(labyrinthId, key, 'free an exclusive page'), 'free an exclusive page');
    return this.release(rec, 'the page was freed', cpu);
  }

  /** Zero, drop the exclusive state, return the block to the buddy allocator, revoke the key. */
  private release(rec: ExclusiveKey, why: string, cpu: number): number {
    const nr = 1 << K.order(rec);
    this.bytes.zero(K.pfn(rec), nr);
    this.wipedPages += nr;
    const m = this.alloc.mm;
    m.flags[K.pfn(rec)] = clearPageExclusive(m.flags[K.pfn(rec)]!);
    this.alloc.setPageOwner(K.pfn(rec), 0);
    this.alloc.__free_pages(K.pfn(rec), K.order(rec), cpu);
    this.forget(rec, why);
    return nr;
  }

  /** Revoke a minted record and take it off its labyrinth's list. */
  private forget(rec: ExclusiveKey, why: string): void {
    K.revoke(rec, why);
    if (this.#table !== null) writeTable(this.#table, K.pfn(rec), 0, 0, null);
    const list = this.#byLabyrinth.get(K.labyrinthId(rec));
    if (list !== undefined && K.slot(rec) >= 0) list.remove(rec);
  }

  /**
   * Hand the block to another holder (possibly in another labyrinth): a new key is minted and the old one is
   * revoked at once. The page's bytes and pfn stay; its owner id becomes the new labyrinth's.
   */
  transfer(labyrinthId: number, key: ExclusiveKey, toLabyrinthId: number, toHolder: number): ExclusiveKey {
    const rec = this.owned(this.check(labyrinthId, key, 'transfer an exclusive page'), 'transfer an exclusive page');
    this.forget(rec, 'the page was transferred; the new holder has the only key');
    this.alloc.setPageOwner(K.pfn(rec), toLabyrinthId);
    return this.mint(K.pfn(rec), K.order(rec), K.generation(rec), toLabyrinthId, toHolder);
  }

  /** Wipe and free every block a holder (or, with holder < 0, a whole labyrinth) holds, oldest first. Returns pages freed. */
  releaseAll(labyrinthId: number, holder: number, why: string, cpu = 0): number {
    const list = this.#byLabyrinth.get(labyrinthId);
    if (list === undefined) return 0;
    let nr = 0;
    for (const rec of list.recs.slice()) { // a copy: releases may compact the list
      if (rec !== null && (holder < 0 || K.holder(rec) === holder)) nr += this.release(rec, why, cpu);
    }
    if (holder < 0) this.#byLabyrinth.delete(labyrinthId);
    return nr;
  }

  /** Pages held by one holder of a labyrinth. */
  pagesHeldBy(labyrinthId: number, holder: number): number {
    const list = this.#byLabyrinth.get(labyrinthId);
    let nr = 0;
    if (list === undefined) return 0;
    const recs = list.recs;
    for (let i = 0; i < recs.length; i++) {
      const rec = recs[i]!;
      if (rec !== null && K.holder(rec) === holder) nr += 1 << K.order(rec);
    }
    return nr;
  }

  /**
   * The isolation invariants (docs/labyrinths.md X1–X5), over every live key and every page:
   * X1 each live key's head carries PG_exclusive|PG_unevictable and never PG_lru or PG_tail, refcount exactly 1;
   * X2 its owner id is the key's labyrinth and its generation the key's; X3 order > 0 blocks are compound with
   * every tail pointing at the head; X4 every PG_exclusive page in the buffer is the head of exactly one live
   * key on the per-labyrinth lists, which are well formed; X5 `liveLabyrinths` (when given) holds every
   * owning labyrinth; X6 with a shared key table, each live key's record there matches it.
   * Throws ExclusivePageError('EXCL_INVARIANT').
   */
  verify(liveLabyrinths?: ReadonlySet<number>): void {
    const m = this.alloc.mm;
    const bad = (inv: string, msg: string): never => {
      throw new ExclusivePageError('EXCL_INVARIANT', `${inv}: ${msg}`);
    };
    // the lists hold live minted records of their labyrinth at their own slots, counted right, no pfn twice
    const byPfn = new Map<number, ExclusiveKey>();
    for (const [id, list] of this.#byLabyrinth) {
      let k = 0;
      for (let i = 0; i < list.recs.length; i++) {
        const rec = list.recs[i]!;
        if (rec === null) continue;
        if (K.slot(rec) !== i || K.labyrinthId(rec) !== id || K.revoked(rec) || K.imported(rec) || K.mgr(rec) !== this) bad('X4', `labyrinth ${id}'s key list is corrupt at pfn ${K.pfn(rec)}`);
        if (byPfn.has(K.pfn(rec))) bad('X4', `pfn ${K.pfn(rec)} heads two live keys`);
        byPfn.set(K.pfn(rec), rec);
        k++;
      }
      if (list.count !== k || list.holes !== list.recs.length - k) bad('X4', `labyrinth ${id}'s key list holds ${k} keys, counts ${list.count} (${list.holes} holes)`);
    }
    for (const [pfn, rec] of byPfn) {
      const f = m.flags[pfn]!;
      if ((f & (PG_exclusive | PG_unevictable)) !== (PG_exclusive | PG_unevictable) || (f & (PG_lru | PG_tail)) !== 0) bad('X1', `pfn ${pfn} flags 0x${f.toString(16)}`);
      if (m.refcount[pfn] !== 1) bad('X1', `pfn ${pfn} refcount ${m.refcount[pfn]} (an exclusive page is never aliased)`);
      if ((m.order[pfn]! & ORDER_MASK) !== K.order(rec)) bad('X1', `pfn ${pfn} order ${m.order[pfn]! & ORDER_MASK}, key says ${K.order(rec)}`);
      if (this.alloc.pageOwner(pfn) !== K.labyrinthId(rec) || this.alloc.pageGeneration(pfn) !== K.generation(rec)) bad('X2', `pfn ${pfn} owner/generation do not match its key`);
      for (let t = pfn + 1; t < pfn + (1 << K.order(rec)); t++) {
        if (this.alloc.compound_head(t) !== pfn) bad('X3', `tail ${t} does not resolve to exclusive head ${pfn}`);
      }
      if (liveLabyrinths !== undefined && !liveLabyrinths.has(K.labyrinthId(rec))) bad('X5', `pfn ${pfn} is held by dead labyrinth ${K.labyrinthId(rec)}`);
      if (!this.tableAgrees(rec)) bad('X6', `pfn ${pfn}'s record in the shared key table does not match its key`);
    }
    for (let pfn = 0; pfn < m.nrPfn; pfn++) {
      if ((m.flags[pfn]! & PG_exclusive) !== 0 && !byPfn.has(pfn)) bad('X4', `pfn ${pfn} is PG_exclusive without a live key`);
    }
  }
}
