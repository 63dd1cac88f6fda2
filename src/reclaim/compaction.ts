/**
 * Memory compaction: a migration scanner walks up from the zone start isolating movable (LRU) pages, a free
 * scanner walks down from the zone end isolating free pages, and pages move from low to high addresses until the
 * scanners meet or a free block of the wanted order exists. Direct compaction with priorities and deferral,
 * kcompactd woken by kswapd, and compact_memory.
 * @kernel mm/compaction.c compact_zone, __compact_finished, isolate_migratepages_block, isolate_freepages_block,
 *         compaction_suitable, __compaction_suitable, try_to_compact_pages, defer_compaction, compaction_deferred,
 *         compaction_defer_reset, wakeup_kcompactd, kcompactd_do_work, compact_node (6.1)
 *
 * A moved page keeps its owner's handle valid: Lru.migrate() points the handle at the new pfn and the owner's
 * `moved()` hears about it. Pages of owners without `moved()` are not migrated (they are pinned, as far as
 * compaction is concerned). Besides LRU pages, the scanner isolates non-LRU movable pages (`movable`,
 * src/reclaim/movable.ts), as isolate_migratepages_block does for __PageMovable pages. Only order-0 pages
 * migrate; larger folios and blocks are stepped over (6.1 skips compound pages outside alloc_contig).
 * Exclusive pages (labyrinths) never move, whatever list claims them.
 */
import { ALLOC_CMA, ALLOC_WMARK_MASK } from '../gfp/alloc_flags.ts';
import {
  MAX_ORDER, MIGRATE_MOVABLE, MIGRATE_PCPTYPES, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE, pageblock_nr_pages,
  pageblock_order,
} from '../mm/constants.ts';
import type { Clock } from '../sim/clock.ts';
import { zoneWatermarkOk } from '../zone/watermark.ts';
import { LF_ISOLATED, LF_UNEVICTABLE, LF_WRITEBACK } from './lru.ts';
import { PAGE_STATE_FREE, type PressureZone } from './port.ts';
import type { Reclaimer } from './vmscan.ts';
import { MovablePages } from './movable.ts';
import {
  COMPACT_DAEMON_FREE_SCANNED, COMPACT_DAEMON_MIGRATE_SCANNED, COMPACT_DAEMON_WAKE, COMPACT_FAIL,
  COMPACT_FREE_SCANNED, COMPACT_ISOLATED, COMPACT_MIGRATE_SCANNED, COMPACT_STALL, COMPACT_SUCCESS as EV_COMPACT_SUCCESS,
  PGMIGRATE_FAIL, PGMIGRATE_SUCCESS,
} from './vm_events.ts';

/** enum compact_result (6.1 order) */
export const COMPACT_NOT_SUITABLE_ZONE = 0;
export const COMPACT_SKIPPED = 1;
export const COMPACT_DEFERRED = 2;
export const COMPACT_NO_SUITABLE_PAGE = 3;
export const COMPACT_CONTINUE = 4;
export const COMPACT_COMPLETE = 5;
export const COMPACT_PARTIAL_SKIPPED = 6;
export const COMPACT_CONTENDED = 7;
export const COMPACT_SUCCESS = 8;
export const COMPACT_RESULT_NAMES = ['not_suitable_zone', 'skipped', 'deferred', 'no_suitable_page', 'continue',
  'complete', 'partial_skipped', 'contended', 'success'] as const;

/** enum compact_priority */
export const COMPACT_PRIO_SYNC_FULL = 0;
export const MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL;
export const COMPACT_PRIO_SYNC_LIGHT = 1;
export const MIN_COMPACT_COSTLY_PRIORITY = COMPACT_PRIO_SYNC_LIGHT;
export const DEF_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_LIGHT;
export const COMPACT_PRIO_ASYNC = 2;
export const INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC;

export const MAX_COMPACT_RETRIES = 16;
export const COMPACT_MAX_DEFER_SHIFT = 6;
export const COMPACT_CLUSTER_MAX = 32;

export type MigrateMode = 'async' | 'sync_light' | 'sync';

