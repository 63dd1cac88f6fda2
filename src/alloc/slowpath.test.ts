/**
 * Scenario tests of the 6.1 slow-path contract, each named after the rule it checks. Machines are small naive-buddy
 * oracles (test/_pressure_rig.ts) so that every rule is checked on exact numbers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_HIGHUSER_MOVABLE, __GFP_NORETRY, __GFP_NOFAIL, __GFP_RETRY_MAYFAIL,
  __GFP_NOWARN, __GFP_COMP,
} from '../gfp/bits.ts';
import { processContext, softirqContext, hardirqContext, SleepInAtomicError } from './context.ts';
import { rig, Task, fillTo, accounted, RIG_KINDS, type Rig, type RigKind } from '../../test/_pressure_rig.ts';
import { LF_DIRTY } from '../reclaim/lru.ts';

/** Run the clock until `p` settles (the request's Promise resolves in virtual time). */
async function settle<T>(r: Rig, p: Promise<T> | T, limitNs = 60e9): Promise<T> {
  if (!(p instanceof Promise)) return p;
  let done = false;
  let value!: T;
  p.then((v) => { done = true; value = v; });
  while (!done) {
    await Promise.resolve();
    if (done) break;
    if (r.clock.pending === 0) { await new Promise((res) => setImmediate(res)); if (done) break; assert.fail('request never completed and nothing is scheduled'); }
    if (r.clock.now > limitNs) assert.fail('request did not complete in the time limit');
    r.clock.step();
    await Promise.resolve();
  }
  return value;
}

const task = processContext(100, 'worker');

/** Every zone just below its low watermark (counting its per-CPU pages), the rest page cache. */
function belowLowEverywhere(r: Rig, cache: Task): void {
  const taken: number[] = [];
  fillTo(r, 0, (pfn) => taken.push(pfn));
  for (const pfn of taken) {
    const z = r.port.zones.find((x) => pfn >= x.startPfn && pfn < x.endPfn)!;
    if (z.freePages + z.freePcp < z.wmarkLow - 10) r.port.freePages(pfn, 0);
    else cache.own(pfn, 'file');
  }
}

for (const kind of RIG_KINDS) test(`gfp_kernel_reclaims_while_gfp_atomic_order3_fails_without_advancing_clock [${kind}]`, async () => {
  const r = rig({}, kind);
  const cache = new Task(r, 50, 'cat');
  // page cache fills memory down to the min watermark; free pages left scattered (every other one kept)
  const taken: number[] = [];
  fillTo(r, 0, (pfn) => taken.push(pfn));
  const minTotal = r.port.zones.reduce((n, z) => n + z.wmarkMin, 0);
  for (let i = 0; i < taken.length; i++) {
    if (i % 2 === 0 && r.port.totalFree < minTotal - 12) r.port.freePages(taken[i]!, 0);
    else cache.own(taken[i]!, 'file');
  }
  const held: number[] = [];
  let atomicFail = 0, atomicOk = 0, kernelOk = 0;
  for (let round = 0; round < 40; round++) {
    // a softirq burst: GFP_ATOMIC order-3, synchronous, the clock does not move
    const before = r.clock.now;
    for (let i = 0; i < 4; i++) {
      const pfn = r.p.allocPages(GFP_ATOMIC | __GFP_COMP | __GFP_NOWARN, 3, softirqContext(task));
      assert.equal(typeof pfn, 'number');
      if ((pfn as number) < 0) atomicFail++; else { atomicOk++; r.port.freePages(pfn as number, 3); }
    }
    assert.equal(r.clock.now, before, 'an atomic request never advances the clock');
    // a process: GFP_KERNEL order-0, may sleep, always gets its page
    const pfn = await settle(r, r.p.allocPages(GFP_KERNEL, 0, task));
    assert.ok(pfn >= 0);
    kernelOk++;
    held.push(pfn);
  }
  assert.equal(kernelOk, 40);
  assert.ok(atomicFail > 0, `atomic order-3 failures: ${atomicFail}`);
  const c = r.p.counters();
  assert.ok(c['pgscan_kswapd']! + c['pgscan_direct']! > 0);
  assert.ok(c['pgsteal_kswapd']! + c['pgsteal_direct']! > 0);
  assert.ok(r.p.kswapd[0]!.wakeups > 0, 'kswapd was woken');
  assert.ok(r.clock.now > 0, 'sleeping requests took virtual time');
  void atomicOk; void (kind as RigKind);
  r.port.verify();
  r.p.reclaim.lru.verify();
});

