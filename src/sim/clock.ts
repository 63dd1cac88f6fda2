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
  // Every waiting event is a record: 4 doubles in `rec` (time, seq, arg, next record of its list or -1) and its
  // callback in `recFn`. One record per event from schedule() to firing; freed records form a LIFO list.
  private rec: Float64Array = new Float64Array(1024 * 4);
  private recFn: EventFn[] = [];
  private freeRec = -1;
  private recsUsed = 0;
  // The near tier: a binary min-heap of record numbers, keyed by (time, seq), of the events whose slot
  // (floor(time / width)) is at most `cur`. It stays small, so its comparisons are few and cache-resident.
  private size = 0;
  private heap: Int32Array = new Int32Array(256);
  // The calendar: the events of the slots cur+1 .. cur+nBuckets-1 (`limit`), one unsorted list per slot in
  // bucket slot mod nBuckets. A bucket therefore only ever holds one slot's events: when the heap runs dry,
  // `cur` advances to the next slot and that bucket's whole list becomes the heap.
  // Slots are monotone in time, so every heap event is earlier than every calendar event and equal times share a
  // slot: the firing order is exactly (time, seq), whatever the width.
  private cur = -1;
  private limit = -1 + 1024 - 1;
  private width = NSEC_PER_USEC * 64;
  private invWidth = 1 / (NSEC_PER_USEC * 64);
  private nBuckets = 1024;
  private mask = 1023;
  private heads: Int32Array = new Int32Array(1024).fill(-1);
  private nearCount = 0;
  // The far tier: events of later slots (beyond `limit`, Infinity included), a binary min-heap on time over
  // parallel arrays (time, record). As `cur` advances, the events entering the calendar's window move there.
  private farN = 0;
  private farT: Float64Array = new Float64Array(256);
  private farK: Int32Array = new Int32Array(256);
  // refill statistics for the adaptation of width and bucket count
  private refills = 0;
  private movedSum = 0;
  private crowded = 0;

  /** Number of events waiting. */
  get pending(): number {
    return this.size + this.nearCount + this.farN;
  }

  /** Time of the next event, or Infinity when none is queued. */
  peekTime(): number {
    if (this.size === 0 && !this.refill()) return Infinity;
    return this.rec[this.heap[0]! * 4]!;
  }

  /** Schedule `fn(at, arg)` at absolute virtual time `atNs` (clamped to now: the past cannot be scheduled). */
  schedule(atNs: number, fn: EventFn, arg = 0): void {
    const t = atNs < this.now ? this.now : atNs;
    let k = this.freeRec;
    let d = this.rec;
    if (k >= 0) this.freeRec = d[k * 4 + 3]!;
    else {
      k = this.recsUsed++;
      if (k * 4 === d.length) d = this.growRecs();
    }
    const k4 = k * 4;
    d[k4] = t;
    d[k4 + 1] = this.seq++;
    d[k4 + 2] = arg;
    this.recFn[k] = fn;
    const slot = Math.floor(t * this.invWidth);
    if (slot <= this.cur) this.push(k, t, d[k4 + 1]!);
    else if (slot <= this.limit) {
      const b = slot & this.mask;
      d[k4 + 3] = this.heads[b]!;
      this.heads[b] = k;
      this.nearCount++;
    } else this.farPush(t, k);
  }

  private growRecs(): Float64Array {
    const d = new Float64Array(this.rec.length * 2);
    d.set(this.rec);
    return (this.rec = d);
  }

  /** Sift record k (time t, seq s) up into the near heap. */
  private push(k: number, t: number, s: number): void {
    if (this.size === this.heap.length) { const h = new Int32Array(this.size * 2); h.set(this.heap); this.heap = h; }
    const h = this.heap, d = this.rec;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p]!;
      const pt = d[q * 4]!;
      if (pt < t || (pt === t && d[q * 4 + 1]! < s)) break;
      h[i] = q;
      i = p;
    }
    h[i] = k;
  }

  private farPush(t: number, k: number): void {
    if (this.farN === this.farT.length) {
      const n = this.farN * 2;
      const ft = new Float64Array(n); ft.set(this.farT); this.farT = ft;
      const fk = new Int32Array(n); fk.set(this.farK); this.farK = fk;
    }
    const ft = this.farT, fk = this.farK;
    let i = this.farN++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ft[p]!;
      if (pt <= t) break;
      ft[i] = pt;
      fk[i] = fk[p]!;
      i = p;
    }
    ft[i] = t;
    fk[i] = k;
  }

  /** Remove the far heap's earliest event; returns its record. */
  private farPop(): number {
    const ft = this.farT, fk = this.farK;
    const top = fk[0]!;
    const last = --this.farN;
    if (last === 0) return top;
    const t = ft[last]!;
    const k = fk[last]!;
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      if (c + 1 < last && ft[c + 1]! < ft[c]!) c++;
      const ct = ft[c]!;
      if (t <= ct) break;
      ft[i] = ct;
      fk[i] = fk[c]!;
      i = c;
    }
    ft[i] = t;
    fk[i] = k;
    return top;
  }

  /** The heap is empty: move the next slot's events into it. False when nothing waits. */
  private refill(): boolean {
    if (this.nearCount === 0) {
      if (this.farN === 0) return false;
      if (!(Math.floor(this.farT[0]! * this.invWidth) < MAX_SLOT)) {
        // only events beyond any slot remain: they go to the heap, and so does everything scheduled from now on
        const d = this.rec;
        while (this.farN > 0) { const k = this.farPop(); this.push(k, d[k * 4]!, d[k * 4 + 1]!); }
        this.cur = Infinity;
        this.limit = Infinity;
        return true;
      }
    }
    if ((++this.refills & 63) === 0) this.adapt();
    const heads = this.heads, mask = this.mask, invWidth = this.invWidth;
    let cur = this.cur;
    let k: number;
    for (;;) {
      if (this.nearCount === 0) {
        // the calendar is empty: jump to the slot before the earliest far event
        cur = Math.floor(this.farT[0]! * invWidth) - 1;
        this.limit = cur + this.nBuckets - 1;
      }
      cur++;
      const limit = ++this.limit;
      // the far events whose slot entered the window move into the calendar
      while (this.farN > 0 && Math.floor(this.farT[0]! * invWidth) <= limit) {
        const f = this.farPop();
        const b = Math.floor(this.rec[f * 4]! * invWidth) & mask;
        this.rec[f * 4 + 3] = heads[b]!;
        heads[b] = f;
        this.nearCount++;
      }
      k = heads[cur & mask]!;
      if (k >= 0) break;
    }
    this.cur = cur;
    heads[cur & mask] = -1;
    // the slot's list becomes the heap (in any order: heapify)
    const d = this.rec;
    let n = 0;
    let h = this.heap;
    for (; k >= 0; k = d[k * 4 + 3]!) {
      if (n === h.length) { const g = new Int32Array(n * 2); g.set(h); this.heap = h = g; }
      h[n++] = k;
    }
    this.size = n;
    this.nearCount -= n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, h[i]!);
    this.movedSum += n;
    if (n > 32) this.crowded++;
    return true;
  }

  /** Place record k at heap index i or below (heap entries below i are in heap order). */
  private siftDown(i: number, k: number): void {
    const h = this.heap, d = this.rec, n = this.size;
    const t = d[k * 4]!, s = d[k * 4 + 1]!;
    const half = n >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let ck = h[c]!;
      let ct = d[ck * 4]!;
      if (c + 1 < n) {
        const rk = h[c + 1]!;
        const rt = d[rk * 4]!;
        if (rt < ct || (rt === ct && d[rk * 4 + 1]! < d[ck * 4 + 1]!)) { c++; ck = rk; ct = rt; }
      }
      if (t < ct || (t === ct && s < d[ck * 4 + 1]!)) break;
      h[i] = ck;
      i = c;
    }
    h[i] = k;
  }

  /** Keep a slot at a handful of events and the buckets about as many as the events waiting (heap empty). */
  private adapt(): void {
    const perSlot = this.movedSum / 64;
    const crowded = this.crowded;
    this.movedSum = 0;
    this.crowded = 0;
    const waiting = this.nearCount + this.farN;
    let width = this.width;
    let nb = this.nBuckets;
    // narrower only when most slots are crowded (not for a few bursts of events at one instant, which no width splits)
    if (crowded > 32) width /= 4;
    else if (perSlot < 2 && waiting > 64) width *= 4;
    while (waiting > 2 * nb) nb *= 2;
    if (width === this.width && nb === this.nBuckets) return;
    if (!(width > 0 && width < Infinity)) return;
    // every waiting event, re-placed under the new width and bucket count
    const d = this.rec;
    const all: number[] = [];
    for (let b = 0; b < this.nBuckets; b++) for (let k = this.heads[b]!; k >= 0; k = d[k * 4 + 3]!) all.push(k);
    for (let i = 0; i < this.farN; i++) all.push(this.farK[i]!);
    const invWidth = 1 / width;
    let m = Infinity;
    for (const k of all) { const slot = Math.floor(d[k * 4]! * invWidth); if (slot < m) m = slot; }
    if (!(m < MAX_SLOT)) return;
    this.width = width;
    this.invWidth = invWidth;
    if (nb !== this.nBuckets) { this.nBuckets = nb; this.mask = nb - 1; this.heads = new Int32Array(nb); }
    this.heads.fill(-1);
    // the heap is empty: the current slot becomes the one before the earliest waiting
    this.cur = m - 1;
    this.limit = this.cur + nb - 1;
    this.nearCount = 0;
    this.farN = 0;
    for (const k of all) {
      const slot = Math.floor(d[k * 4]! * invWidth);
      if (slot <= this.limit) {
        const b = slot & this.mask;
        d[k * 4 + 3] = this.heads[b]!;
        this.heads[b] = k;
        this.nearCount++;
      } else this.farPush(d[k * 4]!, k);
    }
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
      const k = this.heap[0]!;
      const d = this.rec;
      const t = d[k * 4]!;
      if (t > endNs) break;
      const fn = this.recFn[k]!;
      const arg = d[k * 4 + 2]!;
      this.pop(k);
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
    const k = this.heap[0]!;
    const t = this.rec[k * 4]!;
    const fn = this.recFn[k]!;
    const arg = this.rec[k * 4 + 2]!;
    this.pop(k);
    this.now = t;
    this.fired++;
    fn(t, arg);
    return true;
  }

  /** Remove the heap's top, record k, and free the record. */
  private pop(k: number): void {
    this.recFn[k] = undefined as unknown as EventFn;
    this.rec[k * 4 + 3] = this.freeRec;
    this.freeRec = k;
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.heap[last]!);
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