export interface CompactOptions {
  /** CPU cost of visiting one pfn in either scanner, virtual ns */
  scanNsPerPage: number;
  /** cost of migrating one page (copy + remap), virtual ns */
  migrateNsPerPage: number;
  /**
   * vm.extfrag_threshold (0..1000, default 500): compaction of a costly order is not tried in a zone whose
   * fragmentation index is at most this (the failure is then due to lack of memory, not fragmentation);
   * 1000 turns compaction for orders > 3 off.
   */
  extfragThreshold: number;
}
export const DEFAULT_COMPACT_OPTIONS: CompactOptions = { scanNsPerPage: 20, migrateNsPerPage: 1500, extfragThreshold: 500 };

/** struct compact_control, the fields we use. */
interface CompactControl {
  order: number;
  migratetype: number;
  mode: MigrateMode;
  direct: boolean;
  allocFlags: number;
  highestZoneIdx: number;
  migrateScanned: number;
  freeScanned: number;
  migrated: number;
  /** the zone was walked from its very start (COMPACT_COMPLETE vs PARTIAL_SKIPPED) */
  wholeZone: boolean;
}

/** compact_gap(order): free pages compaction needs as scratch. */
export function compactGap(order: number): number { return 2 << order; }

export class Compactor {
  private readonly r: Reclaimer;
  private readonly clock: Clock;
  readonly opts: CompactOptions;
  /** per zone (port order): compact_considered, compact_defer_shift, compact_order_failed */
  readonly considered: Int32Array;
  readonly deferShift: Int32Array;
  readonly orderFailed: Int32Array;
  /** kcompactd per node */
  private readonly kcdMaxOrder: Int32Array;
  private readonly kcdHz: Int32Array;
  private readonly kcdSleeping: Uint8Array;
  /** virtual ns of the last compaction run's cost (read by callers that sleep for it) */
  lastCostNs = 0;
  /** Movable pages that are not on an LRU (isolate_movable_page's pages). */
  readonly movable: MovablePages;

  constructor(r: Reclaimer, clock: Clock, opts: Partial<CompactOptions> = {}) {
    this.r = r;
    this.clock = clock;
    this.opts = { ...DEFAULT_COMPACT_OPTIONS, ...opts };
    const n = r.port.zones.length;
    this.considered = new Int32Array(n);
    this.deferShift = new Int32Array(n);
    this.orderFailed = new Int32Array(n).fill(MAX_ORDER);
    this.kcdMaxOrder = new Int32Array(r.port.nrNodes);
    this.kcdHz = new Int32Array(r.port.nrNodes).fill(-1);
    this.kcdSleeping = new Uint8Array(r.port.nrNodes).fill(1);
    let nrPfns = 0;
    for (const z of r.port.zones) nrPfns = Math.max(nrPfns, z.endPfn);
    this.movable = new MovablePages(nrPfns);
  }

  private get zones(): readonly PressureZone[] { return this.r.port.zones; }

  // ----- deferral -----
  /** @kernel mm/compaction.c defer_compaction */
  defer(zi: number, order: number): void {
    this.considered[zi] = 0;
    if (this.deferShift[zi]! < COMPACT_MAX_DEFER_SHIFT) this.deferShift[zi]! += 1;
    if (order < this.orderFailed[zi]!) this.orderFailed[zi] = order;
  }
  /** @kernel mm/compaction.c compaction_deferred */
  deferred(zi: number, order: number): boolean {
    if (order < this.orderFailed[zi]!) return false;
    const limit = 1 << this.deferShift[zi]!;
    if (++this.considered[zi]! >= limit) { this.considered[zi] = limit; return false; }
    return true;
  }
  /** @kernel mm/compaction.c compaction_defer_reset */
  deferReset(zi: number, order: number, allocSuccess: boolean): void {
    if (allocSuccess) { this.considered[zi] = 0; this.deferShift[zi] = 0; }
    if (order >= this.orderFailed[zi]!) this.orderFailed[zi] = order + 1;
  }

