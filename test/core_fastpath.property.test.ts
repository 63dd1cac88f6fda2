/**
 * The fast paths (order 0 and order > 0: pcp orders 1..3 and pageblock_order, buddy orders from the
 * request's own lists) against the general get_page_from_freelist path: the same random mixed-order
 * sequence runs on two identical machines, one with `setFastPaths(false)`. After every step both pass
 * verify(), return the same pfn, and hold the same state: every page descriptor, list link, zone and
 * pcp counter, generation, the kmem tracepoints fired, and the counters as /proc/vmstat and zoneinfo
 * read them (vmEvents, zoneNumaStats, buddyinfo, labyrinthCounters: Float64 totals plus the per-CPU
 * Int32 counters the fast paths move). A second test folds per-CPU counters at the overflow point.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smallSpec } from './_machine.ts';
import { verify } from '../src/debug/verify.ts';
import { computeZoneSetup } from '../src/zone/setup.ts';
import { PageAllocator } from '../src/alloc/page_alloc.ts';
import { CPU_EV_FOLD_AT, Z_BOOST, type KmemTracepoints } from '../src/mm/memmap.ts';
import {
  GFP_ATOMIC, GFP_DMA, GFP_DMA32, GFP_HIGHUSER_MOVABLE, GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_NOWARN,
  __GFP_RECLAIMABLE,
} from '../src/gfp/bits.ts';
import { mulberry32 } from './_rng.ts';

const GFPS = [
  GFP_KERNEL, GFP_KERNEL, GFP_HIGHUSER_MOVABLE, GFP_HIGHUSER_MOVABLE, GFP_ATOMIC, GFP_NOWAIT, GFP_DMA, GFP_DMA32,
  GFP_KERNEL | __GFP_RECLAIMABLE, GFP_KERNEL | __GFP_COMP, GFP_HIGHUSER_MOVABLE | __GFP_COMP, GFP_ATOMIC | __GFP_COMP,
].map((g) => g | __GFP_NOWARN);


/** Records every tracepoint as one line. */
function recorder(log: string[]): KmemTracepoints {
  return {
    pageAlloc: (pfn, order, gfp, mt) => { log.push(`alloc ${pfn} ${order} ${gfp} ${mt}`); },
    pageFree: (pfn, order) => { log.push(`free ${pfn} ${order}`); },
    pageFreeBatched: (pfn) => { log.push(`batched ${pfn}`); },
    pageAllocZoneLocked: (pfn, order, mt, refill) => { log.push(`zone_locked ${pfn} ${order} ${mt} ${refill}`); },
    pagePcpuDrain: (pfn, order, mt) => { log.push(`drain ${pfn} ${order} ${mt}`); },
    pageAllocExtfrag: (pfn, ao, fo, am, fm, c) => { log.push(`extfrag ${pfn} ${ao} ${fo} ${am} ${fm} ${c}`); },
  };
}

function machine(pcpThp: boolean): PageAllocator {
  // DMA 16 MiB + DMA32 32 MiB, two CPUs: orders up to 10 and pageblock-order pcp pages fit
  const spec = smallSpec({ dma32Pages: 8192, nrCpus: 2, minFreeKbytes: 512 });
  return PageAllocator.create({ spec, watermarks: computeZoneSetup(spec).zones, pcpThp });
}

/** Everything a reader can see, except the raw event region (whose layout the counters' readers own). */
function sameState(fast: PageAllocator, slow: PageAllocator, where: string): void {
  const f = fast.mm;
  const s = slow.mm;
  const arrays = ['ints', 'next', 'prev', 'refcount', 'flags', 'order', 'pbmt'] as const;
  for (const k of arrays) {
    // the per-CPU event counters (the tail of `ints`) differ by design: they are compared as sums below
    const x = k === 'ints' ? f.ints.subarray(0, f.cpuEvBase) : f[k];
    const y = k === 'ints' ? s.ints.subarray(0, s.cpuEvBase) : s[k];
    const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
    const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
    if (Buffer.compare(bx, by) !== 0) {
      let i = 0;
      while (i < x.length && x[i] === y[i]) i++;
      assert.fail(`${where}: ${k}[${i}] is ${x[i]} with the fast paths and ${y[i]} without`);
    }
  }
  assert.deepEqual(fast.vmEvents(), slow.vmEvents(), `${where}: vmstat events`);
  assert.deepEqual(fast.labyrinthCounters(), slow.labyrinthCounters(), `${where}: labyrinth counters`);
  for (let z = 0; z < fast.nrZones; z++) {
    assert.deepEqual(fast.zoneNumaStats(z), slow.zoneNumaStats(z), `${where}: numa stats of zone ${z}`);
    assert.deepEqual(fast.buddyinfo(z), slow.buddyinfo(z), `${where}: buddyinfo of zone ${z}`);
  }
}

