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

/*
 * Per-pfn layout: one Int32Array, STRIDE words per pfn, so that everything the LRU keeps about one page shares a
 * cache line (the pfns reclaim and the workloads touch are scattered; separate arrays cost a miss per field):
 *   [pfn*STRIDE + 0] next   [+1] prev   [+2] meta   [+3] owner handle + 1 (0: none)   [+4] owner's user id
 *   [+5] owner's cookie + 1 (a number the owner chose, e.g. the page's slot in its own arrays; 0: none)
 * (handle and cookie are kept plus one so that a zeroed record means none, and construction writes no loop)
 * (24 bytes a page: measured under cachegrind against 16 bytes plus a side array for user and cookie, and against
 * 32 bytes, 24 missed least — the LRU walks pages allocated in runs of neighbouring pfns, so density matters.)
 * meta: bits 0–7 LF_* flags, 8–11 list id + 1 (0 = on no list), 12–15 list id of an isolated page,
 *       16–23 folio order, 24–30 zone index (fixed at construction).
 * The user id and the cookie sit here (the user id also in the handle table) so that reclaim can tell a page's
 * owner which page went without reading the handle table or the owner's own pfn index: one record per page.
 * Sentinels follow the pages (index nrPfns + node * NR_LRU_LISTS + lru, same stride, only next/prev used).
 */
const STRIDE = 6;
const NEXT = 0;
const PREV = 1;
const META = 2;
const HANDLE = 3;
const USER = 4;
const COOKIE = 5;
const FLAGS_MASK = 0xff;
const ONLIST_SHIFT = 8;
const ONLIST_MASK = 0xf << ONLIST_SHIFT;
const ISO_SHIFT = 12;
const ISO_MASK = 0xf << ISO_SHIFT;
const ORDER_SHIFT = 16;
const ORDER_MASK = 0xff << ORDER_SHIFT;
const ZONE_SHIFT = 24;

export class Lru {
  readonly nrPfns: number;
  readonly nrNodes: number;
  /** per pfn (and per sentinel) STRIDE words, see above */
  private readonly pg: Int32Array;
  /** per list (node * NR_LRU_LISTS + lru): pages on it */
  readonly size: Float64Array;
  /** per (zone index * NR_LRU_LISTS + lru): pages on it that sit in that zone (NR_ZONE_LRU_BASE + lru) */
  readonly zoneSize: Float64Array;
  private readonly nodeOfZone: Int32Array;