for (const kind of RIG_KINDS) test(`gfp_noio_cannot_write_back_dirty_pages [${kind}]`, () => {
  const r = rig({}, kind);
  const fsCache = new Task(r, 51, 'writer');
  const bdevCache = new Task(r, 52, 'dd');
  const taken: number[] = [];
  fillTo(r, 200, (pfn) => taken.push(pfn));
  taken.forEach((pfn, i) => (i % 2 ? fsCache.own(pfn, 'file-fs', true) : bdevCache.own(pfn, 'file', true)));
  const lru = r.p.reclaim.lru;
  const dirty = (): number => taken.filter((pfn) => lru.isOnLru(pfn) && (lru.flagsOf(pfn) & LF_DIRTY)).length;
  const d0 = dirty();
  // GFP_NOIO: may not start any I/O
  let sc = r.p.reclaim.tryToFreePages(GFP_NOIO, 0, 2, () => false);
  assert.equal(r.p.counters()['nr_vmscan_write'], 0);
  assert.equal(sc.nrReclaimed, 0);
  assert.equal(dirty(), d0);
  assert.ok(sc.nrScanned > 0);
  // GFP_NOFS: may write block-device pages (__GFP_IO) but not filesystem pages (__GFP_FS)
  sc = r.p.reclaim.tryToFreePages(GFP_NOFS, 0, 2, () => false);
  const written = r.p.counters()['nr_vmscan_write']!;
  assert.ok(written > 0);
  const fsWriteback = [...fsCache.handles].filter((h) => (lru.flagsOf(lru.pfnOf(h)) & LF_DIRTY) === 0).length;
  assert.equal(fsWriteback, 0, 'GFP_NOFS wrote no filesystem page');
  // GFP_KERNEL writes filesystem pages too; after the I/O latency they are clean and reclaimable
  r.p.reclaim.tryToFreePages(GFP_KERNEL, 0, 2, () => false);
  assert.ok(r.p.counters()['nr_vmscan_write']! > written);
  r.clock.runUntil(r.clock.now + r.p.reclaim.opts.ioLatencyNs);
  assert.equal(r.p.reclaim.nrWriteback, 0);
  const freeBefore = r.port.totalFree;
  sc = r.p.reclaim.tryToFreePages(GFP_NOIO, 0, 2, () => false);
  assert.ok(sc.nrReclaimed > 0, 'clean pages are dropped even by GFP_NOIO');
  assert.ok(r.port.totalFree > freeBefore);
  lru.verify();
});

for (const kind of RIG_KINDS) test(`gfp_nofs_skips_fs_shrinkers [${kind}]`, () => {
  const r = rig({}, kind);
  fillTo(r, 100, () => {});
  const calls = { fs: 0, other: 0, gfpSeen: [] as number[] };
  r.p.reclaim.shrinkers.register({
    name: 'sb-dentry', fs: true,
    count: () => 1000, scan: (ctl) => { calls.fs++; calls.gfpSeen.push(ctl.gfp); return ctl.nrToScan; },
  });
  r.p.reclaim.shrinkers.register({
    name: 'net-cache', count: () => 1000, scan: (ctl) => { calls.other++; calls.gfpSeen.push(ctl.gfp); return ctl.nrToScan; },
  });
  r.p.reclaim.tryToFreePages(GFP_NOFS, 0, 2, () => false);
  assert.equal(calls.fs, 0);
  assert.ok(calls.other > 0);
  assert.ok(calls.gfpSeen.every((g) => g === GFP_NOFS), 'shrinkers are told the gfp');
  assert.ok(r.p.counters()['slabs_scanned']! > 0);
  r.p.reclaim.tryToFreePages(GFP_KERNEL, 0, 2, () => false);
  assert.ok(calls.fs > 0);
});

/** Memory full of anonymous pages with no swap: nothing is reclaimable. */
function anonFull(r: Rig, users: Task[]): void {
  let i = 0;
  fillTo(r, 100, (pfn) => { users[i++ % users.length]!.own(pfn, 'anon'); });
}