function run(seed: number, steps: number, pcpThp: boolean): void {
  const rnd = mulberry32(seed);
  const fast = machine(pcpThp);
  const slow = machine(pcpThp);
  slow.setFastPaths(false);
  const logF: string[] = [];
  const logS: string[] = [];
  fast.setTracer(recorder(logF));
  slow.setTracer(recorder(logS));
  const held: Array<{ pfn: number; order: number }> = [];
  let heldPages = 0;
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} thp ${pcpThp} step ${step}`;
    const r = rnd();
    const cpu = rnd() < 0.5 ? 0 : 1;
    // fill up to the watermarks and beyond, then drain back: both sides of every watermark test
    const fill = heldPages < 9000 ? 0.6 : 0.35;
    if (r < fill) {
      const ro = rnd();
      const order = ro < 0.3 ? 0 : ro < 0.6 ? 1 + Math.floor(rnd() * 3) : ro < 0.75 ? 9 : Math.floor(rnd() * 11);
      const gfp = GFPS[Math.floor(rnd() * GFPS.length)]!;
      const p = fast.alloc_pages(gfp, order, cpu);
      const q = slow.alloc_pages(gfp, order, cpu);
      assert.equal(p, q, `${where}: alloc_pages(0x${gfp.toString(16)}, ${order}) with and without the fast paths`);
      if (p >= 0) {
        held.push({ pfn: p, order });
        heldPages += 1 << order;
      } else {
        assert.deepEqual(fast.allocFailure(), slow.allocFailure(), `${where}: failure`);
      }
    } else if (r < 0.97 && held.length > 0) {
      const i = Math.floor(rnd() * held.length);
      const h = held[i]!;
      held[i] = held[held.length - 1]!;
      held.pop();
      heldPages -= 1 << h.order;
      fast.__free_pages(h.pfn, h.order, cpu);
      slow.__free_pages(h.pfn, h.order, cpu);
    } else if (r < 0.99) {
      fast.drain_local_pages(cpu);
      slow.drain_local_pages(cpu);
    } else {
      // a boosted watermark (as after a fallback steal) and back
      const z = Math.floor(rnd() * fast.nrZones);
      const wm = fast.watermarks(z);
      const boost = rnd() < 0.5 ? 0 : 64;
      for (const a of [fast, slow]) a.mm.ints[a.mm.zf(z, Z_BOOST)] = boost;
      assert.equal(fast.watermarks(z).boost, boost, `${where}: boost set`);
      assert.ok(wm.min >= 0);
    }
    try {
      verify(fast);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    sameState(fast, slow, where);
    assert.equal(logF.length, logS.length, `${where}: tracepoints fired`);
    for (let k = 0; k < logF.length; k++) assert.equal(logF[k], logS[k], `${where}: tracepoint ${k}`);
    logF.length = 0;
    logS.length = 0;
  }
}

test('fast_paths_equal_the_general_path_on_random_mixed_order_sequences (verify after each step)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.boolean(), (seed, thp) => {
    try {
      run(seed, 600, thp);
    } catch (e) {
      console.error(`fast-path property test failed: ${(e as Error).message}`);
      throw e;
    }
  }), { numRuns: 40 });
});

test('per_cpu_event_counters_fold_into_the_totals_before_they_overflow_and_readers_stay_exact', () => {
  const a = machine(true);
  const m = a.mm;
  const held: number[] = [];
  for (let i = 0; i < 300; i++) held.push(a.alloc_pages(GFP_KERNEL, i % 4, i & 1));
  for (let i = 0; i < held.length; i += 2) a.__free_pages(held[i]!, i % 4, 1);
  const before = a.vmEvents();
  const calls = a.labyrinthCounters().allocCalls;
  // an explicit fold changes no reader's number
  m.foldCpuEvents(0);
  assert.deepEqual(a.vmEvents(), before);
  assert.equal(a.labyrinthCounters().allocCalls, calls);
  for (let i = 0; i < m.cpuEvStride; i++) assert.equal(m.ints[m.cpuEvBase + i], 0, 'CPU 0 counters folded to 0');
  // CPU 1's order-0 allocation counter of the preferred zone and its order-0 free counter two short of the
  // fold point: those counts are part of the totals; 5 pairs later they were folded and every total is exact
  const z = a.zonelist(0)[0]!;
  const ai = m.cpuEvBase + m.cpuEvStride + z * 11;
  const fi = m.cpuEvBase + m.cpuEvStride + m.cpuEvFreeOff;
  m.ints[ai] = CPU_EV_FOLD_AT - 2;
  m.ints[fi] = CPU_EV_FOLD_AT - 2;
  const zname = ['dma', 'dma32', 'normal'][a.zone(z).type]!;
  const start = a.vmEvents();
  assert.equal(start[`pgalloc_${zname}`], before[`pgalloc_${zname}`]! + CPU_EV_FOLD_AT - 2);
  for (let i = 0; i < 5; i++) a.__free_pages(a.alloc_pages(GFP_KERNEL, 0, 1), 0, 1);
  const end = a.vmEvents();
  assert.equal(end[`pgalloc_${zname}`], start[`pgalloc_${zname}`]! + 5);
  assert.equal(end.numa_hit, start.numa_hit! + 5);
  assert.equal(end.numa_local, start.numa_local! + 5);
  assert.equal(end.pgfree, start.pgfree! + 5);
  assert.equal(a.labyrinthCounters().allocCalls, calls + CPU_EV_FOLD_AT - 2 + 5);
  assert.ok(m.ints[ai]! < 5 && m.ints[fi]! < 5, 'the counters were folded at CPU_EV_FOLD_AT');
  verify(a);
});
