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
  // Every waiting event is a record: 4 doubles in `rec` (time, seq, arg, next free record) and its callback in
  // `recFn`, from schedule() until it fires. Freed records form a LIFO list, so a new event reuses a warm one.
  private rec: Float64Array = new Float64Array(1024 * 4);
  private recFn: EventFn[] = [];
  private freeRec = -1;
  private recsUsed = 0;
  // The current slot (floor(time / width) = `cur`) is served from two places, earliest first:
  // - the run: the slot's calendar events, sorted by (time, seq) when the slot became current, consumed in order;
  // - the heap: a binary min-heap on (time, seq) over parallel arrays, of the events scheduled for the current slot
  //   (or an earlier one) after it became current, and of a slot whose events were too many or too unordered to sort.
  // A heap event scheduled after the run was made has a higher seq than every run event: at equal times the run
  // goes first.
  private runT: Float64Array = new Float64Array(64);
  private runK: Int32Array = new Int32Array(64);
  private runA: Float64Array = new Float64Array(64);
  private runF: EventFn[] = [];
  private runPos = 0;
  private runEnd = 0;
  private size = 0;
  private hT: Float64Array = new Float64Array(256);
  private hK: Int32Array = new Int32Array(256);
  // The calendar: the events of the slots cur+1 .. cur+nBuckets-1 (up to `limit`), in bucket slot mod nBuckets,
  // so that a bucket only ever holds one slot's events. A bucket is a chain of chunks of CHUNK record numbers
  // (head chunk first, filled `fill` of CHUNK; `buckets` holds [head, fill] pairs): a slot's events are read
  // from a few contiguous chunks, not chased through a list. When the run and heap are empty, `cur` advances to
  // the next slot and its bucket becomes the run. Slots are monotone in time, so every event of the current slot
  // is earlier than every calendar event, and equal times share a slot: the firing order is exactly (time, seq),
  // whatever the width.
  private cur = -1;
  private limit = 1024 - 2;
  private width = NSEC_PER_USEC * 64;
  private invWidth = 1 / (NSEC_PER_USEC * 64);
  private nBuckets = 1024;
  private mask = 1023;
  private buckets: Int32Array = emptyBuckets(1024);
  private nearCount = 0;
  private chunkK: Int32Array = new Int32Array(256 * CHUNK);
  private chunkNext: Int32Array = new Int32Array(256);
  private freeChunk = -1;
  private chunksUsed = 0;
  // The far tier: the events of slots beyond `limit` (Infinity included), a binary min-heap on time over
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
  private fars = 0;

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
    if (slot <= this.cur) { this.push(t, k); this.directs++; }
    else if (slot <= this.limit) this.bucketAdd(slot & this.mask, k);
    else { this.farPush(t, k); this.fars++; }
  }

  private growRecs(): Float64Array {
    const d = new Float64Array(this.rec.length * 2);
    d.set(this.rec);
    return (this.rec = d);
  }

  /** Append record k to bucket b. */
  private bucketAdd(b: number, k: number): void {
    const bk = this.buckets, b2 = b << 1;
    let c = bk[b2]!;
    let f = bk[b2 + 1]!;
    if (f === CHUNK) {
      // the head chunk is full (or the bucket empty): a new head chunk
      let n = this.freeChunk;
      if (n >= 0) this.freeChunk = this.chunkNext[n]!;
      else {
        n = this.chunksUsed++;
        if (n === this.chunkNext.length) this.growChunks();
      }
      this.chunkNext[n] = c;
      bk[b2] = c = n;
      f = 0;
    }
    this.chunkK[c * CHUNK + f] = k;
    bk[b2 + 1] = f + 1;
    this.nearCount++;
  }

  private growChunks(): void {
    const n = this.chunkNext.length * 2;
    const nx = new Int32Array(n); nx.set(this.chunkNext); this.chunkNext = nx;
    const ck = new Int32Array(n * CHUNK); ck.set(this.chunkK); this.chunkK = ck;
  }

  /** Sift a new event (time t, record k) up into the heap. Its seq is the highest of all: it stays below equal times. */
  private push(t: number, k: number): void {
    if (this.size === this.hT.length) this.growHeap(this.size * 2);
    const ht = this.hT, hk = this.hK;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ht[p]!;
      if (pt <= t) break;
      ht[i] = pt;
      hk[i] = hk[p]!;
      i = p;
    }
    ht[i] = t;
    hk[i] = k;
  }

  private growHeap(n: number): void {
    const ht = new Float64Array(n); ht.set(this.hT.subarray(0, this.size)); this.hT = ht;
    const hk = new Int32Array(n); hk.set(this.hK.subarray(0, this.size)); this.hK = hk;
  }

  /** Remove the heap's earliest event; returns its record. */
  private popHeap(): number {
    const top = this.hK[0]!;
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.hT[last]!, this.hK[last]!);
    return top;
  }

  /** Place (t, k) at heap index i or below (the heap below i is in order). */
  private siftDown(i: number, t: number, k: number): void {
    const ht = this.hT, hk = this.hK, d = this.rec, n = this.size;
    const half = n >> 1;
    while (i < half) {
      let c = 2 * i + 1;
      let ct = ht[c]!;
      if (c + 1 < n) {
        const rt = ht[c + 1]!;
        if (rt < ct || (rt === ct && d[hk[c + 1]! * 4 + 1]! < d[hk[c]! * 4 + 1]!)) { c++; ct = rt; }
      }
      if (t < ct || (t === ct && d[k * 4 + 1]! < d[hk[c]! * 4 + 1]!)) break;
      ht[i] = ct;
      hk[i] = hk[c]!;
      i = c;
    }
    ht[i] = t;
    hk[i] = k;
  }

  /** The heap holds `size` events in any order: put them in heap order. */
  private heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i, this.hT[i]!, this.hK[i]!);
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

  /** The run and the heap are empty: make the next slot's events the run. False when nothing waits. */
  private refill(): boolean {
    if (this.nearCount === 0) {
      if (this.farN === 0) return false;
      if (!(Math.floor(this.farT[0]! * this.invWidth) < MAX_SLOT)) {
        // only events beyond any slot remain: they go to the heap, and so does everything scheduled from now on
        const n = this.farN;
        if (n > this.hT.length) this.growHeap(n);
        this.hT.set(this.farT.subarray(0, n));
        this.hK.set(this.farK.subarray(0, n));
        this.size = n;
        this.farN = 0;
        this.heapify();
        this.cur = Infinity;
        this.limit = Infinity;
        return true;
      }
    }
    if (++this.refills === ADAPT_EVERY) this.adapt();
    const bk = this.buckets, mask = this.mask, invWidth = this.invWidth;
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
        const f = this.farPop();
        this.bucketAdd(Math.floor(this.rec[f * 4]! * invWidth) & mask, f);
      }
      b2 = (cur & mask) << 1;
      if (bk[b2]! >= 0) break;
      this.empties++;
    }
    this.cur = cur;
    // the bucket's chunks, newest first, give the run in scheduling order (oldest chunk first)
    const head = bk[b2]!, fill = bk[b2 + 1]!;
    bk[b2] = -1;
    bk[b2 + 1] = CHUNK;
    const next = this.chunkNext, ck = this.chunkK;
    let n = fill;
    for (let c = next[head]!; c >= 0; c = next[c]!) n += CHUNK;
    if (n > this.runK.length) this.growRun(n);
    const rk = this.runK, rt = this.runT, d = this.rec;
    let end = n, cnt = fill;
    for (let c = head; c >= 0;) {
      end -= cnt;
      for (let i = 0, base = c * CHUNK; i < cnt; i++) rk[end + i] = ck[base + i]!;
      const nx = next[c]!;
      next[c] = this.freeChunk;
      this.freeChunk = c;
      c = nx;
      cnt = CHUNK;
    }
    for (let i = 0; i < n; i++) rt[i] = d[rk[i]! * 4]!;
    this.nearCount -= n;
    this.movedSum += n;
    // insertion sort by (time, seq): cheap for a few events or for events mostly in order (a burst at one
    // instant); past a budget of moves the slot goes to the heap instead
    let budget = 4 * n + 16;
    for (let i = 1; i < n; i++) {
      const t = rt[i]!;
      if (rt[i - 1]! < t) continue;
      const k = rk[i]!;
      const s = d[k * 4 + 1]!;
      let j = i - 1;
      for (; j >= 0; j--) {
        const tj = rt[j]!;
        if (tj < t || (tj === t && d[rk[j]! * 4 + 1]! < s)) break;
        rt[j + 1] = tj;
        rk[j + 1] = rk[j]!;
      }
      rt[j + 1] = t;
      rk[j + 1] = k;
      budget -= i - j;
      if (budget < 0) {
        if (n > this.hT.length) this.growHeap(n);
        this.hT.set(rt.subarray(0, n));
        this.hK.set(rk.subarray(0, n));
        this.size = n;
        this.heapify();
        this.runPos = this.runEnd = 0;
        this.crowded++;
        return true;
      }
    }
    if (n > 8 && rt[0] !== rt[n - 1]) this.crowded++;
    // the run carries each event's callback and arg, and the records are free again
    const ra = this.runA, rf = this.runF, fns = this.recFn;
    let free = this.freeRec;
    for (let i = 0; i < n; i++) {
      const k = rk[i]!;
      ra[i] = d[k * 4 + 2]!;
      rf[i] = fns[k]!;
      fns[k] = undefined as unknown as EventFn;
      d[k * 4 + 3] = free;
      free = k;
    }
    this.freeRec = free;
    this.runPos = 0;
    this.runEnd = n;
    return true;
  }

  private growRun(n: number): void {
    let m = this.runK.length;
    while (m < n) m *= 2;
    this.runK = new Int32Array(m);
    this.runT = new Float64Array(m);
    this.runA = new Float64Array(m);
  }

  /** Keep a slot at a handful of events and the buckets about as many as the events waiting (run and heap empty). */
  private adapt(): void {
    const moved = this.movedSum, crowded = this.crowded, empties = this.empties, directs = this.directs, fars = this.fars;
    this.refills = this.movedSum = this.crowded = this.empties = this.directs = this.fars = 0;
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
    const d = this.rec, bk = this.buckets, next = this.chunkNext, ck = this.chunkK;
    const all: number[] = [];
    for (let b = 0; b < this.nBuckets; b++) {
      for (let c = bk[2 * b]!, cnt = bk[2 * b + 1]!; c >= 0; c = next[c]!, cnt = CHUNK) {
        for (let i = 0; i < cnt; i++) all.push(ck[c * CHUNK + i]!);
      }
    }
    for (let i = 0; i < this.farN; i++) all.push(this.farK[i]!);
    const invWidth = 1 / width;
    let m = Infinity;
    for (const k of all) { const slot = Math.floor(d[k * 4]! * invWidth); if (slot < m) m = slot; }
    if (!(m < MAX_SLOT)) return;
    this.width = width;
    this.invWidth = invWidth;
    this.nBuckets = nb;
    this.mask = nb - 1;
    this.buckets = emptyBuckets(nb);
    this.freeChunk = -1;
    this.chunksUsed = 0;
    // the run and heap are empty: the current slot becomes the one before the earliest waiting
    this.cur = m - 1;
    this.limit = this.cur + nb - 1;
    this.nearCount = 0;
    this.farN = 0;
    for (const k of all) {
      const slot = Math.floor(d[k * 4]! * invWidth);
      if (slot <= this.limit) this.bucketAdd(slot & this.mask, k);
      else this.farPush(d[k * 4]!, k);
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
      let t: number, k: number;
      if (rp < this.runEnd) {
        t = this.runT[rp]!;
        if (this.size > 0 && this.hT[0]! < t) {
          t = this.hT[0]!;
          if (t > endNs) break;
          k = this.popHeap();
        } else {
          if (t > endNs) break;
          this.runPos = rp + 1;
          const fn = this.runF[rp]!;
          this.now = t;
          n++;
          fn(t, this.runA[rp]!);
          if (this.stopped) break;
          continue;
        }
      } else if (this.size > 0) {
        t = this.hT[0]!;
        if (t > endNs) break;
        k = this.popHeap();
      } else if (this.refill()) continue;
      else break;
      const fn = this.recFn[k]!;
      const arg = this.release(k);
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
    const t = this.peekTime();
    if (t === Infinity && this.pending === 0) return false;
    let fn: EventFn, arg: number;
    const rp = this.runPos;
    if (rp < this.runEnd && !(this.size > 0 && this.hT[0]! < this.runT[rp]!)) {
      fn = this.runF[rp]!;
      arg = this.runA[rp]!;
      this.runPos = rp + 1;
    } else {
      const k = this.popHeap();
      fn = this.recFn[k]!;
      arg = this.release(k);
    }
    this.now = t;
    this.fired++;
    fn(t, arg);
    return true;
  }

  /** Free record k; returns its arg. */
  private release(k: number): number {
    this.recFn[k] = undefined as unknown as EventFn;
    const d = this.rec;
    d[k * 4 + 3] = this.freeRec;
    this.freeRec = k;
    return d[k * 4 + 2]!;
  }
}

/** Record numbers per calendar chunk. */
const CHUNK = 8;
/** Refills between two looks at the calendar's width and bucket count. */
const ADAPT_EVERY = 64;
const MAX_BUCKETS = 1 << 20;
/** Slot numbers stay exact integers below this. */
const MAX_SLOT = 2 ** 52;

/** n empty buckets: no head chunk, and a fill of CHUNK (so that the first event takes a new chunk). */
function emptyBuckets(n: number): Int32Array {
  const bk = new Int32Array(2 * n);
  for (let i = 0; i < 2 * n; i += 2) { bk[i] = -1; bk[i + 1] = CHUNK; }
  return bk;
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