for (const kind of RIG_KINDS) test(`gfp_noretry_fails_without_oom [${kind}]`, async () => {
  const r = rig({}, kind);
  const hog = new Task(r, 200, 'hog');
  r.p.registerUser(hog);
  anonFull(r, [hog]);
  const pfn = await settle(r, r.p.allocPages(GFP_KERNEL | __GFP_NORETRY, 0, task));
  assert.equal(pfn, -1);
  assert.equal(r.p.counters()['oom_kill'], 0);
  assert.equal(hog.killed, false);
  assert.equal(r.p.failures.length, 1);
  assert.match(r.p.failures[0]!.report[0]!, /^worker: page allocation failure: order:0, mode:0x10cc0\(GFP_KERNEL\|__GFP_NORETRY\), nodemask=\(null\),cpuset=\/,mems_allowed=0$/);
  assert.ok(r.p.failures[0]!.report.includes('Mem-Info:'));
  // the same request without __GFP_NORETRY is "too small to fail": the OOM killer frees the hog
  const pfn2 = await settle(r, r.p.allocPages(GFP_KERNEL, 0, task));
  assert.ok(pfn2 >= 0);
  assert.equal(r.p.counters()['oom_kill'], 1);
  assert.equal(hog.killed, true);
  assert.ok(r.p.dmesg.some((l) => /^worker invoked oom-killer: gfp_mask=0xcc0\(GFP_KERNEL\), order=0, oom_score_adj=0$/.test(l)));
  assert.ok(r.p.dmesg.some((l) => /^Out of memory: Killed process 200 \(hog\) total-vm:\d+kB, anon-rss:\d+kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:0kB oom_score_adj:0$/.test(l)));
});

for (const kind of RIG_KINDS) test(`costly_order_and_retry_mayfail_fail_without_oom [${kind}]`, async () => {
  const r = rig({}, kind);
  const hog = new Task(r, 201, 'hog');
  r.p.registerUser(hog);
  anonFull(r, [hog]);
  assert.equal(await settle(r, r.p.allocPages(GFP_KERNEL | __GFP_COMP, 4, task)), -1);
  assert.equal(await settle(r, r.p.allocPages(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 0, task)), -1);
  assert.equal(r.p.counters()['oom_kill'], 0);
  assert.equal(hog.killed, false);
  // warn_alloc's ratelimit: one report per 10 s of virtual time, so the second failure was suppressed
  assert.equal(r.p.failures.length, 2);
  assert.equal(r.p.failures[1]!.suppressed, 'ratelimit');
});

for (const kind of RIG_KINDS) test(`gfp_nofs_never_oom_kills_but_retries [${kind}]`, async () => {
  const r = rig({ nofailBackoffNs: 4_000_000 }, kind);
  const hog = new Task(r, 202, 'hog');
  r.p.registerUser(hog);
  anonFull(r, [hog]);
  // GFP_NOFS order-0 loops without killing; it completes when memory is freed later
  let done = -2;
  (r.p.allocPages(GFP_NOFS, 0, task) as Promise<number>).then((v) => { done = v; });
  r.clock.runUntil(50_000_000);
  await new Promise((res) => setImmediate(res));
  assert.equal(r.p.counters()['oom_kill'], 0);
  assert.equal(hog.killed, false);
  void done;
});

for (const kind of RIG_KINDS) test(`gfp_nofail_never_fails [${kind}]`, async () => {
  const r = rig({}, kind);
  const init = new Task(r, 1, 'init', -1000); // unkillable
  r.p.registerUser(init);
  anonFull(r, [init]);
  const got: number[] = [];
  for (const gfp of [GFP_KERNEL | __GFP_NOFAIL, GFP_NOFS | __GFP_NOFAIL, GFP_NOIO | __GFP_NOFAIL]) {
    for (let i = 0; i < 20; i++) {
      const pfn = await settle(r, r.p.allocPages(gfp, 0, task));
      assert.ok(pfn >= 0, `0x${gfp.toString(16)} failed`);
      got.push(pfn);
    }
  }
  assert.equal(new Set(got).size, got.length);
  assert.equal(init.killed, false);
  assert.equal(r.p.failures.length, 0);
  assert.ok(r.p.dmesg.includes('Out of memory and no killable processes...'));
  r.port.verify();
});

for (const kind of RIG_KINDS) test(`sleeping_request_in_atomic_context_is_refused_and_changes_nothing [${kind}]`, () => {
  const r = rig({}, kind);
  const cache = new Task(r, 60, 'cat');
  fillTo(r, 200, (pfn) => cache.own(pfn, 'file'));
  const snap = (): string => JSON.stringify({
    now: r.clock.now, pending: r.clock.pending, free: r.port.totalFree, counters: r.p.counters(),
    lru: [0, 1, 2, 3, 4].map((l) => r.p.reclaim.lru.lruSize(0, l)), state: r.port.stateBytes(),
    kswapd: r.p.kswapd[0]!.state, dmesg: r.p.dmesg.length, failures: r.p.failures.length,
  });
  const before = snap();
  const t = processContext(300, 'irqthread');
  for (const ctx of [softirqContext(t), hardirqContext(t), t.spinLock(), t.spinLockIrqsave(), t.rcuReadLock()]) {
    for (const gfp of [GFP_KERNEL, GFP_NOIO, GFP_NOFS, GFP_HIGHUSER_MOVABLE, GFP_KERNEL | __GFP_NOFAIL]) {
      assert.throws(() => r.p.allocPages(gfp, 0, ctx), SleepInAtomicError);
      assert.throws(() => r.p.allocSleeping(gfp, 0, ctx, () => assert.fail('must not run')), SleepInAtomicError);
    }
  }
  assert.equal(snap(), before);
});

