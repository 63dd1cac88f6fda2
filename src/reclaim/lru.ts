/**
 * Per-node LRU lists of reclaimable pages, intrusive through typed arrays keyed by pfn (no object per page),
 * and the owner-handle table that lets a page move (compaction) while its owner's handle stays valid.
 * @kernel include/linux/mmzone.h enum lru_list, include/linux/mm_inline.h lruvec_add_folio / lruvec_del_folio
 *
 * Each entry is a head pfn and an order (a folio of 2^order pages). Lists are circular and doubly linked; the
 * sentinel of list l of node n sits at index nrPfns + n * NR_LRU_LISTS + l of the link arrays. New pages go to the
 * head; reclaim takes from the tail, as the kernel does.
 */
import { LabyrinthError } from '../errors.ts';

export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;
export const LRU_NAMES = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'] as const;

/** Page flags the reclaim layer keeps per LRU page (its own side table, not the core's flags). */
export const LF_DIRTY = 1 << 0;
export const LF_WRITEBACK = 1 << 1;
/** file page of a filesystem (needs __GFP_FS to write back); clear = block-device page cache */
export const LF_FS = 1 << 2;
/** anonymous, swap-backed */
export const LF_ANON = 1 << 3;
export const LF_REFERENCED = 1 << 4;
/** PG_reclaim: reclaim wants it as soon as writeback ends */
export const LF_RECLAIM = 1 << 5;
export const LF_UNEVICTABLE = 1 << 6;
/** isolated from the LRU by a scanner (reclaim or compaction) */
export const LF_ISOLATED = 1 << 7;

/** What a workload says a page is when it puts it on an LRU. */
export type LruKind = 'file' | 'file-fs' | 'anon' | 'unevictable';

export class LruError extends LabyrinthError {}

/** Handle states besides a resident pfn. */
export const HANDLE_FREE = -1;
export const HANDLE_EVICTED = -2;
export const HANDLE_SWAPPED = -3;

export class Lru {
  readonly nrPfns: number;
  readonly nrNodes: number;
  /** link arrays: [0, nrPfns) pages, then the sentinels */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** per pfn: LF_* flags of an LRU head page */
  readonly flags: Uint8Array;
  /** per pfn: list id + 1 of an LRU head page, 0 when not on an LRU (isolated pages keep 0 and LF_ISOLATED) */
  private readonly onList: Uint8Array;
  /** per pfn: list id of an isolated page (to put it back) */
  private readonly isoList: Uint8Array;
  /** per pfn: folio order of an LRU head page */
  readonly order: Uint8Array;
  /** per pfn: owner handle of an LRU head page (or -1) */
  readonly handleOf: Int32Array;
  /** per list (node * NR_LRU_LISTS + lru): pages on it */
  readonly size: Float64Array;
  /** per (zone index * NR_LRU_LISTS + lru): pages on it that sit in that zone (NR_ZONE_LRU_BASE + lru) */
  readonly zoneSize: Float64Array;
  private readonly zoneOfPfn: Int8Array;
  private readonly nodeOfZone: Int32Array;

  // the handle table: owner-visible numbers that follow pages as they move
  private handlePfn: Int32Array;
  private handleUser: Int32Array;
  private handleFreeList: number[] = [];
  private handleCount = 0;

  /**
   * @param zones the populated zones as pfn ranges with their node, in the port's order; their index is the
   *        zone index used by zoneSize.
   */
  constructor(nrPfns: number, zones: ReadonlyArray<{ node: number; startPfn: number; endPfn: number }>) {
    this.nrPfns = nrPfns;
    let nrNodes = 1;
    for (const z of zones) nrNodes = Math.max(nrNodes, z.node + 1);
    this.nrNodes = nrNodes;
    this.zoneOfPfn = new Int8Array(nrPfns).fill(0);
    this.nodeOfZone = new Int32Array(Math.max(1, zones.length));
    zones.forEach((z, i) => {
      this.zoneOfPfn.fill(i, z.startPfn, Math.min(z.endPfn, nrPfns));
      this.nodeOfZone[i] = z.node;
    });
    this.zoneSize = new Float64Array(Math.max(1, zones.length) * NR_LRU_LISTS);
    const n = nrPfns + nrNodes * NR_LRU_LISTS;
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    for (let s = nrPfns; s < n; s++) { this.next[s] = s; this.prev[s] = s; }
    this.flags = new Uint8Array(nrPfns);
    this.onList = new Uint8Array(nrPfns);
    this.isoList = new Uint8Array(nrPfns);
    this.order = new Uint8Array(nrPfns);
    this.handleOf = new Int32Array(nrPfns).fill(-1);
    this.size = new Float64Array(nrNodes * NR_LRU_LISTS);
    this.handlePfn = new Int32Array(1024).fill(HANDLE_FREE);
    this.handleUser = new Int32Array(1024);
  }

