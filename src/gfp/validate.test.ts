import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagValue, validateGfp, GFP_PROBLEM_CODES } from './index.ts';

const codes = (mask: number, order = 0, ctx: 'process' | 'softirq' | 'hardirq' | 'atomic' = 'process', v = '6.1', names?: string[]) =>
  validateGfp(mask, order, ctx, v, names ? { names } : {}).map((p) => `${p.severity}:${p.code}`);
const V = (n: string, v = '6.1') => flagValue(n, v);

test('GFP_ATOMIC|GFP_KERNEL is incoherent (≤6.2 by bits, 6.3+ by the names written)', () => {
  const p61 = validateGfp(V('GFP_ATOMIC') | V('GFP_KERNEL'), 0, 'process', '6.1');
  const e = p61.find((p) => p.code === 'ATOMIC_WITH_DIRECT_RECLAIM');
  assert.ok(e);
  assert.equal(e.severity, 'error');
  assert.match(e.message, /GFP_ATOMIC\|GFP_KERNEL is incoherent: a request cannot both forbid and allow sleeping/);
  const mask = V('GFP_ATOMIC', '6.19') | V('GFP_KERNEL', '6.19');
  assert.ok(!codes(mask, 0, 'process', '6.19').includes('error:ATOMIC_WITH_DIRECT_RECLAIM'), 'GFP_KERNEL|__GFP_HIGH is legal in 6.3+');
  const named = validateGfp(mask, 0, 'process', '6.19', { names: ['GFP_ATOMIC', 'GFP_KERNEL'] });
  assert.match(named.find((p) => p.code === 'ATOMIC_WITH_DIRECT_RECLAIM')!.message, /GFP_ATOMIC\|GFP_KERNEL is incoherent: a request cannot both forbid and allow sleeping/);
  assert.ok(codes(V('__GFP_ATOMIC', '4.19') | V('GFP_KERNEL', '4.19'), 0, 'process', '4.19').includes('error:ATOMIC_WITH_DIRECT_RECLAIM'));
});

test('zone, mobility and order problems', () => {
  assert.ok(codes(0x5).includes('error:ZONE_BAD'));
  assert.ok(codes(0xb).includes('error:ZONE_BAD'));
  assert.ok(!codes(0xa | V('GFP_KERNEL')).includes('error:ZONE_BAD'));
  assert.ok(codes(0x18 | V('GFP_KERNEL')).includes('error:MOVABLE_AND_RECLAIMABLE'));
  assert.ok(codes(V('GFP_KERNEL'), 11).includes('error:ORDER_TOO_LARGE'));
  assert.ok(!codes(V('GFP_KERNEL'), 10).includes('error:ORDER_TOO_LARGE'));
  assert.ok(codes(V('GFP_KERNEL'), 4).includes('info:COSTLY_ORDER'));
});

test('__GFP_NOFAIL misuse', () => {
  assert.ok(codes(V('GFP_NOWAIT') | V('__GFP_NOFAIL')).includes('error:NOFAIL_WITHOUT_DIRECT_RECLAIM'));
  assert.ok(codes(V('GFP_ATOMIC') | V('__GFP_NOFAIL')).includes('error:NOFAIL_WITHOUT_DIRECT_RECLAIM'));
  assert.ok(codes(V('GFP_KERNEL') | V('__GFP_NOFAIL'), 2).includes('warning:NOFAIL_ORDER_ABOVE_1'));
  assert.ok(!codes(V('GFP_KERNEL') | V('__GFP_NOFAIL'), 1).includes('warning:NOFAIL_ORDER_ABOVE_1'));
  assert.ok(codes(V('GFP_KERNEL') | V('__GFP_NOFAIL'), 4).includes('warning:NOFAIL_COSTLY_ORDER'));
  assert.ok(codes(V('GFP_KERNEL') | V('__GFP_NOFAIL') | V('__GFP_NORETRY')).includes('warning:NORETRY_WITH_NOFAIL'));
  assert.deepEqual(codes(V('GFP_NOFS') | V('__GFP_NOFAIL')), []);
});

test('a sleeping mask in atomic context is an error; GFP_ATOMIC there is fine', () => {
  for (const ctx of ['softirq', 'hardirq', 'atomic'] as const) {
    assert.ok(codes(V('GFP_KERNEL'), 0, ctx).includes('error:SLEEP_IN_ATOMIC_CONTEXT'), ctx);
    assert.deepEqual(codes(V('GFP_ATOMIC'), 0, ctx), [], ctx);
  }
  assert.deepEqual(codes(V('GFP_KERNEL'), 0, 'process'), []);
});

test('stale and unknown bits', () => {
  assert.ok(codes(0xa20, 0, 'process', '6.6').includes('warning:UNKNOWN_BITS'));
  assert.match(validateGfp(0xa20, 0, 'process', '6.6').find((p) => p.code === 'UNKNOWN_BITS')!.message, /__GFP_ATOMIC until 6.2/);
  assert.deepEqual(codes(0xa20, 0, 'process', '6.1'), []);
});

test('__GFP_EXCL: GFP_ATOMIC|__GFP_EXCL is valid and explained; movable exclusive pages are not', () => {
  const p = validateGfp(V('GFP_ATOMIC') | V('__GFP_EXCL'), 0, 'softirq', '6.1');
  assert.ok(!p.some((x) => x.severity === 'error'));
  assert.ok(p.some((x) => x.code === 'EXCL_EXTENSION'));
  assert.match(p.find((x) => x.code === 'EXCL_ATOMIC')!.message, /never sleeps/);
  assert.ok(codes(V('GFP_HIGHUSER_MOVABLE') | V('__GFP_EXCL')).includes('error:EXCL_MOVABLE'));
});

test('every code emitted is in the stable list', () => {
  const all = new Set<string>(GFP_PROBLEM_CODES);
  for (let i = 0; i < 2000; i++) {
    const m = (Math.imul(i, 2654435761) >>> 0) & 0x40ffffff;
    for (const p of validateGfp(m, i % 13, (['process', 'softirq', 'hardirq', 'atomic'] as const)[i % 4], '6.1')) assert.ok(all.has(p.code), p.code);
  }
});

test('every flag of every layout has a meaning phrase for the CLI table', async () => {
  const { allLayouts, FLAG_MEANING } = await import('./index.ts');
  for (const l of allLayouts({ lockdep: true, kasanHwTags: true, slabObjExt: true, kmemcheck: true })) {
    for (const name of Object.keys(l.bits)) assert.ok(FLAG_MEANING[name], `${l.name}: ${name}`);
  }
});