  // ----- suitability -----
  /** @kernel mm/compaction.c compaction_suitable (order −1 = compact_memory) */
  suitable(zi: number, order: number, allocFlags: number, hz: number): number {
    const z = this.zones[zi]!;
    if (order === -1) return COMPACT_CONTINUE;
    const wm = allocFlags & ALLOC_WMARK_MASK;
    const mark = (wm === 0 ? z.wmarkMin : wm === 1 ? z.wmarkLow : z.wmarkHigh) + z.watermarkBoost;
    if (zoneWatermarkOk(z, order, mark, hz, allocFlags, z.freePages)) return COMPACT_SUCCESS;
    let watermark = order > 3 ? z.wmarkLow + z.watermarkBoost : z.wmarkMin + z.watermarkBoost;
    watermark += compactGap(order);
    if (!zoneWatermarkOk(z, 0, watermark, hz, ALLOC_CMA, z.freePages)) return COMPACT_SKIPPED;
    if (order > 3) {
      const fragindex = this.fragmentationIndex(z, order);
      if (fragindex >= 0 && fragindex <= this.opts.extfragThreshold) return COMPACT_NOT_SUITABLE_ZONE;
    }
    return COMPACT_CONTINUE;
  }

  /** @kernel mm/vmstat.c __fragmentation_index (×1000; −1000 when a suitable block exists) */
  fragmentationIndex(z: PressureZone, order: number): number {
    const requested = 1 << order;
    let freeBlocksTotal = 0;
    let freeBlocksSuitable = 0;
    let freePages = 0;
    for (let o = 0; o < MAX_ORDER; o++) {
      const n = z.nrFree(o);
      freeBlocksTotal += n;
      freePages += n << o;
      if (o >= order) freeBlocksSuitable += n << (o - order);
    }
    if (!freeBlocksTotal) return 0;
    if (freeBlocksSuitable) return -1000;
    return 1000 - Math.floor((1000 + Math.floor((freePages * 1000) / requested)) / freeBlocksTotal);
  }

  /**
   * __compact_finished's "is a suitable page free?": a block of the request's migratetype, or one a fallback may
   * steal (find_suitable_fallback with only_stealable: can_steal_fallback allows blocks of order ≥
   * pageblock_order / 2, and any order for unmovable and reclaimable requests). A non-movable request in sync
   * mode first finishes the pageblock the migration scanner is in.
   */
  private suitablePageFree(z: PressureZone, cc: CompactControl, migratePfn: number): boolean {
    const migratetype = cc.migratetype;
    for (let o = cc.order; o < MAX_ORDER; o++) {
      if (z.nrFree(o) === 0) continue;
      if (z.freeListNonEmpty(o, migratetype)) return true;
      const canSteal = o >= (pageblock_order >> 1) || migratetype === MIGRATE_UNMOVABLE || migratetype === MIGRATE_RECLAIMABLE;
      if (!canSteal) continue;
      for (let mt = 0; mt < MIGRATE_PCPTYPES; mt++) {
        if (mt === migratetype || !z.freeListNonEmpty(o, mt)) continue;
        if (migratetype === MIGRATE_MOVABLE) return true;
        return cc.mode === 'async' || (migratePfn & (pageblock_nr_pages - 1)) === 0;
      }
    }
    return false;
  }

  // ----- the scanners -----
  private isMovable(pfn: number): boolean {
    const lru = this.r.lru;
    if (!lru.isOnLru(pfn)) return false;
    if (lru.orderOf(pfn) !== 0) return false;
    // Labyrinth (issue 5): exclusive pages are never migrated (secretmem's migrate_folio returns -EBUSY)
    if (this.r.port.pageIsUnmovable?.(pfn) === true) return false;
    const f = lru.flagsOf(pfn);
    if (f & (LF_WRITEBACK | LF_UNEVICTABLE | LF_ISOLATED)) return false;
    const h = lru.handleAt(pfn);
    if (h < 0) return true;
    const user = lru.userAt(pfn);
    if (user === 0) return true;
    return this.r.owners[user]?.moved !== undefined;
  }

