/**
 * Labyrinth accounting against memory cgroup v2 semantics (mm/memcontrol.c try_charge_memcg, 6.1): charges,
 * limits, events, the files' text, reclaim of a labyrinth's own pages, and OOM kills that stay inside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { Labyrinths, calculateHighDelay, calculateOverage } from '../src/labyrinth/domain.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { readMemcgFile, writeMemcgFile, parseMemcgLimit } from '../src/labyrinth/memcg_files.ts';
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_ACCOUNT, GFP_NOWAIT, __GFP_ACCOUNT, __GFP_NOFAIL, __GFP_NORETRY,
  __GFP_RETRY_MAYFAIL, GFP_NOFS,
} from '../src/gfp/bits.ts';
import { BadInputError } from '../src/errors.ts';

function setup(limits: { max?: number; high?: number; min?: number; low?: number } = {}) {
  const alloc = smallMachine({ dmaPages: 4095 });
  const lines: string[] = [];
  const labs = new Labyrinths(alloc, { printk: (l) => lines.push(l) });
  const lab = labs.create('box', limits);
  return { alloc, labs, lab, lines };
}

function events(text: string): Record<string, number> {
  return Object.fromEntries(text.trim().split('\n').map((l) => { const [k, v] = l.split(' '); return [k!, Number(v)]; }));
}

test('gfp_account_charges_the_callers_labyrinth; unaccounted kernel memory is not charged', () => {
  const { lab, labs } = setup();
  const t = lab.spawn('worker');
  const p = t.allocPages(GFP_KERNEL_ACCOUNT, 2);
  assert.ok(p >= 0);
  assert.equal(lab.current, 4);
  assert.equal(readMemcgFile(lab, 'memory.current'), `${4 * 4096}\n`);
  assert.ok(t.allocPages(GFP_KERNEL, 0) >= 0);
  assert.equal(lab.current, 4);
  t.freePages(p, 2);
  assert.equal(lab.current, 0);
  assert.equal(readMemcgFile(lab, 'memory.peak'), `${4 * 4096}\n`);
  labs.verify();
});

test('memcg files print as the kernel prints them and parse as page_counter_memparse does', () => {
  const { lab } = setup();
  assert.equal(readMemcgFile(lab, 'memory.max'), 'max\n');
  assert.equal(readMemcgFile(lab, 'memory.high'), 'max\n');
  assert.equal(readMemcgFile(lab, 'memory.min'), '0\n');
  assert.equal(readMemcgFile(lab, 'memory.low'), '0\n');
  assert.equal(readMemcgFile(lab, 'memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n');
  writeMemcgFile(lab, 'memory.max', '1M');
  assert.equal(readMemcgFile(lab, 'memory.max'), '1048576\n');
  writeMemcgFile(lab, 'memory.high', '10000');      // rounded down to whole pages
  assert.equal(readMemcgFile(lab, 'memory.high'), '8192\n');
  writeMemcgFile(lab, 'memory.max', 'max');
  assert.equal(readMemcgFile(lab, 'memory.max'), 'max\n');
  assert.equal(parseMemcgLimit('0x1000'), 1);
  assert.equal(parseMemcgLimit('2g'), 2 * 262144);
  assert.throws(() => writeMemcgFile(lab, 'memory.max', 'lots'), BadInputError);
  assert.throws(() => writeMemcgFile(lab, 'memory.current', '0'), BadInputError);
  const stat = readMemcgFile(lab, 'memory.stat').trim().split('\n').map((l) => l.split(' ')[0]);
  assert.deepEqual(stat, ['anon', 'file', 'kernel', 'shmem', 'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'pgscan', 'pgsteal']);
});

test('at_max_reclaims_own_page_cache_first: the max event is raised and the charge succeeds', () => {
  const { lab, labs } = setup({ max: 40 });
  const t = lab.spawn('reader');
  const dropped: number[] = [];
  for (let i = 0; i < 40; i++) assert.ok(t.allocCache(GFP_KERNEL, (pfn) => dropped.push(pfn)) >= 0);
  assert.equal(lab.current, 40);
  const p = t.allocPages(GFP_KERNEL_ACCOUNT, 0);
  assert.ok(p >= 0);
  assert.ok(dropped.length >= 1, 'own page cache was reclaimed');
  assert.ok(lab.current <= 40);
  const ev = events(readMemcgFile(lab, 'memory.events'));
  assert.ok(ev['max']! >= 1);
  assert.equal(ev['oom'], 0);
  const stat = events(readMemcgFile(lab, 'memory.stat'));
  assert.equal(stat['pgsteal'], dropped.length);
  assert.equal(stat['file'], lab.cachePages * 4096);
  assert.equal(stat['kernel'], 4096);
  labs.verify();
});

test('oom_inside_a_labyrinth_never_kills_outside_it', () => {
  const { alloc, labs, lines } = setup();
  const box = labs.create('small', { max: 64 });
  const outside = labs.create('big');
  const ob = outside.spawn('outsider');
  for (let i = 0; i < 200; i++) assert.ok(ob.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  const hog = box.spawn('hog');
  const small = box.spawn('small');
  for (let i = 0; i < 60; i++) assert.ok(hog.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  for (let i = 0; i < 4; i++) assert.ok(small.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  const before = { outsideCurrent: outside.current, outsideTasks: outside.tasks.size };
  const p = small.allocPages(GFP_KERNEL_ACCOUNT, 0);
  assert.ok(p >= 0, 'the charge goes through after the OOM kill');
  assert.equal(hog.alive, false, 'the biggest task of the labyrinth was killed');
  assert.equal(small.alive, true);
  assert.equal(ob.alive, true);
  assert.equal(outside.current, before.outsideCurrent);
  assert.equal(outside.tasks.size, before.outsideTasks);
  const ev = events(readMemcgFile(box, 'memory.events'));
  assert.equal(ev['oom'], 1);
  assert.equal(ev['oom_kill'], 1);
  assert.ok(ev['max']! >= 1);
  assert.deepEqual(events(readMemcgFile(outside, 'memory.events')), { low: 0, high: 0, max: 0, oom: 0, oom_kill: 0, oom_group_kill: 0 });
  assert.equal(box.current, 5);
  assert.ok(lines.some((l) => l.startsWith('small invoked oom-killer: gfp_mask=0x400cc0(GFP_KERNEL_ACCOUNT), order=0, oom_score_adj=0')));
  assert.ok(lines.some((l) => l.includes('constraint=CONSTRAINT_MEMCG') && l.includes('oom_memcg=/small') && l.includes('task=hog')));
  assert.ok(lines.some((l) => l.startsWith(`Memory cgroup out of memory: Killed process ${hog.pid} (hog)`)));
  // failcnt counts every failed page_counter_try_charge: 1 + the drained retry + 16 reclaim retries
  assert.ok(lines.some((l) => l === 'memory: usage 256kB, limit 256kB, failcnt 18'));
  labs.verify();
  void alloc;
});

test('atomic_charges_overshoot_max (__GFP_HIGH) while GFP_NOWAIT fails without a max event', () => {
  const { lab, labs } = setup({ max: 8 });
  const t = lab.spawn('irq');
  for (let i = 0; i < 8; i++) assert.ok(t.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.equal(t.allocPages(GFP_NOWAIT | __GFP_ACCOUNT, 0), -1);
  assert.equal(lab.eventCounts().max, 0, 'a non-blocking charge that fails raises no max event');
  assert.ok(t.allocPages(GFP_ATOMIC | __GFP_ACCOUNT, 0) >= 0);
  assert.equal(lab.current, 9, 'atomic charges may exceed max');
  assert.equal(lab.eventCounts().max, 1, 'the forced charge raises max');
  assert.equal(lab.eventCounts().oom, 0);
  labs.verify();
});

test('noretry_and_retry_mayfail_fail_without_oom; nofail_is_forced; costly orders never oom', () => {
  const { lab, labs } = setup({ max: 16 });
  const t = lab.spawn('t');
  for (let i = 0; i < 16; i++) assert.ok(t.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.equal(t.allocPages(GFP_KERNEL_ACCOUNT | __GFP_NORETRY, 0), -1);
  assert.equal(t.allocPages(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL, 0), -1);
  assert.equal(t.allocPages(GFP_KERNEL_ACCOUNT, 4), -1, 'order 4 > PAGE_ALLOC_COSTLY_ORDER: no OOM kill');
  assert.equal(lab.eventCounts().oom, 0);
  assert.equal(t.alive, true);
  const p = t.allocPages(GFP_KERNEL_ACCOUNT | __GFP_NOFAIL, 0);
  // NOFAIL: the OOM killer runs (t is the only task and is killed), then the charge is refused to a dying task
  // or forced; either way nothing is lost and the task's memory is gone.
  assert.equal(lab.eventCounts().oom_kill, 1);
  assert.equal(t.alive, false);
  assert.equal(p, -1);
  assert.equal(lab.current, 0);
  labs.verify();
});

test('nofail_with_nothing_killable_forces_the_charge', () => {
  const { lab, labs } = setup({ max: 4 });
  const t = lab.spawn('init', { oomScoreAdj: -1000 });
  for (let i = 0; i < 4; i++) assert.ok(t.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.equal(t.allocPages(GFP_KERNEL_ACCOUNT, 0), -1, 'no killable task: -ENOMEM');
  assert.ok(t.allocPages(GFP_KERNEL_ACCOUNT | __GFP_NOFAIL, 0) >= 0);
  assert.equal(lab.current, 5);
  assert.equal(lab.eventCounts().oom_kill, 0);
  assert.ok(lab.eventCounts().oom >= 2);
  assert.ok(labs.oomReports.some((r) => r.lines.includes('Out of memory and no killable processes...')));
  labs.verify();
});

test('memcg_oom_kills_even_for_gfp_nofs (unlike the global OOM killer)', () => {
  const { lab, labs } = setup({ max: 8 });
  const a = lab.spawn('a');
  const b = lab.spawn('b');
  for (let i = 0; i < 7; i++) a.allocPages(GFP_KERNEL_ACCOUNT, 0);
  b.allocPages(GFP_KERNEL_ACCOUNT, 0);
  assert.ok(b.allocPages(GFP_NOFS | __GFP_ACCOUNT, 0) >= 0);
  assert.equal(a.alive, false);
  labs.verify();
});

test('oom_group_kills_every_task', () => {
  const { lab, labs } = setup({ max: 8 });
  writeMemcgFile(lab, 'memory.oom.group', '1');
  const a = lab.spawn('a');
  const b = lab.spawn('b');
  for (let i = 0; i < 4; i++) { a.allocPages(GFP_KERNEL_ACCOUNT, 0); b.allocPages(GFP_KERNEL_ACCOUNT, 0); }
  const c = lab.spawn('c', { oomScoreAdj: -1000 });
  assert.ok(c.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.equal(a.alive || b.alive, false);
  assert.equal(c.alive, true, 'OOM_SCORE_ADJ_MIN tasks are spared');
  // try_charge_memcg raises max on every pass of its retry loop: the first, the drained retry, 16 reclaim retries
  assert.deepEqual(events(readMemcgFile(lab, 'memory.events')), { low: 0, high: 0, max: 18, oom: 1, oom_kill: 2, oom_group_kill: 2 });
  labs.verify();
});

test('above_high_the_task_reclaims_its_own_pages_and_is_throttled_when_it_cannot', () => {
  const { lab, labs } = setup({ high: 32 });
  const t = lab.spawn('streamer');
  for (let i = 0; i < 32; i++) t.allocCache(GFP_KERNEL);
  assert.ok(t.allocPages(GFP_KERNEL_ACCOUNT, 0) >= 0);
  assert.ok(lab.eventCounts().high >= 1);
  assert.ok(lab.current <= 32, 'reclaim brought usage back to high');
  assert.equal(t.throttledJiffies, 0);
  // kernel pages are not reclaimable: far above high the task is throttled
  const u = lab.spawn('leaker');
  for (let i = 0; i < 200; i++) u.allocPages(GFP_KERNEL_ACCOUNT, 0);
  assert.ok(lab.current > 200);
  assert.ok(u.throttledJiffies > 0, 'throttled above high');
  assert.ok(u.throttledJiffies <= 200 * 2 * 250);
  assert.equal(lab.eventCounts().max, 0);
  assert.equal(lab.eventCounts().oom, 0);
  labs.verify();
});

test('high_delay_formula matches calculate_overage / calculate_high_delay', () => {
  assert.equal(calculateOverage(100, 100), 0n);
  assert.equal(calculateOverage(150, 100), (50n << 20n) / 100n);
  // usage twice high: overage 2^20; penalty = 2^40 * 250 >> 34 = 16000 jiffies per 64 pages, clamped to 2 s
  assert.equal(calculateHighDelay(64, 1n << 20n), 500);
  assert.equal(calculateHighDelay(1, 1n << 17n), Number(((1n << 34n) * 250n >> 34n) * 1n / 64n));
  assert.equal(calculateHighDelay(64, 0n), 0);
});

test('interrupt_context_charges_schedule_high_work', () => {
  const { lab, labs } = setup({ high: 4 });
  const t = lab.spawn('napi');
  for (let i = 0; i < 8; i++) t.allocCache(GFP_KERNEL);
  assert.ok(t.allocPages(GFP_ATOMIC | __GFP_ACCOUNT, 0, { inTask: false }) >= 0);
  assert.equal(lab.eventCounts().high, 1, 'the earlier task-context charges already ran reclaim_high once');
  const before = lab.eventCounts().high;
  for (let i = 0; i < 8; i++) t.allocPages(GFP_ATOMIC | __GFP_ACCOUNT, 0, { inTask: false });
  assert.equal(lab.eventCounts().high, before, 'nothing runs in interrupt context');
  labs.runPendingWork();
  assert.equal(lab.eventCounts().high, before + 1);
  labs.verify();
});

test('memory_max_write_reclaims_then_kills_inside', () => {
  const { lab, labs } = setup();
  const t = lab.spawn('cache');
  const u = lab.spawn('kernel');
  for (let i = 0; i < 50; i++) t.allocCache(GFP_KERNEL);
  for (let i = 0; i < 30; i++) u.allocPages(GFP_KERNEL_ACCOUNT, 0);
  writeMemcgFile(lab, 'memory.max', `${40 * 4096}`);
  assert.ok(lab.current <= 40);
  assert.equal(lab.eventCounts().oom, 0, 'reclaim of page cache was enough');
  writeMemcgFile(lab, 'memory.max', `${10 * 4096}`);
  assert.equal(u.alive, false);
  assert.equal(lab.eventCounts().oom_kill, 1);
  assert.ok(lab.current <= 10);
  labs.verify();
});

test('protection: global reclaim never takes memory below min, and breaches low only on a second pass', () => {
  const { labs } = setup();
  const prot = labs.create('protected', { min: 30 });
  const soft = labs.create('soft', { low: 30 });
  const open = labs.create('open');
  const tp = prot.spawn('p');
  const ts = soft.spawn('s');
  const to = open.spawn('o');
  for (let i = 0; i < 20; i++) { tp.allocCache(GFP_KERNEL); ts.allocCache(GFP_KERNEL); to.allocCache(GFP_KERNEL); }
  assert.equal(labs.reclaimGlobal(10), 10, 'only the unprotected labyrinth gives, exactly what was asked');
  assert.equal(open.current, 10);
  // the shrinker sees what lies above protection: open's 10 and soft's 20 (prot is below min)
  assert.equal(labs.shrinker().count({ gfp: GFP_KERNEL }), 30);
  const ctl = { gfp: GFP_KERNEL, nrToScan: 100, pagesFreed: 0 };
  assert.equal(labs.shrinker().scan(ctl), 10, 'the first pass frees what is unprotected and stops');
  assert.equal(soft.current, 20);
  assert.equal(soft.eventCounts().low, 0);
  assert.equal(labs.shrinker().scan(ctl), 20, 'nothing unprotected left: the second pass breaches low');
  assert.equal(ctl.pagesFreed, 30);
  assert.equal(prot.current, 20, 'below min: untouched');
  assert.equal(soft.current, 0);
  assert.equal(soft.eventCounts().low, 1);
  assert.equal(prot.eventCounts().low, 0);
  labs.verify();
});

test('exclusive pages are charged; transfer moves the charge; a receiver at max refuses', () => {
  const { labs } = setup();
  const a = labs.create('a');
  const b = labs.create('b', { max: 1 });
  const ta = a.spawn('ta');
  const tb = b.spawn('tb');
  const k = ta.allocExclusive(GFP_KERNEL, 1);
  assert.ok(k instanceof ExclusiveKey);
  assert.equal(a.current, 2);
  assert.equal(events(readMemcgFile(a, 'memory.stat'))['unevictable'], 2 * 4096);
  assert.throws(() => ta.transfer(k, tb), /memory.max/);
  assert.equal(a.current, 2);
  writeMemcgFile(b, 'memory.max', 'max');
  const kb = ta.transfer(k, tb);
  assert.equal(a.current, 0);
  assert.equal(b.current, 2);
  tb.freeExclusive(kb);
  assert.equal(b.current, 0);
  labs.verify();
});
