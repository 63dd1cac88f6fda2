/**
 * A deterministic discrete-event scheduler over virtual nanoseconds. Everything in the simulator that takes time
 * (workload ticks, I/O completion, kswapd, kcompactd, sleeping tasks) is an event here; nothing reads wall-clock
 * time. Events fire in (time, sequence) order: two events for the same nanosecond fire in the order they were
 * scheduled, so a run depends only on its inputs.
 *
 * The queue has three tiers, all in typed arrays (no object per event): the current time slot's events (a sorted
 * run, and a small binary heap for those scheduled into the slot while it fires), a calendar of the next slots
 * (one list per slot), and a binary heap of the later events, which move to the calendar as time comes near them.
 * Scheduling costs no allocation once the arrays have grown, and each event costs a few steps however many wait.
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
  // The current slot (floor(time / width) = `cur`) is served from two places, earliest first:
  // - the run: the slot's calendar events, sorted by (time, seq) when the slot became current, consumed in order;
  // - the heap: a binary min-heap on (time, seq) of the events scheduled for the current slot (or an earlier one)
  //   after it became current, and of a slot whose events were too many or too unordered to sort.
  // A heap event scheduled after the run was made has a higher seq than every run event: at equal times the run
  // goes first. Both keep each event as (time, seq, arg) in parallel typed arrays and its callback in an array.
  private runT: Float64Array = new Float64Array(64);
  private runS: Float64Array = new Float64Array(64);
  private runA: Float64Array = new Float64Array(64);
  private runF: EventFn[] = packedArray(64);
  private runPos = 0;
  private runEnd = 0;
  private size = 0;
  private hT: Float64Array = new Float64Array(256);
  private hS: Float64Array = new Float64Array(256);
  private hA: Float64Array = new Float64Array(256);
  private hF: EventFn[] = [];
  // Later events are records: (time, seq, arg) in `rec` at k * 4 (4 doubles a record: two to a cache line), the
  // callback in `recFn` and the next record of its list in `recNext`. The lists live in their own small array, so that walking one stays in
  // cache and the records' own (cold) lines are loaded side by side, not one after the other. Freed records form
  // a LIFO list, so a new event reuses a warm one.
  private rec: Float64Array = new Float64Array(1024 * 4);
  private recNext: Int32Array = new Int32Array(1024);
  private recFn: EventFn[] = [];
  private freeRec = -1;
  private recsUsed = 0;
  // The calendar: the events of the slots cur+1 .. cur+nBuckets-1 (up to `limit`), in bucket slot mod nBuckets,
  // so that a bucket only ever holds one slot's events, as a list of records (newest first). When the run and
  // heap are empty, `cur` advances to the next slot and its bucket becomes the run. Slots are monotone in time,
  // so every event of the current slot is earlier than every calendar event, and equal times share a slot: the
  // firing order is exactly (time, seq), whatever the width.
  private cur = -1;
  private limit = 1024 - 2;
  private width = NSEC_PER_USEC * 64;
  private invWidth = 1 / (NSEC_PER_USEC * 64);
  private nBuckets = 1024;
  private mask = 1023;
  /** Per bucket: [first record of its list, number of records]. */
  private heads: Int32Array = emptyBuckets(1024);
  private nearCount = 0;
  // The far tier: the records of slots beyond `limit` (Infinity included), in a binary min-heap on time over
  // parallel arrays (time, record). As `cur` advances, the events entering the calendar's window move there.
  private farN = 0;
  private farT: Float64Array = new Float64Array(256);
  private farK: Int32Array = new Int32Array(256);
  // statistics of the last ADAPT_EVERY refills, for the adaptation of width and bucket count
  private refills = 0;
  private movedSum = 0;
  private crowded = 0;
  private empties = 0;
  private directs = 0;

  /** Number of events waiting. */
  get pending(): number {
    return this.runEnd - this.runPos + this.size + this.nearCount + this.farN;
  }

  /** Time of the next event, or Infinity when none is queued. */
  peekTime(): number {
    if (this.runPos === this.runEnd && this.size === 0 && !this.refill()) return Infinity;
    const rt = this.runPos < this.runEnd ? this.runT[this.runPos]! : Infinity;
    return this.size > 0 && this.hT[0]! < rt ? this.hT[0]! : rt;
  }

  /** Schedule `fn(at, arg)` at absolute virtual time `atNs` (clamped to now: the past cannot be scheduled). */
  schedule(atNs: number, fn: EventFn, arg = 0): void {
    const t = atNs < this.now ? this.now : atNs;
    const s = this.seq++;
    const slot = Math.floor(t * this.invWidth);
    if (slot <= this.cur) { this.push(t, s, arg, fn); this.directs++; return; }
    let k = this.freeRec;
    let d = this.rec;
    if (k >= 0) this.freeRec = this.recNext[k]!;
    else {
      k = this.recsUsed++;
      if (k * 4 === d.length) d = this.growRecs();
    }
    const k4 = k * 4;
    d[k4] = t;
    d[k4 + 1] = s;
    d[k4 + 2] = arg;
    this.recFn[k] = fn;
    if (slot <= this.limit) {
      const h = this.heads, b2 = (slot & this.mask) << 1;
      this.recNext[k] = h[b2]!;
      h[b2] = k;
      h[b2 + 1]++;
      this.nearCount++;
    } else this.farPush(t, k);
  }

  private growRecs(): Float64Array {
    const d = new Float64Array(this.rec.length * 2);
    d.set(this.rec);
    const nx = new Int32Array(this.recNext.length * 2);
    nx.set(this.recNext);
    this.recNext = nx;
    return (this.rec = d);
  }

  /** Sift a new event up into the heap. Its seq is the highest of all: it stays below equal times. */
  private push(t: number, s: number, arg: number, fn: EventFn): void {
    if (this.size === this.hT.length) this.growHeap(this.size * 2);
    const ht = this.hT, hs = this.hS, ha = this.hA, hf = this.hF;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ht[p]!;
      if (pt <= t) break;
      ht[i] = pt;
      hs[i] = hs[p]!;
      ha[i] = ha[p]!;
      hf[i] = hf[p]!;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    ha[i] = arg;
    hf[i] = fn;
  }

  private growHeap(n: number): void {
    const m = this.size;
    const ht = new Float64Array(n); ht.set(this.hT.subarray(0, m)); this.hT = ht;
    const hs = new Float64Array(n); hs.set(this.hS.subarray(0, m)); this.hS = hs;
    const ha = new Float64Array(n); ha.set(this.hA.subarray(0, m)); this.hA = ha;
  }

  /** Remove the heap's earliest event (read it first). */
  private popHeap(): void {
    const last = --this.size;
    const hf = this.hF;
    if (last > 0) this.siftDown(0, this.hT[last]!, this.hS[last]!, this.hA[last]!, hf[last]!);
    hf[last] = undefined as unknown as EventFn;
  }

  /** Place an event at heap index i or below (the heap below i is in order). */
  private siftDown(i: number, t: number, s: number, arg: number, fn: EventFn): void {
    const ht = this.hT, hs = this.hS, ha = this.hA, hf = this.hF, n = this.size;
    const half = n >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let ct = ht[c]!;
      let cs = hs[c]!;
      if (c + 1 < n) {
        const rt = ht[c + 1]!;
        if (rt < ct || (rt === ct && hs[c + 1]! < cs)) { c++; ct = rt; cs = hs[c]!; }
      }
      if (t < ct || (t === ct && s < cs)) break;
      ht[i] = ct;
      hs[i] = cs;
      ha[i] = ha[c]!;
      hf[i] = hf[c]!;
      i = c;
    }
    ht[i] = t;
    hs[i] = s;
    ha[i] = arg;
    hf[i] = fn;
  }

  /** The heap holds `size` events in any order: put them in heap order. */
  private heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i, this.hT[i]!, this.hS[i]!, this.hA[i]!, this.hF[i]!);
  }

  private freeRecord(k: number): void {
    this.recFn[k] = undefined as unknown as EventFn;
    this.recNext[k] = this.freeRec;
    this.freeRec = k;
  }

  private farPush(t: number, k: number): void {
    if (t !== t) t = Infinity; // a NaN time (a caller's bug) waits with the events beyond any slot
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

  /** The run and the heap are empty: make the next slot's events the run. False when nothing waits. */
  private refill(): boolean {
    if (this.nearCount === 0) {
      if (this.farN === 0) return false;
      if (!(Math.floor(this.farT[0]! * this.invWidth) < MAX_SLOT)) {
        // only events beyond any slot remain: they go to the heap, and so does everything scheduled from now on
        const n = this.farN;
        if (n > this.hT.length) this.growHeap(n);
        const d = this.rec;
        for (let i = 0; i < n; i++) {
          const k = this.farK[i]!;
          this.hT[i] = d[k * 4]!;
          this.hS[i] = d[k * 4 + 1]!;
          this.hA[i] = d[k * 4 + 2]!;
          this.hF[i] = this.recFn[k]!;
          this.freeRecord(k);
        }
        this.size = n;
        this.farN = 0;
        this.heapify();
        this.cur = Infinity;
        this.limit = Infinity;
        return true;
      }
    }
    if (++this.refills === ADAPT_EVERY) this.adapt();
    const heads = this.heads, mask = this.mask, invWidth = this.invWidth;
    let cur = this.cur;
    let b2: number;
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
        const k = this.farPop();
        const b2 = (Math.floor(this.rec[k * 4]! * invWidth) & mask) << 1;
        this.recNext[k] = heads[b2]!;
        heads[b2] = k;
        heads[b2 + 1]++;
        this.nearCount++;
      }
      b2 = (cur & mask) << 1;
      if (heads[b2]! >= 0) break;
      this.empties++;
    }
    this.cur = cur;
    const head = heads[b2]!, n = heads[b2 + 1]!;
    heads[b2] = -1;
    heads[b2 + 1] = 0;
    // the bucket's list (newest first), placed from the end, is the run in scheduling order; its records are free
    if (n > this.runT.length) this.growRun(n);
    const d = this.rec, fns = this.recFn, next = this.recNext;
    const rt = this.runT, rs = this.runS, ra = this.runA, rf = this.runF;
    let free = this.freeRec;
    for (let k = head, i = n - 1; k >= 0; i--) {
      const k4 = k * 4;
      rt[i] = d[k4]!;
      rs[i] = d[k4 + 1]!;
      ra[i] = d[k4 + 2]!;
      rf[i] = fns[k]!;
      fns[k] = undefined as unknown as EventFn;
      const nx = next[k]!;
      next[k] = free;
      free = k;
      k = nx;
    }
    this.freeRec = free;
    this.nearCount -= n;
    this.movedSum += n;
    // insertion sort by (time, seq): cheap for a few events or for events mostly in order (a burst at one
    // instant); past a budget of moves the slot goes to the heap instead
    let budget = 4 * n + 16;
    for (let i = 1; i < n; i++) {
      const t = rt[i]!;
      if (rt[i - 1]! < t) continue;
      const s = rs[i]!, a = ra[i]!, f = rf[i]!;
      let j = i - 1;
      for (; j >= 0; j--) {
        const tj = rt[j]!;
        if (tj < t || (tj === t && rs[j]! < s)) break;
        rt[j + 1] = tj;
        rs[j + 1] = rs[j]!;
        ra[j + 1] = ra[j]!;
        rf[j + 1] = rf[j]!;
      }
      rt[j + 1] = t;
      rs[j + 1] = s;
      ra[j + 1] = a;
      rf[j + 1] = f;
      budget -= i - j;
      if (budget < 0) {
        if (n > this.hT.length) this.growHeap(n);
        this.hT.set(rt.subarray(0, n));
        this.hS.set(rs.subarray(0, n));
        this.hA.set(ra.subarray(0, n));
        for (let x = 0; x < n; x++) this.hF[x] = rf[x]!;
        this.size = n;
        this.heapify();
        this.runPos = this.runEnd = 0;
        this.crowded++;
        return true;
      }
    }
    if (n > 8 && rt[0] !== rt[n - 1]) this.crowded++;
    this.runPos = 0;
    this.runEnd = n;
    return true;
  }

  private growRun(n: number): void {
    let m = this.runT.length;
    while (m < n) m *= 2;
    const rt = new Float64Array(m); rt.set(this.runT); this.runT = rt;
    const rs = new Float64Array(m); rs.set(this.runS); this.runS = rs;
    const ra = new Float64Array(m); ra.set(this.runA); this.runA = ra;
    while (this.runF.length < m) this.runF.push(undefined as unknown as EventFn);
  }

  /** Keep a slot at a handful of events and the buckets about as many as the events waiting (run and heap empty). */
  private adapt(): void {
    const moved = this.movedSum, crowded = this.crowded, empties = this.empties, directs = this.directs;
    this.refills = this.movedSum = this.crowded = this.empties = this.directs = 0;
    const waiting = this.nearCount + this.farN;
    let width = this.width;
    let nb = this.nBuckets;
    // narrower when most slots hold many distinct times, or when most events land in the current slot; wider when
    // slots are mostly empty
    if (crowded > ADAPT_EVERY / 2 || directs > 8 * ADAPT_EVERY && directs > moved) width /= 2;
    else if (moved + directs < 2 * ADAPT_EVERY && empties > 8 * ADAPT_EVERY) width *= 2;
    while (waiting > 2 * nb) nb *= 2;
    if (width === this.width && nb === this.nBuckets) return;
    if (!(width > 0 && width < Infinity)) return;
    // every waiting event, re-placed under the new width and bucket count
    const d = this.rec;
    const all: number[] = [];
    for (let i = 0; i < this.farN; i++) all.push(this.farK[i]!);
    // each bucket oldest first, so that a new bucket lists the events of one old bucket newest first
    for (let b = 0; b < this.nBuckets; b++) {
      const from = all.length;
      for (let k = this.heads[2 * b]!; k >= 0; k = this.recNext[k]!) all.push(k);
      for (let i = from, j = all.length - 1; i < j; i++, j--) { const x = all[i]!; all[i] = all[j]!; all[j] = x; }
    }
    const invWidth = 1 / width;
    let m = Infinity;
    for (const k of all) { const slot = Math.floor(d[k * 4]! * invWidth); if (slot < m) m = slot; }
    if (!(m < MAX_SLOT)) return;
    this.width = width;
    this.invWidth = invWidth;
    this.nBuckets = nb;
    this.mask = nb - 1;
    this.heads = emptyBuckets(nb);
    // the run and heap are empty: the current slot becomes the one before the earliest waiting
    this.cur = m - 1;
    this.limit = this.cur + nb - 1;
    this.nearCount = 0;
    this.farN = 0;
    for (const k of all) {
      const slot = Math.floor(d[k * 4]! * invWidth);
      if (slot <= this.limit) {
        const b2 = (slot & this.mask) << 1;
        this.recNext[k] = this.heads[b2]!;
        this.heads[b2] = k;
        this.heads[b2 + 1]++;
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
      const rp = this.runPos;
      let t: number, fn: EventFn, arg: number;
      if (rp < this.runEnd && !(this.size > 0 && this.hT[0]! < this.runT[rp]!)) {
        t = this.runT[rp]!;
        if (t > endNs) break;
        this.runPos = rp + 1;
        fn = this.runF[rp]!;
        arg = this.runA[rp]!;
      } else if (this.size > 0) {
        t = this.hT[0]!;
        if (t > endNs) break;
        fn = this.hF[0]!;
        arg = this.hA[0]!;
        this.popHeap();
      } else if (this.refill()) continue;
      else break;
      this.now = t;
      n++;
      fn(t, arg);
      if (this.stopped) break;
    }
    this.fired += n;
    if (this.stopped) return n;
    if (endNs > this.now) this.now = endNs;
    return n;
  }

  /** Fire the single earliest event, if any. Returns false when the queue is empty. */
  step(): boolean {
    if (this.runPos === this.runEnd && this.size === 0 && !this.refill()) return false;
    const rp = this.runPos;
    let t: number, fn: EventFn, arg: number;
    if (rp < this.runEnd && !(this.size > 0 && this.hT[0]! < this.runT[rp]!)) {
      t = this.runT[rp]!;
      fn = this.runF[rp]!;
      arg = this.runA[rp]!;
      this.runPos = rp + 1;
    } else {
      t = this.hT[0]!;
      fn = this.hF[0]!;
      arg = this.hA[0]!;
      this.popHeap();
    }
    this.now = t;
    this.fired++;
    fn(t, arg);
    return true;
  }
}

/** Refills between two looks at the calendar's width and bucket count. */
const ADAPT_EVERY = 64;
/** Slot numbers stay exact integers below this. */
const MAX_SLOT = 2 ** 52;

/** An array of n undefined callbacks (packed: filled from its end without holes). */
function packedArray(n: number): EventFn[] {
  const a: EventFn[] = [];
  for (let i = 0; i < n; i++) a.push(undefined as unknown as EventFn);
  return a;
}

/** n empty buckets: [no first record, no records] each. */
function emptyBuckets(n: number): Int32Array {
  const h = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i += 2) h[i] = -1;
  return h;
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
