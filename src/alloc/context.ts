/**
 * Execution contexts: who is allocating, and whether it may sleep.
 * @kernel kernel/sched/core.c __might_resched (6.1), include/linux/preempt.h, include/linux/sched/mm.h might_alloc
 *
 * A context carries what the kernel derives "may this code sleep?" from: the preempt count (with its
 * hardirq / softirq / preempt-disable fields), whether interrupts are off, the RCU read-side nesting
 * depth (CONFIG_PREEMPT_RCU, as on the Debian 6.1 kernel) and the task's non_block count.
 *
 * A sleeping request (`__GFP_DIRECT_RECLAIM`) from a context that may not sleep is refused — always,
 * not only with CONFIG_DEBUG_ATOMIC_SLEEP — with the kernel's report text, before anything changes.
 */
import { __GFP_DIRECT_RECLAIM } from '../gfp/bits.ts';
import { LabyrinthError } from '../errors.ts';

/** include/linux/preempt.h field layout. */
export const PREEMPT_OFFSET = 0x1;
export const SOFTIRQ_OFFSET = 0x100;
/** local_bh_disable() adds twice the softirq offset. */
export const SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
export const HARDIRQ_OFFSET = 0x10000;
export const NMI_OFFSET = 0x100000;
export const SOFTIRQ_MASK = 0xff00;
export const HARDIRQ_MASK = 0xf0000;
export const NMI_MASK = 0xf00000;
/** MIGHT_RESCHED_RCU_SHIFT: the expected RCU depth sits above the preempt bits in `offsets`. */
export const MIGHT_RESCHED_RCU_SHIFT = 8;
export const MIGHT_RESCHED_PREEMPT_MASK = (1 << MIGHT_RESCHED_RCU_SHIFT) - 1;

/**
 * The might_sleep site of a page allocation in 6.1: `might_alloc()` → `might_sleep_if()` in
 * include/linux/sched/mm.h. Line 274 is what 6.1/6.2 builds print (e.g. a 6.2-rc2 report:
 * "BUG: sleeping function called from invalid context at include/linux/sched/mm.h:274").
 */
export const MIGHT_ALLOC_FILE = 'include/linux/sched/mm.h';
export const MIGHT_ALLOC_LINE = 274;

export type ContextKind = 'task' | 'softirq' | 'hardirq' | 'spinlock' | 'spinlock_irq' | 'rcu' | 'nmi';

/**
 * One execution context. `task` is process context and may sleep; every other kind is atomic.
 * Contexts nest like the kernel's: `ctx.spinLock()` inside a softirq is still atomic and counts both.
 */
export class ExecContext {
  readonly kind: ContextKind;
  /** the task running (or interrupted, for irq contexts): current->pid / current->comm */
  readonly pid: number;
  readonly comm: string;
  /** preempt_count() */
  readonly preemptCount: number;
  /** irqs_disabled() */
  readonly irqsDisabled: boolean;
  /** rcu_preempt_depth() */
  readonly rcuNestDepth: number;
  /** current->non_block_count */
  readonly nonBlock: number;
  /** PF_MEMALLOC on the task (reclaim recursion guard; kswapd and direct reclaimers set it) */
  readonly memalloc: boolean;

  constructor(kind: ContextKind, pid: number, comm: string, preemptCount: number, irqsDisabled: boolean,
    rcuNestDepth: number, nonBlock: number = 0, memalloc: boolean = false) {
    this.kind = kind;
    this.pid = pid;
    this.comm = comm;
    this.preemptCount = preemptCount;
    this.irqsDisabled = irqsDisabled;
    this.rcuNestDepth = rcuNestDepth;
    this.nonBlock = nonBlock;
    this.memalloc = memalloc;
  }