  private sentinel(node: number, lru: number): number { return this.nrPfns + node * NR_LRU_LISTS + lru; }
  private nodeOfPfn(pfn: number): number { return this.nodeOfZone[this.zoneOfPfn[pfn]!]!; }
  /** Index (into the zones given to the constructor) of the zone holding pfn. */
  zoneIndexOf(pfn: number): number { return this.zoneOfPfn[pfn]!; }
  /** LRU pages of list `lru` in zone `zoneIndex`. */
  zoneLruSize(zoneIndex: number, lru: number): number { return this.zoneSize[zoneIndex * NR_LRU_LISTS + lru]!; }

  /** Pages on list `lru` of `node`. */
  lruSize(node: number, lru: number): number { return this.size[node * NR_LRU_LISTS + lru]!; }

  /** Which list a kind of page starts on (6.1: lru_cache_add_inactive_or_unevictable puts new anon and file pages on the inactive lists). */
  static lruFor(flags: number): number {
    if (flags & LF_UNEVICTABLE) return LRU_UNEVICTABLE;
    return flags & LF_ANON ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
  }

  /** The list id of an LRU head pfn, or -1 when it is not on a list. */
  listOf(pfn: number): number { return this.onList[pfn]! - 1; }
  isOnLru(pfn: number): boolean { return this.onList[pfn] !== 0; }
  isIsolated(pfn: number): boolean { return (this.flags[pfn]! & LF_ISOLATED) !== 0; }

  /** Put a page on the head of list `lru`. */
  linkHead(pfn: number, lru: number): void {
    const s = this.sentinel(this.nodeOfPfn(pfn), lru);
    const first = this.next[s]!;
    this.next[pfn] = first; this.prev[pfn] = s;
    this.prev[first] = pfn; this.next[s] = pfn;
    this.onList[pfn] = lru + 1;
    const nr = 1 << this.order[pfn]!;
    this.size[this.nodeOfPfn(pfn) * NR_LRU_LISTS + lru]! += nr;
    this.zoneSize[this.zoneOfPfn[pfn]! * NR_LRU_LISTS + lru]! += nr;
  }

  /** Move a listed page to the tail of its list (next to be scanned). */
  moveToTail(pfn: number): void {
    const lru = this.onList[pfn]! - 1;
    if (lru < 0) return;
    const p = this.prev[pfn]!, n = this.next[pfn]!;
    this.next[p] = n; this.prev[n] = p;
    const s = this.sentinel(this.nodeOfPfn(pfn), lru);
    const last = this.prev[s]!;
    this.next[last] = pfn; this.prev[pfn] = last;
    this.next[pfn] = s; this.prev[s] = pfn;
  }

  /** Take a page off its list. */
  unlink(pfn: number): number {
    const lru = this.onList[pfn]! - 1;
    if (lru < 0) throw new LruError('ENOTONLRU', `Cannot take pfn ${pfn} off an LRU: because it is on none`);
    const p = this.prev[pfn]!, n = this.next[pfn]!;
    this.next[p] = n; this.prev[n] = p;
    this.onList[pfn] = 0;
    const nr = 1 << this.order[pfn]!;
    this.size[this.nodeOfPfn(pfn) * NR_LRU_LISTS + lru]! -= nr;
    this.zoneSize[this.zoneOfPfn[pfn]! * NR_LRU_LISTS + lru]! -= nr;
    return lru;
  }

  /** The tail (oldest) page of a list, or -1. */
  tail(node: number, lru: number): number {
    const s = this.sentinel(node, lru);
    const t = this.prev[s]!;
    return t === s ? -1 : t;
  }

  /** Walk a list head to tail (for checks and reports). */
  *pages(node: number, lru: number): IterableIterator<number> {
    const s = this.sentinel(node, lru);
    for (let p = this.next[s]!; p !== s; p = this.next[p]!) yield p;
  }

  /**
   * A workload's page joins the LRU. Returns the owner handle: a number that keeps naming this page's contents
   * while compaction moves it; `pfnOf(handle)` gives its current pfn (or HANDLE_EVICTED after reclaim).
   */
  add(pfn: number, order: number, kind: LruKind, dirty: boolean, user = 0): number {
    if (this.onList[pfn] !== 0 || this.handleOf[pfn] !== -1) throw new LruError('EONLRU', `Cannot add pfn ${pfn} to an LRU: because it is already on one`);
    let f = 0;
    if (kind === 'anon') f |= LF_ANON;
    else if (kind === 'file-fs') f |= LF_FS;
    else if (kind === 'unevictable') f |= LF_UNEVICTABLE;
    if (dirty && kind !== 'anon') f |= LF_DIRTY;
    this.flags[pfn] = f;
    this.order[pfn] = order;
    const h = this.newHandle(pfn, user);
    this.handleOf[pfn] = h;
    this.linkHead(pfn, Lru.lruFor(f));
    return h;
  }

  /** The workload drops its page (unmap / truncate): off the LRU, handle released. The caller frees the page. */
  remove(pfn: number): void {
    if (this.onList[pfn] !== 0) this.unlink(pfn);
    const h = this.handleOf[pfn]!;
    if (h >= 0) this.releaseHandle(h);
    this.handleOf[pfn] = -1;
    this.flags[pfn] = 0;
  }