  /** @kernel mm/compaction.c suitable_migration_source */
  private suitableSource(pfn: number, cc: CompactControl): boolean {
    if (cc.mode !== 'async' || !cc.direct) return true;
    const mt = this.r.port.pageblockMigratetype(pfn);
    if (cc.migratetype === MIGRATE_MOVABLE) return mt === MIGRATE_MOVABLE;
    return mt === cc.migratetype;
  }

  /** @kernel mm/compaction.c suitable_migration_target */
  private suitableTarget(pfn: number): boolean {
    const port = this.r.port;
    const fo = port.freeOrder(pfn);
    if (fo >= pageblock_order) return true;
    return port.pageblockMigratetype(pfn) === MIGRATE_MOVABLE;
  }

  /** @kernel mm/compaction.c compact_zone */
  private compactZone(zi: number, cc: CompactControl): number {
    const z = this.zones[zi]!;
    const port = this.r.port;
    const lru = this.r.lru;
    const mov = this.movable;
    const ev = this.r.ev.v;
    const ret0 = this.suitable(zi, cc.order, cc.allocFlags, cc.highestZoneIdx);
    if (ret0 === COMPACT_SUCCESS || ret0 === COMPACT_SKIPPED || ret0 === COMPACT_NOT_SUITABLE_ZONE) return ret0;
    const start = z.startPfn;
    const end = z.endPfn;
    let migratePfn = start;
    // the free scanner starts at the last pageblock of the zone
    let freePfn = (end - 1) & ~(pageblock_nr_pages - 1);
    if (freePfn < start) freePfn = start;
    cc.wholeZone = true;
    const freeList: number[] = [];
    let result = COMPACT_CONTINUE;
    while (result === COMPACT_CONTINUE) {
      // isolate_migratepages: one pageblock at a time, up to COMPACT_CLUSTER_MAX pages
      const toMigrate: number[] = [];
      while (toMigrate.length === 0 && migratePfn < freePfn) {
        const blockEnd = Math.min(end, (migratePfn & ~(pageblock_nr_pages - 1)) + pageblock_nr_pages);
        if (!this.suitableSource(migratePfn, cc)) { migratePfn = blockEnd; continue; }
        let pfn = migratePfn;
        for (; pfn < blockEnd && toMigrate.length < COMPACT_CLUSTER_MAX; pfn++) {
          cc.migrateScanned++;
          if (port.pageState(pfn) === PAGE_STATE_FREE) {
            const fo = port.freeOrder(pfn);
            if (fo > 0) pfn += (1 << fo) - 1;
            continue;
          }
          if (lru.isOnLru(pfn) && lru.orderOf(pfn) > 0) { pfn += (1 << lru.orderOf(pfn)) - 1; continue; }
          if (this.isMovable(pfn)) {
            lru.isolate(pfn);
            toMigrate.push(pfn);
          } else if (mov.ownerOf[pfn] !== 0) {
            // a non-LRU movable page (isolate_movable_page); larger blocks are stepped over
            if (mov.order[pfn]! > 0) { pfn += (1 << mov.order[pfn]!) - 1; continue; }
            if (mov.isMovable(pfn) && port.pageIsUnmovable?.(pfn) !== true) {
              mov.isolate(pfn);
              toMigrate.push(pfn);
            }
          }
        }
        migratePfn = pfn;
      }
      ev[COMPACT_ISOLATED]! += toMigrate.length;
      // isolate_freepages: enough free pages for the batch, from the top down, above the migrate scanner
      while (freeList.length < toMigrate.length && freePfn > migratePfn) {
        const blockStart = freePfn;
        const blockEnd = Math.min(end, blockStart + pageblock_nr_pages);
        if (this.suitableTarget(blockStart) || port.pageblockMigratetype(blockStart) === MIGRATE_MOVABLE) {
          for (let pfn = Math.max(blockStart, start); pfn < blockEnd; pfn++) {
            cc.freeScanned++;
            const fo = port.pageState(pfn) === PAGE_STATE_FREE ? port.freeOrder(pfn) : -1;
            if (fo < 0) continue;
            if (!port.isolateFreePage(pfn, fo)) break;
            port.splitPage(pfn, fo);
            for (let i = 0; i < 1 << fo; i++) freeList.push(pfn + i);
            ev[COMPACT_ISOLATED]! += 1 << fo;
            pfn += (1 << fo) - 1;
          }
        }
        freePfn = blockStart - pageblock_nr_pages;
      }
      // migrate_pages: each isolated page to the highest isolated free page
      freeList.sort((a, b) => a - b);
      for (const src of toMigrate) {
        const dst = freeList.length > 0 && freeList[freeList.length - 1]! > src ? freeList.pop()! : -1;
        if (dst < 0) {
          if (mov.isIsolated(src)) mov.putback(src);
          else lru.putback(src);
          ev[PGMIGRATE_FAIL]! += 1;
          continue;
        }
        this.migratePage(src, dst);
        cc.migrated++;
        ev[PGMIGRATE_SUCCESS]! += 1;
      }
      // __compact_finished
      if (migratePfn >= freePfn) result = cc.wholeZone ? COMPACT_COMPLETE : COMPACT_PARTIAL_SKIPPED;
      else if (cc.order !== -1 && this.suitablePageFree(z, cc, migratePfn)) result = COMPACT_SUCCESS;
    }
    // release_freepages
    for (const pfn of freeList) port.freePages(pfn, 0);
    ev[COMPACT_MIGRATE_SCANNED]! += cc.migrateScanned;
    ev[COMPACT_FREE_SCANNED]! += cc.freeScanned;
    this.lastCostNs += (cc.migrateScanned + cc.freeScanned) * this.opts.scanNsPerPage + cc.migrated * this.opts.migrateNsPerPage;
    return result;
  }

