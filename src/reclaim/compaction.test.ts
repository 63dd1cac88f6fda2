import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rig, Task, fillTo } from '../../test/_pressure_rig.ts';
import { GFP_KERNEL, __GFP_COMP } from '../gfp/bits.ts';
import { processContext } from '../alloc/context.ts';
import { COMPACT_DEFERRED, COMPACT_SKIPPED } from './compaction.ts';
import { MAX_ORDER } from '../mm/constants.ts';
import { PAGE_STATE_ALLOCATED } from './port.ts';

/** Memory full of one task's movable page-cache pages, then every other one dropped: free but no free pair. */
function fragmented(): { r: ReturnType<typeof rig>; t: Task; handles: number[] } {
  const r = rig();
  const t = new Task(r, 70, 'cache');
  const handles: number[] = [];
  const pfns: number[] = [];
  fillTo(r, 0, (pfn) => pfns.push(pfn));
  pfns.sort((a, b) => a - b);
  for (const pfn of pfns) {
    if (pfn % 2 === 0) r.port.freePages(pfn, 0);
    else handles.push(t.own(pfn, 'file-fs', true));
  }
  return { r, t, handles };
}

test('compact_memory_moves_pages_and_their_handles_follow', () => {
  const { r, t, handles } = fragmented();
  const z = r.port.zones[0]!;
  for (let o = 1; o < MAX_ORDER; o++) assert.equal(z.nrFree(o), 0);
  r.p.compaction.compactMemory();
  const c = r.p.counters();
  assert.ok(c['pgmigrate_success']! > 1000, `migrated ${c['pgmigrate_success']}`);
  assert.ok(c['compact_migrate_scanned']! > 0 && c['compact_free_scanned']! > 0);
  assert.ok(z.nrFree(MAX_ORDER - 1) > 0, 'compaction built maximal blocks');
  assert.equal(t.movedCount, c['pgmigrate_success']);
  const lru = r.p.reclaim.lru;
  for (const h of handles) {
    const pfn = lru.pfnOf(h);
    assert.ok(pfn >= 0);
    assert.equal(lru.handleAt(pfn), h, 'the handle names the page at its new place');
  }
  r.port.verify();
  lru.verify();
});

test('direct_compaction_serves_a_high_order_request_in_virtual_time', async () => {
  const { r } = fragmented();
  let got = -2;
  r.p.allocSleeping(GFP_KERNEL | __GFP_COMP, 4, processContext(1, 'app'), (pfn) => { got = pfn; });
  r.clock.runUntil(10e9);
  assert.ok(got >= 0);
  const c = r.p.counters();
  assert.ok(c['compact_stall']! >= 1);
  assert.ok(c['compact_success']! >= 1);
  assert.ok(r.clock.now > 0);
  r.port.verify();
});

test('compaction_deferral_follows_defer_compaction', () => {
  const { r } = fragmented();
  const cp = r.p.compaction;
  assert.equal(cp.deferred(0, 4), false);
  cp.defer(0, 4); // shift 1: one consideration is deferred
  assert.equal(cp.deferred(0, 4), true);
  assert.equal(cp.deferred(0, 4), false, 'after 1<<shift considerations compaction runs again');
  cp.defer(0, 4); cp.defer(0, 4); // shift 3
  let deferredCount = 0;
  while (cp.deferred(0, 4)) deferredCount++;
  assert.equal(deferredCount, (1 << 3) - 1);
  assert.equal(cp.deferred(0, 2), false, 'lower orders than the failed one are never deferred');
  cp.deferReset(0, 4, true);
  assert.equal(cp.deferred(0, 4), false);
  void COMPACT_DEFERRED; void COMPACT_SKIPPED;
});

test('non_lru_movable_pages_migrate_and_their_owner_follows; unregistered pages stay put', () => {
  const r = rig();
  const mov = r.p.compaction.movable;
  const pfns: number[] = [];
  fillTo(r, 0, (pfn) => pfns.push(pfn));
  pfns.sort((a, b) => a - b);
  // every other page is freed; of the rest, the odd quarter is registered movable, the others stay unmovable
  const held = new Map<number, number>(); // current pfn -> original pfn
  const pinned = new Set<number>();
  const moves: Array<[number, number]> = [];
  const owner = mov.addOwner({
    moved: (from, to, order) => {
      assert.equal(order, 0);
      assert.ok(held.has(from) && !held.has(to));
      held.set(to, held.get(from)!);
      held.delete(from);
      moves.push([from, to]);
    },
  });
  pfns.forEach((pfn, i) => {
    if (i % 2 === 0) r.port.freePages(pfn, 0);
    else if (i % 4 === 1) { mov.add(pfn, 0, owner); held.set(pfn, pfn); }
    else pinned.add(pfn);
  });
  const before = mov.nrPages;
  r.p.compaction.compactMemory();
  const c = r.p.counters();
  assert.ok(c['pgmigrate_success']! > 100, `migrated ${c['pgmigrate_success']}`);
  assert.equal(moves.length, c['pgmigrate_success'], 'every migration was a registered movable page');
  assert.equal(mov.nrPages, before, 'registrations follow the pages');
  for (const [from, to] of moves) {
    assert.ok(to > from, 'pages move up, towards the free scanner');
    assert.ok(!pinned.has(from), 'an unregistered page never moves');
  }
  for (const pfn of held.keys()) assert.ok(mov.isMovable(pfn) && r.port.pageState(pfn) === PAGE_STATE_ALLOCATED, `pfn ${pfn} is registered and allocated`);
  r.port.verify();
});
