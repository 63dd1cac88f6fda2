/**
 * Movable pages that are not on an LRU list: pages whose owner can follow a move (page->mapping with
 * movable_operations in the kernel: zsmalloc, balloon pages; here also a workload's movable memory that reclaim
 * may not take, e.g. anonymous memory on a machine without swap). Compaction isolates and migrates them beside
 * the LRU pages; reclaim never sees them. Side tables keyed by pfn, no object per page.
 * @kernel mm/migrate.c isolate_movable_page, putback_movable_pages, move_to_new_folio (the non-LRU branch)
 *
 * Only order-0 entries are migrated (as with LRU folios, 6.1's isolate_migratepages_block steps over compound
 * pages); larger entries are registered so the scanner can step over them at once.
 */
import { LabyrinthError } from '../errors.ts';

/** The owner of movable pages: told after its page moved (the old page is already freed by compaction). */
export interface MovableOwner {
  moved(from: number, to: number, order: number): void;
}

export class MovablePages {
  /** per pfn: owner id (index into owners), 0 when the pfn heads no registered movable block */
  readonly ownerOf: Int32Array;
  /** per pfn: order of a registered block */
  readonly order: Uint8Array;
  /** per pfn: 1 while compaction holds it isolated */
  private readonly isolated: Uint8Array;
  private readonly owners: Array<MovableOwner | undefined> = [undefined];
  /** registered pages (sum of 2^order) */
  nrPages = 0;

  constructor(nrPfns: number) {
    this.ownerOf = new Int32Array(nrPfns);
    this.order = new Uint8Array(nrPfns);
    this.isolated = new Uint8Array(nrPfns);
  }

  /** Register an owner; returns its id for add(). */
  addOwner(o: MovableOwner): number {
    this.owners.push(o);
    return this.owners.length - 1;
  }

  /** The block at pfn (allocated, owned by `owner`) becomes movable. */
  add(pfn: number, order: number, owner: number): void {
    if (this.ownerOf[pfn] !== 0) throw new LabyrinthError('EMOVABLE', `Cannot register pfn ${pfn} as movable: because it already is`);
    this.ownerOf[pfn] = owner;
    this.order[pfn] = order;
    this.nrPages += 1 << order;
  }

  /** The owner drops the block (before freeing it). */
  remove(pfn: number): void {
    if (this.ownerOf[pfn] === 0) return;
    this.ownerOf[pfn] = 0;
    this.nrPages -= 1 << this.order[pfn]!;
  }

  /** Registered and not isolated: compaction may take it. */
  isMovable(pfn: number): boolean {
    return this.ownerOf[pfn] !== 0 && this.isolated[pfn] === 0;
  }
  isIsolated(pfn: number): boolean { return this.isolated[pfn] !== 0; }

  /** isolate_movable_page */
  isolate(pfn: number): void { this.isolated[pfn] = 1; }
  /** putback_movable_pages: migration failed, the page stays where it is. */
  putback(pfn: number): void { this.isolated[pfn] = 0; }

  /** The isolated page at `from` now lives at `to`: the registration follows and the owner hears of it. */
  migrate(from: number, to: number): void {
    const owner = this.ownerOf[from]!;
    const order = this.order[from]!;
    this.isolated[from] = 0;
    this.ownerOf[from] = 0;
    this.ownerOf[to] = owner;
    this.order[to] = order;
    this.owners[owner]!.moved(from, to, order);
  }
}
