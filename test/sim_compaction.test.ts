/**
 * Compaction under the simulator's actors: every way an actor keeps pages (FIFO ring, exponential-hold slots,
 * swap-remove set; on an LRU or registered movable) follows migrations and reclaim, and the accounting holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimAllocator, type CoreSimAllocator } from '../src/sim/machine.ts';
import { runScenario } from '../src/sim/run.ts';
import { validateScenario } from '../src/sim/scenario.ts';
import type { HeldPagesView } from '../src/sim/simulator.ts';
import { checkAccounting } from './_sim_accounting.ts';

test('actors_follow_migration_in_every_layout: ring, slots and set stay exact under reclaim and compaction', () => {
  const spec = validateScenario({
    name: 'layouts', durationMs: 3000, sampleMs: 100,
    machine: { mem: '256M', cpus: 2, kernel: '6.1', tunables: {} },
    speed: { reclaimPagesPerSec: 250_000, ioLatencyUs: 200 },
    actors: [
      // FIFO ring on the file LRU: reclaim takes some entries (they stay in the ring, dead, until they expire)
      { name: 'ring', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 0, order: 0, mibPerSec: 150, holdMs: 900, lru: 'file' },
      // exponential holds, movable but not reclaimable: the slot table
      { name: 'slots', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0, requestsPerSec: 20_000, arrival: 'poisson', holdMeanMs: 400 },
      // held until replaced, anonymous LRU: the swap-remove set
      { name: 'set', kind: 'stream', gfp: 'GFP_HIGHUSER_MOVABLE', context: 'process', cpu: 1, order: 0, chunk: 64, requestsPerSec: 200, maxHeldPercent: 20, onFull: 'replace-random', lru: 'anon' },
      // unmovable kernel objects scattered through the pageblocks, and huge pages that need compaction
      { name: 'slab', comm: 'kworker/0:1', kind: 'stream', gfp: 'GFP_KERNEL', context: 'process', cpu: 0, order: [70, 20, 10], requestsPerSec: 1500, arrival: 'poisson', holdMeanMs: 5000 },
      { name: 'thp', comm: 'khugepaged', kind: 'stream', gfp: 'GFP_TRANSHUGE', context: 'process', cpu: 1, order: 9, requestsPerSec: 20, holdMeanMs: 1000 },
    ],
  });
  let alloc: CoreSimAllocator | null = null;
  let held: readonly HeldPagesView[] = [];
  const r = runScenario(spec, { seed: 3, allocator: (s) => (alloc = createSimAllocator(s.machine)), inspect: (a) => { held = a; } });
  const c = r.pressureCounters;
  assert.ok((c['pgsteal_file'] ?? 0) > 0, 'reclaim took page cache');
  assert.ok((c['pgmigrate_success'] ?? 0) > 0, `compaction migrated pages: ${JSON.stringify(c)}`);
  assert.equal(checkAccounting({ alloc: alloc!, held }), c['pgmigrate_success'], 'every migrated page was followed by its owner');
  const by = (n: string) => held.find((a) => a.spec.name === n)!;
  assert.equal(by('slab').movable, false);
  assert.equal(by('slab').movedPages, 0);
  assert.equal(by('thp').movedPages, 0, 'order-9 blocks are stepped over');
  for (const n of ['ring', 'slots', 'set']) assert.ok(by(n).movedPages > 0, `${n}: pages moved and followed`);
});
