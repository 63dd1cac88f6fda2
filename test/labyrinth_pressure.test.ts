/**
 * Labyrinths inside the pressure layer (src/alloc/slowpath.ts over the core through CorePort): global reclaim
 * reaches labyrinth page cache through the shrinker but never below `min`; the global OOM killer picks a
 * labyrinth task by badness, counts oom_kill in its labyrinth and wipes its exclusive pages.
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
import { GFP_KERNEL, GFP_KERNEL_ACCOUNT } from '../src/gfp/bits.ts';
import { PAGE_SIZE } from '../src/mm/constants.ts';

test('global_reclaim_and_global_oom_reach_labyrinths_by_the_kernel_rules', () => {
  const core = smallMachine({ dmaPages: 4095 });
  const p = new Pressure(new CorePort(core), new Clock());
  const bytes = new ArrayBufferPageBytes(core.mm.nrPfn);
  const labs = new Labyrinths(core, { bytes, registerUser: (u) => p.registerUser(u) });
  p.reclaim.shrinkers.register(labs.shrinker());
  const safe = labs.create('safe', { min: 100 });
  const open = labs.create('open');
  const ts = safe.spawn('s');
  const to = open.spawn('o');
  for (let i = 0; i < 80; i++) { ts.allocCache(GFP_KERNEL); to.allocCache(GFP_KERNEL); }
  // direct reclaim of the whole node: the shrinker gives the unprotected cache, never the protected one
  p.reclaim.tryToFreePages(GFP_KERNEL, 0, 3, () => false);
  assert.equal(safe.current, 80, 'below min: untouched by global reclaim');
  assert.ok(open.current < 80, 'global reclaim took unprotected labyrinth cache');
  // the global OOM killer: the biggest labyrinth task is chosen
  const big = open.spawn('big');
  for (let i = 0; i < 300; i++) big.allocPages(GFP_KERNEL_ACCOUNT, 0);
  const k = big.allocExclusive(GFP_KERNEL, 0);
  assert.ok(k instanceof ExclusiveKey);
  big.write(k, 0, new Uint8Array([7, 7, 7]));
  const pfn = big.info(k).pfn;
  assert.equal(p.oom.candidates.length, 3);
  const r = p.oom.outOfMemory({ gfp: GFP_KERNEL, order: 0, gfpNames: 'GFP_KERNEL', comm: 'stress', pid: 1, oomScoreAdj: 0 });
  assert.equal(r.victim?.comm, 'big');
  assert.equal(big.alive, false);
  assert.equal(open.eventCounts().oom_kill, 1);
  assert.equal(open.eventCounts().oom, 0, 'a global OOM is not a memcg OOM');
  assert.equal(safe.eventCounts().oom_kill, 0);
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE, 3), new Uint8Array(3), 'wiped');
  assert.equal(p.oom.candidates.length, 2, 'exited tasks leave the registry');
  to.exit();
  assert.equal(p.oom.candidates.length, 1);
  labs.verify();
});
