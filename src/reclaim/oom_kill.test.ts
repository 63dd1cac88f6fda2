import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OomKiller, type MemoryUser } from './oom_kill.ts';
import { PressureEvents } from './vm_events.ts';
import { GFP_KERNEL, GFP_NOFS } from '../gfp/bits.ts';

function user(pid: number, comm: string, rss: number, adj = 0, extra: Partial<MemoryUser> = {}): MemoryUser & { dead: boolean } {
  const u = { pid, comm, oomScoreAdj: adj, dead: false, rssPages: () => rss, kill() { u.dead = true; }, ...extra };
  return u;
}

test('oom_report_lines_match_real_kernel_lines', () => {
  // numbers of a real report (LTP memcg_process, quoted on linux-mm): its dump_tasks row and its kill line
  const ev = new PressureEvents();
  const oom = new OomKiller(ev, () => 100_000);
  const victim = user(19289, 'memcg_process', 389, 0, {
    totalVmPages: () => 669, pgtablesBytes: () => 40960, swapEntries: () => 0,
    rssSplit: () => ({ anon: 21, file: 367, shmem: 1 }),
  });
  oom.register(victim);
  assert.deepEqual(oom.dumpTasks(), [
    'Tasks state (memory values in pages):',
    '[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name',
    '[  19289]     0 19289      669      389    40960        0             0 memcg_process',
  ]);
  const r = oom.outOfMemory({ gfp: GFP_KERNEL, order: 0, gfpNames: 'GFP_KERNEL', comm: 'memcg_process', pid: 19289, oomScoreAdj: 0 });
  assert.equal(r.header[0], 'memcg_process invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0');
  assert.equal(r.kill[1], 'Out of memory: Killed process 19289 (memcg_process) total-vm:2676kB, anon-rss:84kB, file-rss:1468kB, shmem-rss:4kB, UID:0 pgtables:40kB oom_score_adj:0');
  assert.equal(r.kill[0], 'oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=memcg_process,pid=19289,uid=0');
  assert.equal(victim.dead, true);
  assert.equal(ev.get('oom_kill'), 1);
});

test('oom_badness_picks_the_biggest_adjusted_user_and_spares_oom_score_adj_min', () => {
  const ev = new PressureEvents();
  const oom = new OomKiller(ev, () => 100_000);
  const a = user(1, 'init', 1_000_000, -1000);
  const b = user(2, 'small', 100, 0);
  const c = user(3, 'adjusted', 50, 10); // +10 × 100 pages
  oom.register(a); oom.register(b); oom.register(c);
  assert.equal(oom.select(), c);
  assert.equal(oom.badness(a), -Infinity);
  // without __GFP_FS nothing is killed, but it counts as progress
  const r = oom.outOfMemory({ gfp: GFP_NOFS, order: 0, gfpNames: 'GFP_NOFS', comm: 'x', pid: 9, oomScoreAdj: 0 });
  assert.equal(r.progress, true);
  assert.equal(r.victim, null);
  assert.equal(ev.get('oom_kill'), 0);
});
