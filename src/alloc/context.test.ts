import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExecContext, processContext, softirqContext, hardirqContext, mightAlloc, mightReschedReport, SleepInAtomicError,
} from './context.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT, GFP_NOIO } from '../gfp/bits.ts';

test('process_context_may_sleep_and_atomic_contexts_may_not', () => {
  const t = processContext(42, 'cat');
  assert.equal(t.maySleep, true);
  assert.equal(t.inAtomic, false);
  assert.equal(t.inTask, true);
  for (const c of [softirqContext(t), hardirqContext(t), t.spinLock(), t.spinLockIrqsave(), t.rcuReadLock()]) {
    assert.equal(c.maySleep, false, c.kind);
  }
  assert.equal(softirqContext(t).inInterrupt, true);
  assert.equal(softirqContext(t).inTask, false);
  assert.equal(t.spinLock().inInterrupt, false);
  // RCU read side under PREEMPT_RCU does not touch the preempt count
  assert.equal(t.rcuReadLock().inAtomic, false);
});

test('might_alloc_refuses_direct_reclaim_in_atomic_context_with_the_6_1_report', () => {
  const t = processContext(229, 'stormload');
  // atomic masks are fine anywhere
  for (const c of [t, softirqContext(t), hardirqContext(t), t.spinLock()]) {
    mightAlloc(GFP_ATOMIC, c);
    mightAlloc(GFP_NOWAIT, c);
  }
  mightAlloc(GFP_KERNEL, t);
  assert.throws(() => mightAlloc(GFP_NOIO, softirqContext(t)), (e: unknown) => {
    assert.ok(e instanceof SleepInAtomicError);
    assert.equal(e.code, 'ESLEEPINATOMIC');
    assert.deepEqual(e.report, [
      'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274',
      'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 229, name: stormload',
      'preempt_count: 100, expected: 0',
      'RCU nest depth: 0, expected: 0',
    ]);
    return true;
  });
});

test('might_resched_report_matches_real_6_x_samples', () => {
  // Real 6.x sample (kernel-facts §7.1, bcachefs#893): spin_lock_irq with IRQs off
  const irqOff = new ExecContext('spinlock_irq', 7578, 'dd', 0, true, 0);
  assert.deepEqual(mightReschedReport(irqOff, 'kernel/locking/spinlock_rt.c', 48), [
    'BUG: sleeping function called from invalid context at kernel/locking/spinlock_rt.c:48',
    'in_atomic(): 0, irqs_disabled(): 1, non_block: 0, pid: 7578, name: dd',
    'preempt_count: 0, expected: 0',
    'RCU nest depth: 0, expected: 0',
  ]);
  // Real 6.x sample (tipc, softirq with BH disabled twice): preempt_count 302, RCU depth 2
  const swapper = processContext(0, 'swapper/3');
  const c = new ExecContext('softirq', 0, 'swapper/3', 0x302, false, 2);
  assert.deepEqual(mightReschedReport(c, 'include/linux/sched/mm.h', 230), [
    'BUG: sleeping function called from invalid context at include/linux/sched/mm.h:230',
    'in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 0, name: swapper/3',
    'preempt_count: 302, expected: 0',
    'RCU nest depth: 2, expected: 0',
  ]);
  assert.equal(swapper.maySleep, true);
});