  /** Mark referenced (an access): the next scan of an inactive page activates it instead of reclaiming it. */
  markAccessed(pfn: number): void { this.flags[pfn]! |= LF_REFERENCED; }
  setDirty(pfn: number): void { if (!(this.flags[pfn]! & LF_ANON)) this.flags[pfn]! |= LF_DIRTY; }

  // ----- handles -----
  private newHandle(pfn: number, user: number): number {
    let h = this.handleFreeList.pop();
    if (h === undefined) {
      h = this.handleCount++;
      if (h >= this.handlePfn.length) {
        const np = new Int32Array(this.handlePfn.length * 2).fill(HANDLE_FREE); np.set(this.handlePfn); this.handlePfn = np;
        const nu = new Int32Array(this.handleUser.length * 2); nu.set(this.handleUser); this.handleUser = nu;
      }
    }
    this.handlePfn[h] = pfn;
    this.handleUser[h] = user;
    return h;
  }
  private releaseHandle(h: number): void {
    this.handlePfn[h] = HANDLE_FREE;
    this.handleFreeList.push(h);
  }
  /** Current pfn of a handle, or HANDLE_EVICTED / HANDLE_SWAPPED / HANDLE_FREE. */
  pfnOf(handle: number): number { return handle >= 0 && handle < this.handleCount ? this.handlePfn[handle]! : HANDLE_FREE; }
  userOf(handle: number): number { return this.handleUser[handle]!; }
  /** The page behind a handle left memory (reclaimed); the handle stays allocated so the owner can see it. */
  evictHandle(h: number, how: number): void { this.handlePfn[h] = how; }
  /** The owner forgets an evicted handle. */
  forgetHandle(h: number): void { if (this.handlePfn[h]! < 0 && this.handlePfn[h] !== HANDLE_FREE) this.releaseHandle(h); }

  /**
   * Move an LRU page's identity from `from` to `to` (migration): same list position semantics (it goes to the
   * head of the same list), same flags and order, and its handle now names `to`.
   */
  migrate(from: number, to: number): void {
    const wasOn = this.onList[from] !== 0;
    const lru = wasOn ? this.unlink(from) : -1;
    this.moveIdentity(from, to, this.flags[from]!);
    if (wasOn) this.linkHead(to, lru);
  }

  /** `to` takes `from`'s order and handle, with flags `flagsTo`; `from` is left without flags or handle. */
  private moveIdentity(from: number, to: number, flagsTo: number): void {
    this.flags[to] = flagsTo;
    this.order[to] = this.order[from]!;
    const h = this.handleOf[from]!;
    this.handleOf[to] = h;
    if (h >= 0) this.handlePfn[h] = to;
    this.handleOf[from] = -1;
    this.flags[from] = 0;
  }

  /** isolate_lru_folio: off its list, remembered for putback or migration. */
  isolate(pfn: number): void {
    const l = this.unlink(pfn);
    this.isoList[pfn] = l;
    this.flags[pfn]! |= LF_ISOLATED;
  }
  /** putback_lru_page: back to the head of the list it came from. */
  putback(pfn: number): void {
    this.flags[pfn]! &= ~LF_ISOLATED;
    this.linkHead(pfn, this.isoList[pfn]!);
  }
  /** Migration of an isolated page: `to` takes its identity and its list; the handle follows. */
  migrateIsolated(from: number, to: number): void {
    this.moveIdentity(from, to, this.flags[from]! & ~LF_ISOLATED);
    this.linkHead(to, this.isoList[from]!);
  }

  /** Check the lists: links consistent, sizes equal to the sum of folio sizes, handles point back. */
  verify(): void {
    for (let node = 0; node < this.nrNodes; node++) {
      for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
        const s = this.sentinel(node, lru);
        let n = 0;
        for (let p = this.next[s]!, guard = 0; p !== s; p = this.next[p]!) {
          if (++guard > this.nrPfns) throw new LruError('EVERIFY', `LRU ${LRU_NAMES[lru]} of node ${node} is not a cycle`);
          if (this.next[this.prev[p]!] !== p) throw new LruError('EVERIFY', `pfn ${p}: broken back link`);
          if (this.onList[p] !== lru + 1) throw new LruError('EVERIFY', `pfn ${p} is on ${LRU_NAMES[lru]} but says ${this.onList[p]! - 1}`);
          const h = this.handleOf[p]!;
          if (h >= 0 && this.handlePfn[h] !== p) throw new LruError('EVERIFY', `pfn ${p}: handle ${h} points at ${this.handlePfn[h]}`);
          n += 1 << this.order[p]!;
        }
        if (n !== this.lruSize(node, lru)) throw new LruError('EVERIFY', `LRU ${LRU_NAMES[lru]} of node ${node}: size ${this.lruSize(node, lru)} but holds ${n}`);
      }
    }
  }
}
