/**
 * Real memory shared by worker_threads: N workers × random operations on one allocator (every
 * order, atomic and sleeping gfp, compound and zeroed pages, page poisoning on), then the core's
 * verify(): no page lost, none owned twice, every live allocation intact. And the zone lock's
 * contract: a context that may sleep sleeps on a held lock, an atomic one only spins.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTsWorker, tsWorker } from './_ts_worker.ts';
import { ExclusiveAccessError } from '../src/memory/errors.ts';
import { PG_exclusive } from '../src/mm/page_flags.ts';
import { createAllocator, type MemoryAllocator } from '../src/memory/memory_allocator.ts';
import { ZoneLock } from '../src/memory/zone_lock.ts';
import type { PageCorruption } from '../src/memory/page_poison.ts';

function freePages(mm: MemoryAllocator): number {
  let n = 0;
  for (let z = 0; z < mm.mm.nrZones; z++) n += mm.kernel.nrFreePages(z);
  return n;
}

function run(file: string, workerData: unknown): Promise<unknown> {
  return runTsWorker(new URL(file, import.meta.url), workerData);
}

interface Report {
  exclAllocs: number;
  id: number; cpu: number; allocs: number; fails: number; frees: number; zeroChecks: number;
  errors: string[]; live: Array<[number, number, number]>; lock: { contended: number; sleeps: number };
}

test('workers_share_one_allocator_no_page_lost_none_owned_twice', async () => {
  const NW = 3;
  const corruptions: PageCorruption[] = [];
  const mm = createAllocator({ memory: '128M', shared: true, cpus: NW + 1, pagePoisoning: true, onCorruption: (c) => corruptions.push(c) });
  const before = freePages(mm);
  const start = new Int32Array(new SharedArrayBuffer(8));
  const release = new Int32Array(new SharedArrayBuffer(4));
  const handle = mm.handle();
  const held: Array<{ exclusive: number[]; labyrinth: number }> = [];
  const jobs = Array.from({ length: NW }, (_, id) => new Promise<Report>((resolve, reject) => {
    const w = tsWorker(new URL('./_memory_stress_worker.ts', import.meta.url), { handle, id: id + 1, seed: 0x9e3779b9 ^ (id * 7919), ops: 12000, keep: 40, maxLive: 200, start, release });
    let last: Report | null = null;
    w.on('message', (m: { phase?: string } & Report & { exclusive: number[]; labyrinth: number }) => { if (m.phase === 'held') held.push(m); else last = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && last !== null ? resolve(last) : reject(new Error(`worker exited with ${code}`))));
  }));
  let failed: unknown = null;
  for (const j of jobs) j.catch((e) => { failed = e; });
  while (Atomics.load(start, 0) < NW && failed === null) await new Promise((r) => setTimeout(r, 5));
  if (failed !== null) throw failed;
  Atomics.store(start, 1, 1);
  Atomics.notify(start, 1);
  while (held.length < NW && failed === null) await new Promise((r) => setTimeout(r, 5));
  if (failed !== null) throw failed;
  // Every exclusive block still held is isolated: exclusive, owned by its worker's labyrinth, closed to us.
  mm.verify();
  let exclusiveBlocks = 0;
  for (const h of held) {
    for (const addr of h.exclusive) {
      const pfn = mm.virt_to_page(addr);
      assert.ok((mm.mm.flags[pfn]! & PG_exclusive) !== 0);
      assert.equal(mm.kernel.pageOwner(pfn), h.labyrinth);
      assert.throws(() => mm.bytes(addr, 1), ExclusiveAccessError);
      exclusiveBlocks++;
    }
  }
  assert.ok(exclusiveBlocks > 0, 'exclusive blocks were held');
  Atomics.store(release, 0, 1);
  Atomics.notify(release, 0);
  const reports = await Promise.all(jobs);
  for (const r of reports) assert.deepEqual(r.errors, [], `worker ${r.id}`);
  if (process.env.LABYRINTH_DEBUG) console.log(reports.map((r) => ({ ...r, live: r.live.length })));
  assert.equal(new Set(reports.map((r) => r.cpu)).size, NW, 'each worker has its own CPU slot');
  assert.ok(reports.every((r) => r.allocs > 3000 && r.fails < r.allocs / 10), 'every worker allocated');
  assert.ok(reports.some((r) => r.zeroChecks > 0));
  assert.ok(reports.every((r) => r.exclAllocs > 0), 'every worker used exclusive pages');
  mm.verify();
  // None owned twice: the live allocations of all workers are disjoint and still allocated.
  const live = reports.flatMap((r) => r.live.map(([addr, order, v]) => ({ addr, bytes: 4096 << order, order, v })));
  for (const h of held) for (const addr of h.exclusive) assert.ok(!live.some((a) => addr >= a.addr && addr < a.addr + a.bytes), 'an exclusive block aliased a plain one');
  live.sort((a, b) => a.addr - b.addr);
  for (let i = 1; i < live.length; i++) assert.ok(live[i - 1]!.addr + live[i - 1]!.bytes <= live[i]!.addr, 'allocations overlap');
  for (const a of live) {
    assert.equal(mm.allocationBytes(a.addr), a.bytes);
    const dv = mm.dataView(a.addr);
    assert.equal(dv.getFloat64(0), a.v);
    assert.equal(dv.getFloat64(a.bytes - 8), a.v);
  }
  // No page lost: free what is live from the main thread, drain, and every page is back.
  for (const a of live) mm.freePages(a.addr, a.order);
  mm.drainLocalPages();
  mm.verify();
  assert.equal(freePages(mm), before);
  assert.ok(mm.mm.flags.every((f) => (f & PG_exclusive) === 0), 'every exclusive block was wiped and freed');
  assert.deepEqual(corruptions.map((c) => c.lines[0]), [], 'no use after free between workers');
});

test('zone_lock_sleeping_context_waits_on_a_held_lock', async () => {
  const words = new Int32Array(new SharedArrayBuffer(4));
  const sig = new Int32Array(new SharedArrayBuffer(16));
  const done = run('./_zone_lock_worker.ts', { words, sig, mode: 'sleeper' });
  while (Atomics.load(sig, 0) === 0) Atomics.wait(sig, 0, 0, 10);
  const lock = new ZoneLock(words);
  lock.maySleep = true;
  lock.lock(0);
  assert.equal(lock.contended, 1);
  assert.ok(lock.sleeps >= 1, 'the sleeping context slept in Atomics.wait');
  lock.unlock(0);
  assert.equal(Atomics.load(words, 0), 0);
  await done;
});

test('zone_lock_atomic_context_only_spins', async () => {
  const words = new Int32Array(new SharedArrayBuffer(4));
  const sig = new Int32Array(new SharedArrayBuffer(16));
  const done = run('./_zone_lock_worker.ts', { words, sig, mode: 'spinner' });
  while (Atomics.load(sig, 0) === 0) Atomics.wait(sig, 0, 0, 10);
  const lock = new ZoneLock(words);
  lock.maySleep = false;
  Atomics.store(sig, 1, 1);
  lock.lock(0);
  assert.equal(lock.sleeps, 0);
  assert.equal(Atomics.load(sig, 3), 1, 'an atomic context never marks the lock word for sleepers');
  lock.unlock(0);
  await done;
});
