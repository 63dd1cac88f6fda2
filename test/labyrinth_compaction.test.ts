/**
 * Exclusive pages are never migrated or put on an LRU (secretmem's migrate_folio returns -EBUSY): the pressure
 * layer's compaction and LRU, running on the core through CorePort, skip them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { CorePort } from '../src/alloc/core_port.ts';
import { Pressure } from '../src/alloc/slowpath.ts';
import { Clock } from '../src/sim/clock.ts';
import { Labyrinths } from '../src/labyrinth/domain.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { ArrayBufferPageBytes } from '../src/labyrinth/page_bytes.ts';
import { GFP_HIGHUSER_MOVABLE, GFP_KERNEL, __GFP_NOWARN } from '../src/gfp/bits.ts';
import { LabyrinthError } from '../src/errors.ts';
import { PGMIGRATE_SUCCESS } from '../src/reclaim/vm_events.ts';

test('compaction_never_moves_exclusive_pages and the LRU refuses them', () => {
  const core = smallMachine({ dmaPages: 4095 });
  const port = new CorePort(core);
  const p = new Pressure(port, new Clock());
  const labs = new Labyrinths(core, { bytes: new ArrayBufferPageBytes(core.mm.nrPfn) });
  const t = labs.create('vault').spawn('keeper');
  // interleave movable LRU pages with exclusive pages, then free most movable pages: a fragmented zone
  const movable: number[] = [];
  const keys: ExclusiveKey[] = [];
  for (let i = 0; i < 600; i++) {
    const pfn = core.alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN, 0);
    if (pfn < 0) break;
    p.reclaim.addPage(pfn, 0, 'anon', false);
    movable.push(pfn);
    if (i % 20 === 0) {
      const k = t.allocExclusive(GFP_KERNEL, i % 40 === 0 ? 2 : 0);
      assert.ok(k instanceof ExclusiveKey);
      t.write(k, 0, new Uint8Array([i & 0xff, 0xa5, 0x5a]));
      keys.push(k);
    }
  }
  for (let i = 0; i < movable.length; i++) {
    if (i % 3 !== 0) { p.reclaim.removePage(movable[i]!); core.__free_pages(movable[i]!, 0); }
  }
  const before = keys.map((k) => t.info(k));
  for (const info of before) {
    assert.equal(port.pageIsUnmovable(info.pfn), true);
    for (let q = 1; q < info.nrPages; q++) assert.equal(port.pageIsUnmovable(info.pfn + q), true, 'every tail of an exclusive block');
    assert.throws(() => p.reclaim.addPage(info.pfn, 0, 'anon', false), (e: unknown) => e instanceof LabyrinthError && e.code === 'LRU_EXCLUSIVE');
  }
  // even an exclusive page forced onto the LRU behind the Reclaimer's back is not isolated for migration
  const forced = before[1]!.pfn;
  p.reclaim.lru.add(forced, 0, 'anon', false);
  p.compaction.compactMemory();
  assert.ok(p.ev.v[PGMIGRATE_SUCCESS]! > 0, 'compaction did migrate movable pages');
  p.reclaim.lru.remove(forced);
  const after = keys.map((k) => t.info(k));
  assert.deepEqual(after, before, 'no exclusive block moved');
  keys.forEach((k, i) => assert.deepEqual(Array.from(t.read(k, 0, 3)), [(i * 20) & 0xff, 0xa5, 0x5a]));
  labs.verify();
});