  /**
   * Move one isolated page to an isolated free page: contents, LRU position or movable registration, owner
   * handle; free the source; tell the owner.
   */
  private migratePage(src: number, dst: number): void {
    if (this.movable.isIsolated(src)) {
      this.r.port.freePages(src, 0);
      this.movable.migrate(src, dst);
      return;
    }
    const lru = this.r.lru;
    const h = lru.handleAt(src);
    lru.migrateIsolated(src, dst);
    const user = h >= 0 ? lru.userAt(dst) : 0;
    this.r.port.setPageLru?.(src, false);
    this.r.port.setPageLru?.(dst, true);
    this.r.port.freePages(src, 0);
    const owner = user ? this.r.owners[user] : undefined;
    if (owner?.moved && h >= 0) owner.moved(src, dst, 0, h, lru.cookieAt(dst));
  }

  // ----- direct compaction -----
  /**
   * @kernel mm/compaction.c try_to_compact_pages: every zone the request may use, highest first.
   * Returns the compact_result; the caller then tries the free lists.
   */
  tryToCompactPages(gfp: number, order: number, allocFlags: number, prio: number, hz: number, migratetype: number): number {
    let rc = COMPACT_SKIPPED;
    this.lastCostNs = 0;
    for (let zi = this.zones.length - 1; zi >= 0; zi--) {
      const z = this.zones[zi]!;
      if (z.zoneIdx > hz) continue;
      if (prio > MIN_COMPACT_PRIORITY && this.deferred(zi, order)) { rc = Math.max(rc, COMPACT_DEFERRED); continue; }
      const cc: CompactControl = {
        order, migratetype, mode: prio === COMPACT_PRIO_ASYNC ? 'async' : 'sync_light', direct: true, allocFlags,
        highestZoneIdx: hz, migrateScanned: 0, freeScanned: 0, migrated: 0, wholeZone: false,
      };
      const status = this.compactZone(zi, cc);
      rc = Math.max(rc, status);
      if (status === COMPACT_SUCCESS) { this.deferReset(zi, order, false); break; }
      if (prio !== COMPACT_PRIO_ASYNC && (status === COMPACT_COMPLETE || status === COMPACT_PARTIAL_SKIPPED)) this.defer(zi, order);
    }
    void gfp;
    return rc;
  }

