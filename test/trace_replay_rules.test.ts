/**
 * The replay's event rules on a tiny machine, one rule per test, with buddyinfo worked out by hand.
 * Zone DMA32 spans pfns 0x1000–0x17ff (2048 pages), all free at the start: two order-10 blocks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTrace } from '../src/trace/ftrace.ts';
import { replayTrace, type ReplayResult } from '../src/trace/replay.ts';
import { CoreReplayBuddy } from '../src/trace/replay_buddy.ts';
import { verify } from '../src/debug/verify.ts';
import { DEFAULT_LOWMEM_RESERVE_RATIO, DEFAULT_WATERMARK_BOOST_FACTOR, DEFAULT_WATERMARK_SCALE_FACTOR } from '../src/zone/setup.ts';
import type { MachineSpec } from '../src/zone/types.ts';

const spec = (): MachineSpec => ({
  nrNodes: 1, nrCpus: 1, thp: false,
  zones: [{ node: 0, zoneIdx: 1, startPfn: 0x1000, spanned: 2048, present: 2048, managed: 2048 }],
  tunables: {
    minFreeKbytes: 128, watermarkScaleFactor: DEFAULT_WATERMARK_SCALE_FACTOR, watermarkBoostFactor: DEFAULT_WATERMARK_BOOST_FACTOR,
    lowmemReserveRatio: [...DEFAULT_LOWMEM_RESERVE_RATIO], percpuPagelistHighFraction: 0,
  },
});

const L = (ev: string, fields: string, flags = '.....'): string => `  sh-9 [000] ${flags} 1.000000: ${ev}: page=(____ptrval____) ${fields}`;
const locked = (pfn: number, order: number, refill = 1): string => L('mm_page_alloc_zone_locked', `pfn=0x${pfn.toString(16)} order=${order} migratetype=1 percpu_refill=${refill}`, 'd..3.');
const alloc = (pfn: number, order: number): string => L('mm_page_alloc', `pfn=0x${pfn.toString(16)} order=${order} migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE`);
const free = (pfn: number, order: number, flags = '.....'): string => L('mm_page_free', `pfn=0x${pfn.toString(16)} order=${order}`, flags);
const batched = (pfn: number): string => L('mm_page_free_batched', `pfn=0x${pfn.toString(16)} order=0`, '...2.');
const drain = (pfn: number, order: number): string => L('mm_page_pcpu_drain', `pfn=0x${pfn.toString(16)} order=${order} migratetype=1`, 'd..3.');
const compaction = (what: 'begin' | 'end'): string => `  kcompactd0-28 [000] ..... 1.000000: mm_compaction_${what}: zone_start=0x1000 migrate_pfn=0x1000 free_pfn=0x1600 zone_end=0x1800, mode=sync${what === 'end' ? ' status=success' : ''}`;

function run(lines: string[], o: { lookahead?: boolean; compactionInference?: boolean } = {}): { r: ReplayResult; buddy: CoreReplayBuddy } {
  const e = parseTrace(lines.join('\n') + '\n').events;
  const buddy = new CoreReplayBuddy(spec(), [{ zoneIdx: 1, startPfn: 0x1000, nrPages: 2048 }]);
  const points = Array.from({ length: e.length }, (_, i) => i);
  const r = replayTrace(e, buddy, { points: [-1, ...points], ...o });
  verify(buddy.alloc);
  return { r, buddy };
}
/** buddyinfo of DMA32 after row `row` (-1: start) */
const bi = (r: ReplayResult, row: number): number[] => r.points.find((p) => p.row === row)!.zones[0]!.counts;
const ONLY = (counts: Record<number, number>): number[] => Array.from({ length: 11 }, (_, o) => counts[o] ?? 0);

test('start_state_is_the_greedy_split_of_the_free_run', () => {
  const { r } = run([alloc(0x1000, 0)]);
  assert.deepEqual(bi(r, -1), ONLY({ 10: 2 }));
});

test('zone_locked_takes_the_block_starting_at_pfn_and_expand_puts_the_upper_halves_back', () => {
  const { r } = run([locked(0x1000, 0)]);
  assert.deepEqual(bi(r, 0), ONLY({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 }));
});

test('pcp_order_frees_and_free_batched_leave_buddy_alone_and_the_drain_merges_back_to_order_10', () => {
  const { r } = run([locked(0x1000, 0), alloc(0x1000, 0), free(0x1000, 0), batched(0x1000), drain(0x1000, 0)]);
  const split = ONLY({ 0: 1, 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 });
  assert.deepEqual(bi(r, 2), split); // mm_page_free: to the pcp list
  assert.deepEqual(bi(r, 3), split); // mm_page_free_batched: a repeat
  assert.deepEqual(bi(r, 4), ONLY({ 10: 2 })); // mm_page_pcpu_drain: __free_one_page merges all the way up
  assert.equal(r.anomalies.drain_not_on_pcp, 0);
  assert.equal(r.anomalies.alloc_not_from_pcp, 0);
});

test('frees_above_the_pcp_orders_merge_at_once (order 4 here; order 9 with THP goes to pcp)', () => {
  const { r } = run([locked(0x1000, 4, 0), alloc(0x1000, 4), free(0x1000, 4)]);
  assert.deepEqual(bi(r, 0), ONLY({ 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 }));
  assert.deepEqual(bi(r, 2), ONLY({ 10: 2 }));
  const thp = run([locked(0x1000, 9, 0), alloc(0x1000, 9), free(0x1000, 9)]).r;
  assert.deepEqual(bi(thp, 2), ONLY({ 9: 1, 10: 1 }));
});

test('lookahead_rule: a pcp-order free next touched by zone_locked went straight to buddy', () => {
  const lines = [locked(0x1000, 0), alloc(0x1000, 0), free(0x1000, 0, '.Ns3.'), locked(0x1000, 1)];
  const { r } = run(lines);
  assert.equal(r.anomalies.free_direct_inferred, 1);
  assert.deepEqual(bi(r, 2), ONLY({ 10: 2 })); // merged at the free
  assert.deepEqual(bi(r, 3), ONLY({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 }));
  assert.equal(r.anomalies.zone_locked_not_free, 0);
  // without the rule the page stays on pcp and the zone_locked finds no free block there
  const plain = run(lines, { lookahead: false }).r;
  assert.equal(plain.anomalies.zone_locked_not_free, 1);
});

test('compaction_inference: a page freed after a window, untouched since before it, is pulled at the window end', () => {
  const lines = [compaction('begin'), compaction('end'), free(0x1400, 0), drain(0x1400, 0)];
  const { r } = run(lines);
  assert.equal(r.points.find((p) => p.row === 0)!.compactionAffected, true);
  assert.deepEqual(bi(r, 1), ONLY({ 10: 1 })); // the block holding 0x1400 left buddy at the window end
  assert.deepEqual(bi(r, 3), ONLY({ 0: 1, 10: 1 })); // the page comes back alone: its buddies are isolated
  assert.equal(r.anomalies.compaction_isolated_blocks, 1);
  assert.equal(r.anomalies.compaction_isolated_pages, 1024);
  // without inference the free of a page the model holds free is skipped and counted
  const plain = run(lines, { compactionInference: false }).r;
  assert.deepEqual(bi(plain, 3), ONLY({ 10: 2 }));
  assert.ok(plain.anomalies.free_of_buddy_page >= 1);
});