for (const kind of RIG_KINDS) test(`kswapd_reclaims_to_high_then_sleeps_and_counts_hit_quickly [${kind}]`, () => {
  const r = rig({}, kind);
  const cache = new Task(r, 61, 'cat');
  belowLowEverywhere(r, cache);
  assert.equal(r.p.kswapd[0]!.balanced(0, 2), false);
  // an atomic request below low wakes kswapd (fast path fails at low)
  r.p.allocPages(GFP_ATOMIC, 0, softirqContext(task));
  assert.equal(r.p.kswapd[0]!.state, 'running');
  r.clock.runUntil(r.clock.now + 50_000_000);
  assert.ok(r.p.kswapd[0]!.balanced(0, 2), 'kswapd reclaimed until a zone is above high');
  assert.equal(r.p.kswapd[0]!.state, 'napping');
  const c = r.p.counters();
  assert.equal(c['pageoutrun'], 1);
  assert.ok(c['pgscan_kswapd']! > 0 && c['pgsteal_kswapd'] === c['pgscan_kswapd']);
  // use memory again within the nap: the wake counts kswapd_low_wmark_hit_quickly
  belowLowEverywhere(r, cache);
  r.p.allocPages(GFP_ATOMIC, 0, softirqContext(task));
  assert.equal(r.p.counters()['kswapd_low_wmark_hit_quickly'], 1);
  r.clock.runUntil(r.clock.now + 1e9);
  assert.equal(r.p.kswapd[0]!.state, 'asleep');
  assert.equal(r.p.counters()['pageoutrun'], 2);
  r.p.reclaim.lru.verify();
});

for (const kind of RIG_KINDS) test(`should_reclaim_retry_gives_up_after_max_reclaim_retries_without_progress [${kind}]`, async () => {
  const r = rig({}, kind);
  const hog = new Task(r, 203, 'hog');
  anonFull(r, [hog]);
  // nothing reclaimable, nothing killable, __GFP_RETRY_MAYFAIL: fails after the retry budget
  const pfn = await settle(r, r.p.allocPages(GFP_KERNEL | __GFP_RETRY_MAYFAIL, 0, task));
  assert.equal(pfn, -1);
  // each round counts one allocstall; no reclaimable pages means should_reclaim_retry fails its watermark test at once
  assert.ok(r.p.counters()['allocstall_normal']! >= 1);
  assert.equal(accounted(r, [hog], 0), r.managed);
});

test('kmem_mm_page_alloc_fires_once_per_request_on_the_slow_path_too [core]', async () => {
  const r = rig({}, 'core');
  const events: Array<[number, number, number]> = [];
  const noop = (): void => {};
  (r.port as unknown as { pa: { mm: { tracer: unknown } } }).pa.mm.tracer = {
    pageAlloc: (pfn: number, order: number, gfp: number) => { events.push([pfn, order, gfp]); },
    pageFree: noop, pageFreeBatched: noop, pageAllocZoneLocked: noop, pagePcpuDrain: noop, pageAllocExtfrag: noop,
  };
  const cache = new Task(r, 50, 'cat');
  belowLowEverywhere(r, cache);
  // below low: the fast path fails and the request runs the slow path (kswapd, then min watermark / reclaim)
  const pfn = await settle(r, r.p.allocPages(GFP_KERNEL, 0, task));
  assert.ok(pfn >= 0);
  assert.deepEqual(events, [[pfn, 0, GFP_KERNEL]], 'one mm_page_alloc, at the end, with the page it returned');
  // a non-sleeping request that fails fires it with no page, as __alloc_pages does
  events.length = 0;
  const held: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const p = r.p.allocAtomic(GFP_ATOMIC | __GFP_NOWARN, 0, softirqContext(task));
    if (p < 0) break;
    held.push(p);
  }
  assert.equal(events.length, held.length + 1);
  assert.deepEqual(events[events.length - 1], [-1, 0, GFP_ATOMIC | __GFP_NOWARN]);
});