  // the handle table: owner-visible numbers that follow pages as they move; per handle [pfn, user]
  private handles: Int32Array;
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
    if (zones.length > 127) throw new LruError('EZONES', `Cannot build LRUs over ${zones.length} zones: because at most 127 are supported`);
    this.nodeOfZone = new Int32Array(Math.max(1, zones.length));
    const n = nrPfns + nrNodes * NR_LRU_LISTS;
    const pg = new Int32Array(n * STRIDE);
    this.pg = pg;
    zones.forEach((z, i) => {
      const end = Math.min(z.endPfn, nrPfns);
      for (let p = z.startPfn; p < end; p++) pg[p * STRIDE + META] = i << ZONE_SHIFT;
      this.nodeOfZone[i] = z.node;
    });
    this.zoneSize = new Float64Array(Math.max(1, zones.length) * NR_LRU_LISTS);
    for (let s = nrPfns; s < n; s++) { pg[s * STRIDE + NEXT] = s; pg[s * STRIDE + PREV] = s; }
    this.size = new Float64Array(nrNodes * NR_LRU_LISTS);
    this.handles = new Int32Array(2 * 1024);
    for (let h = 0; h < 1024; h++) this.handles[2 * h] = HANDLE_FREE;
  }

  private sentinel(node: number, lru: number): number { return this.nrPfns + node * NR_LRU_LISTS + lru; }
  /** Index (into the zones given to the constructor) of the zone holding pfn. */
  zoneIndexOf(pfn: number): number { return this.pg[pfn * STRIDE + META]! >>> ZONE_SHIFT; }
  /** LRU pages of list `lru` in zone `zoneIndex`. */
  zoneLruSize(zoneIndex: number, lru: number): number { return this.zoneSize[zoneIndex * NR_LRU_LISTS + lru]!; }

  /** Pages on list `lru` of `node`. */
  lruSize(node: number, lru: number): number { return this.size[node * NR_LRU_LISTS + lru]!; }

  /** Which list a kind of page starts on (6.1: lru_cache_add_inactive_or_unevictable puts new anon and file pages on the inactive lists). */
  static lruFor(flags: number): number {
    if (flags & LF_UNEVICTABLE) return LRU_UNEVICTABLE;
    return flags & LF_ANON ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
  }

  /** LF_* flags of an LRU head pfn (0 when it holds no LRU page). */
  flagsOf(pfn: number): number { return this.pg[pfn * STRIDE + META]! & FLAGS_MASK; }
  /** Replace the LF_* flags of an LRU head pfn. */
  setFlags(pfn: number, f: number): void {
    const i = pfn * STRIDE + META;
    this.pg[i] = (this.pg[i]! & ~FLAGS_MASK) | (f & FLAGS_MASK);
  }
  /** Folio order of an LRU head pfn. */
  orderOf(pfn: number): number { return (this.pg[pfn * STRIDE + META]! & ORDER_MASK) >>> ORDER_SHIFT; }
  /** Owner handle of an LRU head pfn, or -1. */
  handleAt(pfn: number): number { return this.pg[pfn * STRIDE + HANDLE]! - 1; }
  /** User id of the owner of an LRU head pfn (as given to add; 0 when it has none). */
  userAt(pfn: number): number { return this.pg[pfn * STRIDE + USER]!; }
  /** The owner's cookie of an LRU head pfn (as given to add or setCookie; -1 when none). */
  cookieAt(pfn: number): number { return this.pg[pfn * STRIDE + COOKIE]! - 1; }
  /** The owner moved the page within its own arrays: its cookie changes. */
  setCookie(pfn: number, cookie: number): void { this.pg[pfn * STRIDE + COOKIE] = cookie + 1; }

  /** The list id of an LRU head pfn, or -1 when it is not on a list. */
  listOf(pfn: number): number { return ((this.pg[pfn * STRIDE + META]! & ONLIST_MASK) >>> ONLIST_SHIFT) - 1; }
  isOnLru(pfn: number): boolean { return (this.pg[pfn * STRIDE + META]! & ONLIST_MASK) !== 0; }
  isIsolated(pfn: number): boolean { return (this.pg[pfn * STRIDE + META]! & LF_ISOLATED) !== 0; }

  /** Put a page on the head of list `lru`. */
  linkHead(pfn: number, lru: number): void {
    this.link(pfn, lru, false);
  }

  /** Put a page on the tail of list `lru` (next to be scanned): linkHead then moveToTail, in one step. */
  linkTail(pfn: number, lru: number): void {
    this.link(pfn, lru, true);
  }

  /** Link a page next to list `lru`'s sentinel (after it: the head; before it: the tail) and count it. */
  private link(pfn: number, lru: number, atTail: boolean): void {
    const pg = this.pg;
    const i = pfn * STRIDE;
    const meta = pg[i + META]!;
    const zone = meta >>> ZONE_SHIFT;
    const node = this.nodeOfZone[zone]!;
    const s = this.nrPfns + node * NR_LRU_LISTS + lru;
    const si = s * STRIDE;
    if (atTail) {
      const last = pg[si + PREV]!;
      pg[i + NEXT] = s; pg[i + PREV] = last;
      pg[last * STRIDE + NEXT] = pfn; pg[si + PREV] = pfn;
    } else {
      const first = pg[si + NEXT]!;
      pg[i + NEXT] = first; pg[i + PREV] = s;
      pg[first * STRIDE + PREV] = pfn; pg[si + NEXT] = pfn;
    }
    pg[i + META] = (meta & ~ONLIST_MASK) | ((lru + 1) << ONLIST_SHIFT);
    const nr = 1 << ((meta & ORDER_MASK) >>> ORDER_SHIFT);
    this.size[node * NR_LRU_LISTS + lru]! += nr;
    this.zoneSize[zone * NR_LRU_LISTS + lru]! += nr;
  }

  /** Move a listed page to the tail of its list (next to be scanned). */
  moveToTail(pfn: number): void {
    const pg = this.pg;
    const i = pfn * STRIDE;
    const meta = pg[i + META]!;
    const lru = ((meta & ONLIST_MASK) >>> ONLIST_SHIFT) - 1;
    if (lru < 0) return;
    const p = pg[i + PREV]!, n = pg[i + NEXT]!;
    pg[p * STRIDE + NEXT] = n; pg[n * STRIDE + PREV] = p;
    const s = this.sentinel(this.nodeOfZone[meta >>> ZONE_SHIFT]!, lru);
    const si = s * STRIDE;
    const last = pg[si + PREV]!;
    pg[last * STRIDE + NEXT] = pfn; pg[i + PREV] = last;
    pg[i + NEXT] = s; pg[si + PREV] = pfn;
  }

  /** Take a page off its list. */
  unlink(pfn: number): number {
    const pg = this.pg;
    const i = pfn * STRIDE;
    const meta = pg[i + META]!;
    const lru = ((meta & ONLIST_MASK) >>> ONLIST_SHIFT) - 1;
    if (lru < 0) throw new LruError('ENOTONLRU', `Cannot take pfn ${pfn} off an LRU: because it is on none`);
    const p = pg[i + PREV]!, n = pg[i + NEXT]!;
    pg[p * STRIDE + NEXT] = n; pg[n * STRIDE + PREV] = p;
    pg[i + META] = meta & ~ONLIST_MASK;
    const nr = 1 << ((meta & ORDER_MASK) >>> ORDER_SHIFT);
    const zone = meta >>> ZONE_SHIFT;
    this.size[this.nodeOfZone[zone]! * NR_LRU_LISTS + lru]! -= nr;
    this.zoneSize[zone * NR_LRU_LISTS + lru]! -= nr;
    return lru;
  }

  /** The tail (oldest) page of a list, or -1. */
  tail(node: number, lru: number): number {
    const s = this.sentinel(node, lru);
    const t = this.pg[s * STRIDE + PREV]!;
    return t === s ? -1 : t;
  }

  /** Walk a list head to tail (for checks and reports). */
  *pages(node: number, lru: number): IterableIterator<number> {
    const s = this.sentinel(node, lru);
    for (let p = this.pg[s * STRIDE + NEXT]!; p !== s; p = this.pg[p * STRIDE + NEXT]!) yield p;
  }

  /**
   * A workload's page joins the LRU. Returns the owner handle: a number that keeps naming this page's contents
   * while compaction moves it; `pfnOf(handle)` gives its current pfn (or HANDLE_EVICTED after reclaim).
   * `cookie` is the owner's own number for the page (kept with it, moved with it, see cookieAt).
   */
  add(pfn: number, order: number, kind: LruKind, dirty: boolean, user = 0, cookie = -1): number {
    const pg = this.pg;
    const i = pfn * STRIDE;
    const meta = pg[i + META]!;
    if ((meta & ONLIST_MASK) !== 0 || pg[i + HANDLE] !== 0) throw new LruError('EONLRU', `Cannot add pfn ${pfn} to an LRU: because it is already on one`);
    let f = 0;
    if (kind === 'anon') f |= LF_ANON;
    else if (kind === 'file-fs') f |= LF_FS;
    else if (kind === 'unevictable') f |= LF_UNEVICTABLE;
    if (dirty && kind !== 'anon') f |= LF_DIRTY;
    pg[i + META] = (meta & ~(FLAGS_MASK | ORDER_MASK)) | f | ((order & 0xff) << ORDER_SHIFT);
    const h = this.newHandle(pfn, user);
    pg[i + HANDLE] = h + 1;
    pg[i + USER] = user;
    pg[i + COOKIE] = cookie + 1;
    this.linkHead(pfn, Lru.lruFor(f));
    return h;
  }

  /** The workload drops its page (unmap / truncate): off the LRU, handle released. The caller frees the page. */
  remove(pfn: number): void {
    const i = pfn * STRIDE;
    if ((this.pg[i + META]! & ONLIST_MASK) !== 0) this.unlink(pfn);
    const h = this.pg[i + HANDLE]! - 1;
    if (h >= 0) this.releaseHandle(h);
    this.pg[i + HANDLE] = 0;
    this.pg[i + USER] = 0;
    this.pg[i + COOKIE] = 0;
    this.pg[i + META] = this.pg[i + META]! & ~FLAGS_MASK;
  }

  /**
   * Reclaim freed an isolated (unlisted) page: its handle is left saying `how` the contents went
   * (HANDLE_EVICTED / HANDLE_SWAPPED) and stays allocated; the pfn keeps no handle and no flags.
   * With `release`, the handle is freed at once instead (what forgetHandle would do next, for owners that never
   * look at an evicted handle). Returns the handle (or -1). Read userAt / cookieAt before: they are cleared.
   */
  evictPage(pfn: number, how: number, release = false): number {
    const pg = this.pg;
    const i = pfn * STRIDE;
    const h = pg[i + HANDLE]! - 1;
    if (h >= 0) {
      if (release) this.releaseHandle(h);
      else this.handles[2 * h] = how;
    }
    pg[i + HANDLE] = 0;
    pg[i + USER] = 0;
    pg[i + COOKIE] = 0;
    pg[i + META] = pg[i + META]! & ~FLAGS_MASK;
    return h;
  }

  /** Mark referenced (an access): the next scan of an inactive page activates it instead of reclaiming it. */
  markAccessed(pfn: number): void { this.pg[pfn * STRIDE + META]! |= LF_REFERENCED; }
  setDirty(pfn: number): void { const i = pfn * STRIDE + META; if (!(this.pg[i]! & LF_ANON)) this.pg[i]! |= LF_DIRTY; }

  // ----- handles -----
  private newHandle(pfn: number, user: number): number {
    let h = this.handleFreeList.pop();
    if (h === undefined) {
      h = this.handleCount++;
      if (2 * h >= this.handles.length) {
        const old = this.handles;
        const nh = new Int32Array(old.length * 2);
        nh.set(old);
        for (let k = old.length; k < nh.length; k += 2) nh[k] = HANDLE_FREE;
        this.handles = nh;
      }
    }
    this.handles[2 * h] = pfn;
    this.handles[2 * h + 1] = user;
    return h;
  }
  private releaseHandle(h: number): void {
    this.handles[2 * h] = HANDLE_FREE;
    this.handleFreeList.push(h);
  }
  /** Current pfn of a handle, or HANDLE_EVICTED / HANDLE_SWAPPED / HANDLE_FREE. */
  pfnOf(handle: number): number { return handle >= 0 && handle < this.handleCount ? this.handles[2 * handle]! : HANDLE_FREE; }
  userOf(handle: number): number { return this.handles[2 * handle + 1]!; }
  /** The page behind a handle left memory (reclaimed); the handle stays allocated so the owner can see it. */
  evictHandle(h: number, how: number): void { this.handles[2 * h] = how; }
  /** The owner forgets an evicted handle. */
  forgetHandle(h: number): void { const p = this.handles[2 * h]!; if (p < 0 && p !== HANDLE_FREE) this.releaseHandle(h); }

  /**
   * Move an LRU page's identity from `from` to `to` (migration): same list position semantics (it goes to the
   * head of the same list), same flags and order, and its handle now names `to`.
   */
  migrate(from: number, to: number): void {
    const wasOn = this.isOnLru(from);
    const lru = wasOn ? this.unlink(from) : -1;
    this.moveIdentity(from, to, this.flagsOf(from));
    if (wasOn) this.linkHead(to, lru);
  }

  /** `to` takes `from`'s order and handle, with flags `flagsTo`; `from` is left without flags or handle. */
  private moveIdentity(from: number, to: number, flagsTo: number): void {
    const pg = this.pg;
    const fi = from * STRIDE, ti = to * STRIDE;
    const fm = pg[fi + META]!;
    pg[ti + META] = (pg[ti + META]! & ~(FLAGS_MASK | ORDER_MASK)) | (flagsTo & FLAGS_MASK) | (fm & ORDER_MASK);
    const h = pg[fi + HANDLE]! - 1;
    pg[ti + HANDLE] = h + 1;
    pg[ti + USER] = pg[fi + USER]!;
    pg[ti + COOKIE] = pg[fi + COOKIE]!;
    if (h >= 0) this.handles[2 * h] = to;
    pg[fi + HANDLE] = 0;
    pg[fi + USER] = 0;
    pg[fi + COOKIE] = 0;
    pg[fi + META] = fm & ~FLAGS_MASK;
  }

  /** isolate_lru_folio: off its list, remembered for putback or migration. */
  isolate(pfn: number): void {
    const l = this.unlink(pfn);
    const i = pfn * STRIDE + META;
    this.pg[i] = (this.pg[i]! & ~ISO_MASK) | (l << ISO_SHIFT) | LF_ISOLATED;
  }
  private isoListOf(pfn: number): number { return (this.pg[pfn * STRIDE + META]! & ISO_MASK) >>> ISO_SHIFT; }
  /** putback_lru_page: back to the head of the list it came from. */
  putback(pfn: number): void {
    this.pg[pfn * STRIDE + META]! &= ~LF_ISOLATED;
    this.linkHead(pfn, this.isoListOf(pfn));
  }
  /** Migration of an isolated page: `to` takes its identity and its list; the handle follows. */
  migrateIsolated(from: number, to: number): void {
    this.moveIdentity(from, to, this.flagsOf(from) & ~LF_ISOLATED);
    this.linkHead(to, this.isoListOf(from));
  }

  /** Check the lists: links consistent, sizes equal to the sum of folio sizes, handles point back. */
  verify(): void {
    for (let node = 0; node < this.nrNodes; node++) {
      for (let lru = 0; lru < NR_LRU_LISTS; lru++) {
        const s = this.sentinel(node, lru);
        let n = 0;
        const pg = this.pg;
        for (let p = pg[s * STRIDE + NEXT]!, guard = 0; p !== s; p = pg[p * STRIDE + NEXT]!) {
          if (++guard > this.nrPfns) throw new LruError('EVERIFY', `LRU ${LRU_NAMES[lru]} of node ${node} is not a cycle`);
          if (pg[pg[p * STRIDE + PREV]! * STRIDE + NEXT] !== p) throw new LruError('EVERIFY', `pfn ${p}: broken back link`);
          if (this.listOf(p) !== lru) throw new LruError('EVERIFY', `pfn ${p} is on ${LRU_NAMES[lru]} but says ${this.listOf(p)}`);
          if (this.zoneIndexOf(p) >= this.nodeOfZone.length || this.nodeOfZone[this.zoneIndexOf(p)] !== node) throw new LruError('EVERIFY', `pfn ${p} is on node ${node}'s list but its zone is on another node`);
          const h = pg[p * STRIDE + HANDLE]! - 1;
          if (h >= 0 && this.handles[2 * h] !== p) throw new LruError('EVERIFY', `pfn ${p}: handle ${h} points at ${this.handles[2 * h]}`);
          if (h >= 0 && this.handles[2 * h + 1] !== pg[p * STRIDE + USER]) throw new LruError('EVERIFY', `pfn ${p}: its record says user ${pg[p * STRIDE + USER]} but handle ${h} says ${this.handles[2 * h + 1]}`);
          n += 1 << this.orderOf(p);
        }
        if (n !== this.lruSize(node, lru)) throw new LruError('EVERIFY', `LRU ${LRU_NAMES[lru]} of node ${node}: size ${this.lruSize(node, lru)} but holds ${n}`);
      }
    }
  }
}
