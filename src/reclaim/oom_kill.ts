/**
 * The OOM killer: pick the registered memory user with the highest badness, kill it (it frees everything it holds),
 * print the kernel's report lines, count oom_kill.
 * @kernel mm/oom_kill.c out_of_memory, select_bad_process, oom_evaluate_task, oom_badness, dump_header, dump_tasks,
 *         dump_oom_summary, __oom_kill_process (6.1)
 */
import { __GFP_FS } from '../gfp/bits.ts';
import { PAGE_SIZE } from '../mm/constants.ts';
import { OOM_KILL, type PressureEvents } from './vm_events.ts';

export const OOM_SCORE_ADJ_MIN = -1000;
export const OOM_SCORE_ADJ_MAX = 1000;

/** A memory user the OOM killer may choose (a task now; a labyrinth when they exist). */
export interface MemoryUser {
  readonly pid: number;
  readonly comm: string;
  readonly oomScoreAdj: number;
  readonly uid?: number;
  /** resident pages: anon + file-mapped + shmem (get_mm_rss) */
  rssPages(): number;
  /** anon / file / shmem split for the kill line; defaults: all anon */
  rssSplit?(): { anon: number; file: number; shmem: number };
  /** total_vm in pages (defaults to rss) */
  totalVmPages?(): number;
  /** mm_pgtables_bytes (defaults to 0) */
  pgtablesBytes?(): number;
  /** swap entries (defaults to 0) */
  swapEntries?(): number;
  /** Kill: free everything it holds, synchronously. */
  kill(): void;
}

/** What the allocation that ran out of memory looked like (struct oom_control). */
export interface OomControl {
  gfp: number;
  order: number;
  /** %pGg text of gfp */
  gfpNames: string;
  /** the task that invoked the OOM killer */
  comm: string;
  pid: number;
  oomScoreAdj: number;
}

export interface OomResult {
  /** out_of_memory's return: true when the caller should consider it progress */
  progress: boolean;
  victim: MemoryUser | null;
  /** the report lines (without the Mem-Info block and the stack, which the caller renders) */
  header: string[];
  tasks: string[];
  kill: string[];
}

export class OomKiller {
  private readonly users: MemoryUser[] = [];
  private readonly ev: PressureEvents;
  /** totalram_pages + total_swap_pages */
  private readonly totalPages: () => number;
  /** every report printed, oldest first */
  readonly reports: OomResult[] = [];
  killed = 0;

  constructor(ev: PressureEvents, totalPages: () => number) {
    this.ev = ev;
    this.totalPages = totalPages;
  }

  register(u: MemoryUser): () => void {
    this.users.push(u);
    return () => this.unregister(u);
  }
  unregister(u: MemoryUser): void {
    const i = this.users.indexOf(u);
    if (i >= 0) this.users.splice(i, 1);
  }
  get candidates(): readonly MemoryUser[] { return this.users; }

  /** @kernel mm/oom_kill.c oom_badness: rss + swap + page tables, plus oom_score_adj in thousandths of memory */
  badness(u: MemoryUser): number {
    if (u.oomScoreAdj === OOM_SCORE_ADJ_MIN) return -Infinity;
    let points = u.rssPages() + (u.swapEntries?.() ?? 0) + Math.floor((u.pgtablesBytes?.() ?? 0) / PAGE_SIZE);
    points += u.oomScoreAdj * Math.floor(this.totalPages() / 1000);
    return points;
  }

  /** @kernel mm/oom_kill.c select_bad_process: the highest badness; a later user wins a tie, as in the kernel */
  select(): MemoryUser | null {
    let chosen: MemoryUser | null = null;
    let chosenPoints = -Infinity;
    for (const u of this.users) {
      const p = this.badness(u);
      if (p === -Infinity || p < chosenPoints) continue;
      chosen = u;
      chosenPoints = p;
    }
    return chosen;
  }

  /**
   * @kernel mm/oom_kill.c out_of_memory (global OOM, no memcg): a request without __GFP_FS never kills
   * ("the OOM killer does not compensate for IO-less reclaim") but counts as progress.
   */
  outOfMemory(oc: OomControl): OomResult {
    if (oc.gfp && !(oc.gfp & __GFP_FS)) return { progress: true, victim: null, header: [], tasks: [], kill: [] };
    const header = [
      `${oc.comm} invoked oom-killer: gfp_mask=0x${oc.gfp.toString(16)}(${oc.gfpNames}), order=${oc.order}, oom_score_adj=${oc.oomScoreAdj}`,
    ];
    const tasks = this.dumpTasks();
    const victim = this.select();
    if (!victim) {
      const r: OomResult = { progress: false, victim: null, header, tasks, kill: ['Out of memory and no killable processes...'] };
      this.reports.push(r);
      return r;
    }
    const split = victim.rssSplit?.() ?? { anon: victim.rssPages(), file: 0, shmem: 0 };
    const uid = victim.uid ?? 0;
    const kb = (p: number): number => p * (PAGE_SIZE / 1024);
    const kill = [
      `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=${victim.comm},pid=${victim.pid},uid=${uid}`,
      `Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${kb(victim.totalVmPages?.() ?? victim.rssPages())}kB,`
        + ` anon-rss:${kb(split.anon)}kB, file-rss:${kb(split.file)}kB, shmem-rss:${kb(split.shmem)}kB, UID:${uid}`
        + ` pgtables:${Math.floor((victim.pgtablesBytes?.() ?? 0) / 1024)}kB oom_score_adj:${victim.oomScoreAdj}`,
    ];
    // the kill frees everything at once here, so the reaper finds nothing left
    const reaped = `oom_reaper: reaped process ${victim.pid} (${victim.comm}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB`;
    this.unregister(victim);
    victim.kill();
    this.killed++;
    this.ev.v[OOM_KILL]! += 1;
    kill.push(reaped);
    const r: OomResult = { progress: true, victim, header, tasks, kill };
    this.reports.push(r);
    return r;
  }

  /** @kernel mm/oom_kill.c dump_tasks */
  dumpTasks(): string[] {
    const out = ['Tasks state (memory values in pages):', '[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name'];
    const pad = (v: number | string, w: number): string => String(v).padStart(w);
    for (const u of this.users) {
      out.push(`[${pad(u.pid, 7)}] ${pad(u.uid ?? 0, 5)} ${pad(u.pid, 5)} ${pad(u.totalVmPages?.() ?? u.rssPages(), 8)} ${pad(u.rssPages(), 8)}`
        + ` ${pad(u.pgtablesBytes?.() ?? 0, 8)} ${pad(u.swapEntries?.() ?? 0, 8)}         ${pad(u.oomScoreAdj, 5)} ${u.comm}`);
    }
    return out;
  }
}