  /** in_atomic(): preempt_count() != 0 */
  get inAtomic(): boolean { return this.preemptCount !== 0; }
  /** in_interrupt(): hardirq, softirq (serving or disabled) or NMI bits set */
  get inInterrupt(): boolean { return (this.preemptCount & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_MASK)) !== 0; }
  /** in_task(): neither hardirq, NMI nor serving a softirq */
  get inTask(): boolean { return (this.preemptCount & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) === 0; }

  /**
   * The condition under which __might_resched stays silent (expected offsets 0): the preempt count
   * and RCU depth are as expected, IRQs are on, and the task is not in a non-blocking section.
   */
  get maySleep(): boolean {
    return this.preemptCount === 0 && this.rcuNestDepth === 0 && !this.irqsDisabled && this.nonBlock === 0;
  }

  /** spin_lock(): preempt_disable() */
  spinLock(): ExecContext {
    return new ExecContext(this.kind === 'task' ? 'spinlock' : this.kind, this.pid, this.comm,
      this.preemptCount + PREEMPT_OFFSET, this.irqsDisabled, this.rcuNestDepth, this.nonBlock, this.memalloc);
  }
  /** spin_lock_irqsave(): preempt_disable() and local_irq_save() */
  spinLockIrqsave(): ExecContext {
    return new ExecContext(this.kind === 'task' ? 'spinlock_irq' : this.kind, this.pid, this.comm,
      this.preemptCount + PREEMPT_OFFSET, true, this.rcuNestDepth, this.nonBlock, this.memalloc);
  }
  /** rcu_read_lock() under CONFIG_PREEMPT_RCU: the nesting depth, not the preempt count */
  rcuReadLock(): ExecContext {
    return new ExecContext(this.kind === 'task' ? 'rcu' : this.kind, this.pid, this.comm,
      this.preemptCount, this.irqsDisabled, this.rcuNestDepth + 1, this.nonBlock, this.memalloc);
  }
  /** The same context with PF_MEMALLOC set (memalloc_noreclaim_save), as kswapd and reclaimers run. */
  withMemalloc(): ExecContext {
    return new ExecContext(this.kind, this.pid, this.comm, this.preemptCount, this.irqsDisabled,
      this.rcuNestDepth, this.nonBlock, true);
  }
}

/** Process context of a task: may sleep. */
export function processContext(pid: number, comm: string): ExecContext {
  return new ExecContext('task', pid, comm, 0, false, 0);
}

/** A softirq (e.g. NET_RX, a soft hrtimer) serving on top of the task it interrupted. */
export function softirqContext(interrupted: { pid: number; comm: string } = { pid: 0, comm: 'swapper/0' }): ExecContext {
  return new ExecContext('softirq', interrupted.pid, interrupted.comm, SOFTIRQ_OFFSET, false, 0);
}

/** A hard interrupt handler: IRQs off, hardirq count 1. */
export function hardirqContext(interrupted: { pid: number; comm: string } = { pid: 0, comm: 'swapper/0' }): ExecContext {
  return new ExecContext('hardirq', interrupted.pid, interrupted.comm, HARDIRQ_OFFSET, true, 0);
}

/** The lines __might_resched prints before the held locks and the stack (6.1, CONFIG_PREEMPT_RCU=y). */
export function mightReschedReport(ctx: ExecContext, file: string = MIGHT_ALLOC_FILE, line: number = MIGHT_ALLOC_LINE,
  expectedOffsets: number = 0): string[] {
  return [
    `BUG: sleeping function called from invalid context at ${file}:${line}`,
    `in_atomic(): ${ctx.inAtomic ? 1 : 0}, irqs_disabled(): ${ctx.irqsDisabled ? 1 : 0}, non_block: ${ctx.nonBlock}, pid: ${ctx.pid}, name: ${ctx.comm}`,
    `preempt_count: ${ctx.preemptCount.toString(16)}, expected: ${(expectedOffsets & MIGHT_RESCHED_PREEMPT_MASK).toString(16)}`,
    `RCU nest depth: ${ctx.rcuNestDepth}, expected: ${expectedOffsets >>> MIGHT_RESCHED_RCU_SHIFT}`,
  ];
}

/** A sleeping request was made from a context that may not sleep. Nothing was changed. */
export class SleepInAtomicError extends LabyrinthError {
  /** The kernel's report lines (without the held-locks list and the stack dump, which we do not simulate). */
  readonly report: readonly string[];
  readonly context: ExecContext;
  readonly gfp: number;
  constructor(ctx: ExecContext, gfp: number) {
    const report = mightReschedReport(ctx);
    super('ESLEEPINATOMIC',
      `Cannot allocate with a sleeping gfp (0x${gfp.toString(16)}) in ${ctx.kind} context: because it may not sleep\n${report.join('\n')}`);
    this.report = report;
    this.context = ctx;
    this.gfp = gfp;
  }
}

/**
 * might_alloc(gfp): refuse a request that may sleep in a context that may not.
 * Call before touching any state; throws SleepInAtomicError.
 */
export function mightAlloc(gfp: number, ctx: ExecContext): void {
  if ((gfp & __GFP_DIRECT_RECLAIM) !== 0 && !ctx.maySleep) throw new SleepInAtomicError(ctx, gfp);
}