  /** Counters of __alloc_pages_direct_compact: a stall unless skipped; success when a page came out. */
  countDirect(result: number, gotPage: boolean, zoneOfPage: number, order: number): void {
    if (result === COMPACT_SKIPPED) return;
    const ev = this.r.ev.v;
    ev[COMPACT_STALL]! += 1;
    if (gotPage) { if (zoneOfPage >= 0) this.deferReset(zoneOfPage, order, true); ev[EV_COMPACT_SUCCESS]! += 1; } else ev[COMPACT_FAIL]! += 1;
  }

  /** compact_memory (sysctl vm.compact_memory / /proc/sys/vm/compact_memory): every zone, order −1, sync. */
  compactMemory(): void {
    this.lastCostNs = 0;
    for (let zi = 0; zi < this.zones.length; zi++) {
      const cc: CompactControl = {
        order: -1, migratetype: MIGRATE_MOVABLE, mode: 'sync', direct: false, allocFlags: 0, highestZoneIdx: this.zones[zi]!.zoneIdx,
        migrateScanned: 0, freeScanned: 0, migrated: 0, wholeZone: true,
      };
      this.compactZone(zi, cc);
    }
  }

  // ----- kcompactd -----
  /** @kernel mm/compaction.c wakeup_kcompactd */
  wakeupKcompactd(node: number, order: number, hz: number): void {
    if (!order) return;
    if (this.kcdMaxOrder[node]! < order) this.kcdMaxOrder[node] = order;
    if (this.kcdHz[node]! < 0 || this.kcdHz[node]! > hz) this.kcdHz[node] = hz;
    if (!this.kcdSleeping[node]) return;
    if (!this.nodeSuitable(node)) return;
    this.kcdSleeping[node] = 0;
    this.clock.after(0, () => this.kcompactdDoWork(node));
  }

  private nodeSuitable(node: number): boolean {
    const hz = this.kcdHz[node]!;
    for (let zi = 0; zi < this.zones.length; zi++) {
      const z = this.zones[zi]!;
      if (z.node !== node || z.zoneIdx > hz || z.managed === 0) continue;
      if (this.suitable(zi, this.kcdMaxOrder[node]!, 0, hz) === COMPACT_CONTINUE) return true;
    }
    return false;
  }

  /** @kernel mm/compaction.c kcompactd_do_work */
  private kcompactdDoWork(node: number): void {
    const order = this.kcdMaxOrder[node]!;
    const hz = this.kcdHz[node]!;
    const ev = this.r.ev.v;
    ev[COMPACT_DAEMON_WAKE]! += 1;
    this.lastCostNs = 0;
    for (let zi = 0; zi < this.zones.length; zi++) {
      const z = this.zones[zi]!;
      if (z.node !== node || z.zoneIdx > hz || z.managed === 0) continue;
      if (this.deferred(zi, order)) continue;
      if (this.suitable(zi, order, 0, z.zoneIdx) !== COMPACT_CONTINUE) continue;
      const cc: CompactControl = {
        order, migratetype: MIGRATE_MOVABLE, mode: 'sync_light', direct: false, allocFlags: 0, highestZoneIdx: z.zoneIdx,
        migrateScanned: 0, freeScanned: 0, migrated: 0, wholeZone: false,
      };
      const status = this.compactZone(zi, cc);
      if (status === COMPACT_SUCCESS) this.deferReset(zi, order, false);
      else if (status === COMPACT_PARTIAL_SKIPPED || status === COMPACT_COMPLETE) { this.r.port.drainAllPages(); this.defer(zi, order); }
      ev[COMPACT_DAEMON_MIGRATE_SCANNED]! += cc.migrateScanned;
      ev[COMPACT_DAEMON_FREE_SCANNED]! += cc.freeScanned;
    }
    if (this.kcdMaxOrder[node]! <= order) this.kcdMaxOrder[node] = 0;
    if (this.kcdHz[node]! >= hz) this.kcdHz[node] = -1;
    // kcompactd sleeps again once its work (and its time) is done
    this.clock.after(Math.max(1000, this.lastCostNs), () => { this.kcdSleeping[node] = 1; });
  }
}

export { MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE };
