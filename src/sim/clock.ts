/**
 * A deterministic discrete-event scheduler over virtual nanoseconds. Everything in the simulator that takes time
 * (workload ticks, I/O completion, kswapd, kcompactd, sleeping tasks) is an event here; nothing reads wall-clock
 * time. Events fire in (time, sequence) order: two events for the same nanosecond fire in the order they were
 * scheduled, so a run depends only on its inputs.
 *
 * The queue is a binary min-heap over parallel arrays (no object per event), so scheduling costs no allocation
 * once the arrays have grown.
 *
 * @example
 * const clock = new Clock();
 * clock.after(1_000, (now) => console.log('fired at', now));
 * clock.runUntil(1_000_000);
 */

/** An event callback: `now` is the virtual time in ns, `arg` the number given to schedule(). */
export type EventFn = (now: number, arg: number) => void;

export const NSEC_PER_USEC = 1_000;
export const NSEC_PER_MSEC = 1_000_000;
export const NSEC_PER_SEC = 1_000_000_000;

export class Clock {
  /** Current virtual time in nanoseconds. */
  now = 0;
  /** Events fired so far. */
  fired = 0;
  private size = 0;
  private seq = 0;
  private times: Float64Array = new Float64Array(256);
  private seqs: Float64Array = new Float64Array(256);
  private args: Float64Array = new Float64Array(256);
  private fns: EventFn[] = [];
  private stopped = false;

  /** Number of events waiting. */
  get pending(): number {
    return this.size;
  }

  /** Time of the next event, or Infinity when none is queued. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.times[0]!;
  }

  /** Schedule `fn(at, arg)` at absolute virtual time `atNs` (clamped to now: the past cannot be scheduled). */
  schedule(atNs: number, fn: EventFn, arg = 0): void {
    const t = atNs < this.now ? this.now : atNs;
    if (this.size === this.times.length) this.grow();
    const s = this.seq++;
    // sift up
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.times[p]!;
      if (pt < t || (pt === t && this.seqs[p]! < s)) break;
      this.times[i] = pt;
      this.seqs[i] = this.seqs[p]!;
      this.args[i] = this.args[p]!;
      this.fns[i] = this.fns[p]!;
      i = p;
    }
    this.times[i] = t;
    this.seqs[i] = s;
    this.args[i] = arg;
    this.fns[i] = fn;
  }

  /** Schedule `fn` after `delayNs` from now. */
  after(delayNs: number, fn: EventFn, arg = 0): void {
    this.schedule(this.now + delayNs, fn, arg);
  }

  /** Stop runUntil() after the event being fired. */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Fire every event with time ≤ endNs in order, then set now = endNs (unless stopped early).
   * Returns the number of events fired.
   */
  runUntil(endNs: number): number {
    let n = 0;
    this.stopped = false;
    while (this.size > 0 && this.times[0]! <= endNs) {
      const t = this.times[0]!;
      const fn = this.fns[0]!;
      const arg = this.args[0]!;
      this.pop();
      this.now = t;
      n++;
      fn(t, arg);
      if (this.stopped) {
        this.fired += n;
        return n;
      }
    }
    if (endNs > this.now) this.now = endNs;
    this.fired += n;
    return n;
  }

  /** Fire the single earliest event, if any. Returns false when the queue is empty. */
  step(): boolean {
    if (this.size === 0) return false;
    const t = this.times[0]!;
    const fn = this.fns[0]!;
    const arg = this.args[0]!;
    this.pop();
    this.now = t;
    this.fired++;
    fn(t, arg);
    return true;
  }

  private pop(): void {
    const last = --this.size;
    if (last === 0) {
      this.fns[0] = undefined as unknown as EventFn;
      return;
    }
    const t = this.times[last]!;
    const s = this.seqs[last]!;
    const a = this.args[last]!;
    const f = this.fns[last]!;
    this.fns[last] = undefined as unknown as EventFn;
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      const r = c + 1;
      if (r < last && (this.times[r]! < this.times[c]! || (this.times[r] === this.times[c] && this.seqs[r]! < this.seqs[c]!))) c = r;
      const ct = this.times[c]!;
      if (t < ct || (t === ct && s < this.seqs[c]!)) break;
      this.times[i] = ct;
      this.seqs[i] = this.seqs[c]!;
      this.args[i] = this.args[c]!;
      this.fns[i] = this.fns[c]!;
      i = c;
    }
    this.times[i] = t;
    this.seqs[i] = s;
    this.args[i] = a;
    this.fns[i] = f;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const t = new Float64Array(n); t.set(this.times); this.times = t;
    const s = new Float64Array(n); s.set(this.seqs); this.seqs = s;
    const a = new Float64Array(n); a.set(this.args); this.args = a;
  }
}

/**
 * Promise-based waiting on the virtual clock, for code written as async tasks (a sleeping allocation, a task
 * that waits for I/O). Drive such code with runUntilAsync(): after each event that resolved a sleeper it lets
 * the microtask queue drain before the next event fires, so async code resumes at its virtual time, in a
 * deterministic order.
 */
export class AsyncClock extends Clock {
  private resolvedSleeper = false;

  /** Resolves with the virtual time at now + delayNs. */
  sleep(delayNs: number): Promise<number> {
    return new Promise<number>((resolve) => {
      this.after(delayNs, (now) => {
        this.resolvedSleeper = true;
        resolve(now);
      });
    });
  }

  /** Like runUntil, but yields to promise continuations after each event that resolved a sleeper. */
  async runUntilAsync(endNs: number): Promise<void> {
    while (this.peekTime() <= endNs) {
      this.step();
      if (this.resolvedSleeper) {
        this.resolvedSleeper = false;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    if (endNs > this.now) this.now = endNs;
  }
}
