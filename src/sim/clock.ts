/**
 * A deterministic discrete-event scheduler over virtual nanoseconds. Everything in the simulator that takes time
 * (workload ticks, I/O completion, kswapd, kcompactd, sleeping tasks) is an event here; nothing reads wall-clock
 * time. Events fire in (time, sequence) order: two events for the same nanosecond fire in the order they were
 * scheduled, so a run depends only on its inputs.
 *
 * The queue is a small binary min-heap of the next events in front of a calendar of later ones, all in typed
 * arrays (no object per event): scheduling costs no allocation once the arrays have grown, and each event
 * costs a few steps however many wait.
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
  private stopped = false;
  private seq = 0;
  // The near tier: a binary min-heap over parallel arrays, keyed by (time, seq), of the events whose slot
  // (floor(time / width)) is at most `cur`. It stays small, so its comparisons are few and cache-resident.
  private size = 0;
  private times: Float64Array = new Float64Array(256);
  private seqs: Float64Array = new Float64Array(256);
  private args: Float64Array = new Float64Array(256);
  private fns: EventFn[] = [];
  // The far tier: a calendar of the events of later slots, bucket = slot mod nBuckets, each bucket an unsorted
  // singly linked list of nodes in typed arrays. When the heap runs dry, `cur` advances to the next slot and that
  // slot's events move into the heap. Slots are monotone in time, so every heap event is earlier than every
  // calendar event and equal times share a slot: the firing order is exactly (time, seq), whatever the width.
  // The width and bucket count adapt to the load (a rehash, rare) so that a slot holds a handful of events.
  private cur = -1;
  private width = NSEC_PER_USEC * 64;
  private invWidth = 1 / (NSEC_PER_USEC * 64);
  private nBuckets = 1024;
  private heads: Int32Array = new Int32Array(1024).fill(-1);
  private farCount = 0;
  /** per node, interleaved: [time, seq, arg, slot] */
  private nodeD: Float64Array = new Float64Array(1024 * 4);
  private nodeNext: Int32Array = new Int32Array(1024).fill(-1);
  private nodeF: EventFn[] = [];
  private freeNode = -1;
  private nodesUsed = 0;
  /** Events too far for a slot number (time beyond 2^52 widths, or Infinity): a list, fired after all others. */
  private overflow = -1;
  private overflowCount = 0;
  // refill statistics for the adaptation
  private refills = 0;
  private movedSum = 0;
  private crowded = 0;

  /** Number of events waiting. */
  get pending(): number {
    return this.size + this.farCount + this.overflowCount;
  }

  /** Time of the next event, or Infinity when none is queued. */
  peekTime(): number {
    if (this.size === 0 && !this.refill()) return Infinity;
    return this.times[0]!;
  }

  /** Schedule `fn(at, arg)` at absolute virtual time `atNs` (clamped to now: the past cannot be scheduled). */
  schedule(atNs: number, fn: EventFn, arg = 0): void {
    const t = atNs < this.now ? this.now : atNs;
    const s = this.seq++;
    const slot = Math.floor(t * this.invWidth);
    if (slot <= this.cur) {
      this.push(t, s, arg, fn);
      return;
    }
    const k = this.newNode(t, s, arg, fn, slot);
    if (slot < MAX_SLOT) {
      const b = slot % this.nBuckets;
      this.nodeNext[k] = this.heads[b]!;
      this.heads[b] = k;
      this.farCount++;
    } else {
      this.nodeNext[k] = this.overflow;
      this.overflow = k;
      this.overflowCount++;
    }
  }

  private newNode(t: number, s: number, arg: number, fn: EventFn, slot: number): number {
    let k = this.freeNode;
    if (k >= 0) this.freeNode = this.nodeNext[k]!;
    else {
      k = this.nodesUsed++;
      if (k === this.nodeNext.length) this.growNodes();
    }
    const d = this.nodeD, k4 = k * 4;
    d[k4] = t;
    d[k4 + 1] = s;
    d[k4 + 2] = arg;
    d[k4 + 3] = slot;
    this.nodeF[k] = fn;
    return k;
  }

  private push(t: number, s: number, arg: number, fn: EventFn): void {
    if (this.size === this.times.length) this.grow();
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

  /** The heap is empty: move the next slot's events into it. False when nothing waits. */
  private refill(): boolean {
    if (this.farCount === 0) {
      if (this.overflowCount === 0) return false;
      // only events beyond any slot remain: they go to the heap, and so does everything scheduled from now on
      for (let k = this.overflow; k >= 0;) {
        const nx = this.nodeNext[k]!;
        this.push(this.nodeD[k * 4]!, this.nodeD[k * 4 + 1]!, this.nodeD[k * 4 + 2]!, this.nodeF[k]!);
        this.releaseNode(k);
        k = nx;
      }
      this.overflow = -1;
      this.overflowCount = 0;
      this.cur = Infinity;
      return true;
    }
    if ((++this.refills & 63) === 0) this.adapt();
    const heads = this.heads, next = this.nodeNext, d = this.nodeD;
    let walked = 0;
    for (;;) {
      const cur = ++this.cur;
      const b = cur % this.nBuckets;
      let prev = -1;
      let moved = 0;
      for (let k = heads[b]!; k >= 0;) {
        const nx = next[k]!;
        const k4 = k * 4;
        if (d[k4 + 3] === cur) {
          this.push(d[k4]!, d[k4 + 1]!, d[k4 + 2]!, this.nodeF[k]!);
          if (prev < 0) heads[b] = nx; else next[prev] = nx;
          this.releaseNode(k);
          moved++;
        } else prev = k;
        k = nx;
      }
      if (moved > 0) {
        this.farCount -= moved;
        this.movedSum += moved;
        if (moved > 32) this.crowded++;
        return true;
      }
      if (++walked === this.nBuckets) {
        // a whole round of empty slots: jump to the earliest slot waiting
        this.cur = this.minSlot() - 1;
        walked = 0;
      }
    }
  }

  private releaseNode(k: number): void {
    this.nodeF[k] = undefined as unknown as EventFn;
    this.nodeNext[k] = this.freeNode;
    this.freeNode = k;
  }

  private minSlot(): number {
    let m = Infinity;
    for (let b = 0; b < this.nBuckets; b++) {
      for (let k = this.heads[b]!; k >= 0; k = this.nodeNext[k]!) if (this.nodeD[k * 4 + 3]! < m) m = this.nodeD[k * 4 + 3]!;
    }
    return m;
  }

  /** Keep a slot at a handful of events and the buckets about as many as the events waiting (heap empty). */
  private adapt(): void {
    const perSlot = this.movedSum / 64;
    const crowded = this.crowded;
    this.movedSum = 0;
    this.crowded = 0;
    let width = this.width;
    let nb = this.nBuckets;
    // narrower only when most slots are crowded (not for a few bursts of events at one instant, which no width splits)
    if (crowded > 32) width /= 4;
    else if (perSlot < 2 && this.farCount > 64) width *= 4;
    while (this.farCount > 2 * nb) nb *= 2;
    if (width === this.width && nb === this.nBuckets) return;
    if (!(width > 0 && width < Infinity)) return;
    // rehash every calendar event under the new width and bucket count
    const all: number[] = [];
    for (let b = 0; b < this.nBuckets; b++) for (let k = this.heads[b]!; k >= 0; k = this.nodeNext[k]!) all.push(k);
    this.width = width;
    this.invWidth = 1 / width;
    if (nb !== this.nBuckets) { this.nBuckets = nb; this.heads = new Int32Array(nb); }
    this.heads.fill(-1);
    let m = Infinity;
    for (const k of all) {
      const slot = Math.floor(this.nodeD[k * 4]! * this.invWidth);
      this.nodeD[k * 4 + 3] = slot;
      if (slot < m) m = slot;
      const b = slot % nb;
      this.nodeNext[k] = this.heads[b]!;
      this.heads[b] = k;
    }
    // the heap is empty: the current slot becomes the one before the earliest waiting
    this.cur = m - 1;
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
    for (;;) {
      if (this.size === 0 && !this.refill()) break;
      const t = this.times[0]!;
      if (t > endNs) break;
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
    if (this.size === 0 && !this.refill()) return false;
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

  private growNodes(): void {
    const n = this.nodeNext.length * 2;
    const d = new Float64Array(n * 4); d.set(this.nodeD); this.nodeD = d;
    const nx = new Int32Array(n).fill(-1); nx.set(this.nodeNext); this.nodeNext = nx;
  }
}

/** Slot numbers stay exact integers below this. */
const MAX_SLOT = 2 ** 52;

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
