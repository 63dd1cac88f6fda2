/**
 * Property: random mixes of tasks and contexts — atomic requests from softirq/hardirq, sleeping requests of every
 * retry flavour from tasks, page cache (clean and dirty, block and fs), anonymous memory, frees, time passing,
 * compact_memory, and sleeping requests from atomic context — keep the allocator's invariants (verify()), the LRU's,
 * and lose no page: free + on an LRU + held = managed, after every step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_NOWAIT, GFP_HIGHUSER_MOVABLE, __GFP_NORETRY, __GFP_RETRY_MAYFAIL,
  __GFP_NOFAIL, __GFP_NOWARN, __GFP_COMP,
} from '../gfp/bits.ts';
import { processContext, softirqContext, hardirqContext, SleepInAtomicError } from '../alloc/context.ts';
import { rig, Task, RIG_KINDS } from '../../test/_pressure_rig.ts';

const SLEEPING = [GFP_KERNEL, GFP_NOFS, GFP_NOIO, GFP_HIGHUSER_MOVABLE];
const MODIFIERS = [0, __GFP_NORETRY, __GFP_RETRY_MAYFAIL, __GFP_NOFAIL, __GFP_NOWARN];

type Op =
  | { k: 'atomic'; gfp: number; order: number; irq: boolean; task: number }
  | { k: 'sleep'; gfp: number; order: number; task: number }
  | { k: 'cache'; n: number; dirty: boolean; fs: boolean }
  | { k: 'anon'; n: number; task: number }
  | { k: 'free'; task: number; frac: number }
  | { k: 'time'; ns: number }
  | { k: 'compact' }
  | { k: 'bad'; gfp: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('atomic' as const), gfp: fc.constantFrom(GFP_ATOMIC, GFP_NOWAIT, GFP_ATOMIC | __GFP_NOWARN), order: fc.integer({ min: 0, max: 3 }), irq: fc.boolean(), task: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('sleep' as const), gfp: fc.tuple(fc.constantFrom(...SLEEPING), fc.constantFrom(...MODIFIERS)).map(([g, m]) => g | m), order: fc.constantFrom(0, 0, 0, 1, 2, 3, 4), task: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('cache' as const), n: fc.integer({ min: 1, max: 3000 }), dirty: fc.boolean(), fs: fc.boolean() }),
  fc.record({ k: fc.constant('anon' as const), n: fc.integer({ min: 1, max: 3000 }), task: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ k: fc.constant('free' as const), task: fc.integer({ min: 0, max: 2 }), frac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ k: fc.constant('time' as const), ns: fc.integer({ min: 0, max: 300_000_000 }) }),
  fc.record({ k: fc.constant('compact' as const) }),
  fc.record({ k: fc.constant('bad' as const), gfp: fc.constantFrom(...SLEEPING) }),
);

for (const kind of RIG_KINDS) test(`random_tasks_and_contexts_keep_invariants_and_lose_no_page [${kind}]`, () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: 5, maxLength: 40 }), (ops) => {
    const r = rig({ nofailBackoffNs: 4_000_000 }, kind);
    const managed = r.managed;
    const tasks = [0, 1, 2].map((i) => new Task(r, 1000 + i, `t${i}`, i === 2 ? -1000 : 0));
    for (const t of tasks) r.p.registerUser(t);
    const cacheOwner = new Task(r, 999, 'cache');
    let pendingSleepers = 0;
    const check = (): void => {
      r.port.verify();
      r.p.reclaim.lru.verify();
      let n = r.port.totalFree;
      for (let l = 0; l < 5; l++) n += r.p.reclaim.lru.lruSize(0, l);
      for (const t of tasks) for (const [, o] of t.plain) n += 1 << o;
      assert.equal(n, managed, 'a page was lost or counted twice');
    };
    for (const op of ops) {
      const t = 'task' in op ? tasks[op.task]! : tasks[0]!;
      const ctx = processContext(t.pid, t.comm);
      switch (op.k) {
        case 'atomic': {
          if (t.killed) break;
          const before = r.clock.now;
          const pfn = r.p.allocPages(op.gfp | (op.order ? __GFP_COMP : 0), op.order, op.irq ? hardirqContext(ctx) : softirqContext(ctx)) as number;
          assert.equal(r.clock.now, before);
          if (pfn >= 0) t.plain.set(pfn, op.order);
          break;
        }
        case 'sleep': {
          if (t.killed) break;
          pendingSleepers++;
          r.p.allocSleeping(op.gfp | (op.order ? __GFP_COMP : 0), op.order, ctx, (pfn) => {
            pendingSleepers--;
            if (op.gfp & __GFP_NOFAIL) assert.ok(pfn >= 0, '__GFP_NOFAIL failed');
            if (pfn >= 0) { if (t.killed) r.port.freePages(pfn, op.order); else t.plain.set(pfn, op.order); }
          });
          break;
        }
        case 'cache':
          for (let i = 0; i < op.n; i++) {
            const pfn = r.p.allocAtomic(GFP_NOWAIT | __GFP_NOWARN, 0, ctx);
            if (pfn < 0) break;
            cacheOwner.own(pfn, op.fs ? 'file-fs' : 'file', op.dirty);
          }
          break;
        case 'anon':
          if (t.killed) break;
          for (let i = 0; i < op.n; i++) {
            const pfn = r.p.allocAtomic(GFP_NOWAIT | __GFP_NOWARN, 0, ctx);
            if (pfn < 0) break;
            t.own(pfn, 'anon');
          }
          break;
        case 'free': {
          const entries = [...t.plain];
          const k = Math.floor(entries.length * op.frac);
          for (const [pfn, o] of entries.slice(0, k)) { t.plain.delete(pfn); r.port.freePages(pfn, o); }
          const hs = [...t.handles];
          for (const h of hs.slice(0, Math.floor(hs.length * op.frac))) {
            const pfn = r.p.reclaim.lru.pfnOf(h);
            t.handles.delete(h);
            if (pfn >= 0 && !r.p.reclaim.lru.isIsolated(pfn)) { r.p.reclaim.removePage(pfn); r.port.freePages(pfn, 0); } else if (pfn < 0) r.p.reclaim.lru.forgetHandle(h); else t.handles.add(h);
          }
          break;
        }
        case 'time':
          r.clock.runUntil(r.clock.now + op.ns);
          break;
        case 'compact':
          r.p.compaction.compactMemory();
          break;
        case 'bad':
          assert.throws(() => r.p.allocPages(op.gfp, 0, softirqContext(ctx)), SleepInAtomicError);
          break;
      }
      check();
    }
    // let every sleeper finish (or stay in its retry loop, which only requests without __GFP_FS may do)
    r.clock.runUntil(r.clock.now + 2e9);
    check();
    void pendingSleepers;
  }), { numRuns: kind === 'core' ? 15 : 25 });
});
