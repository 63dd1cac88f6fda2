import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gfpToAllocFlags, flagValue, gfpZone, gfpZoneInfo, gfpMigratetype, gfpflagsAllowBlocking } from './index.ts';
import { effectiveMin } from '../zone/watermark.ts';
import { ZONE_DMA, ZONE_DMA32, ZONE_MOVABLE, ZONE_NORMAL } from '../mm/constants.ts';

const slow = (name: string, version: string, extra: Record<string, unknown> = {}) =>
  gfpToAllocFlags(flagValue(name, version) | ((extra['or'] as number | undefined) ?? 0), { version, slowPath: true, cma: true, ...extra });

test('kernel-facts §3.4: slow-path alloc_flags per common gfp, 6.1 and 6.6 (CMA on, order 0)', () => {
  assert.equal(slow('GFP_KERNEL', '6.1').flags, 0x840);
  assert.equal(slow('GFP_ATOMIC', '6.1').flags, 0x830);
  assert.equal(slow('GFP_NOWAIT', '6.1').flags, 0x840);
  assert.equal(slow('GFP_HIGHUSER_MOVABLE', '6.1').flags, 0x8c0);
  assert.equal(slow('GFP_KERNEL', '6.1', { or: 0x20 }).flags, 0x860);
  assert.equal(slow('GFP_KERNEL', '6.6').flags, 0x840);
  assert.equal(slow('GFP_ATOMIC', '6.6').flags, 0x830);
  assert.equal(slow('GFP_ATOMIC', '6.6', { order: 1 }).flags, 0xa30);
  assert.equal(slow('GFP_NOWAIT', '6.6').flags, 0x850);
  assert.equal(slow('GFP_NOWAIT', '6.6', { order: 3 }).flags, 0xa50);
  assert.equal(slow('GFP_KERNEL', '6.6', { or: 0x20 }).flags, 0x860);
  assert.equal(slow('GFP_HIGHUSER_MOVABLE', '6.6').flags, 0x8c0);
});

test('kernel-facts §3.4: 4.19 has no ALLOC_KSWAPD (0x40, 0x30, 0x40, 0x60, 0xc0)', () => {
  assert.equal(slow('GFP_KERNEL', '4.19').flags, 0x40);
  assert.equal(slow('GFP_ATOMIC', '4.19').flags, 0x30);
  assert.equal(slow('GFP_NOWAIT', '4.19').flags, 0x40);
  assert.equal(slow('GFP_KERNEL', '4.19', { or: flagValue('__GFP_HIGH', '4.19') }).flags, 0x60);
  assert.equal(slow('GFP_HIGHUSER_MOVABLE', '4.19').flags, 0xc0);
});

test('names follow the version: ALLOC_HARDER/ALLOC_HIGH ≤6.2, ALLOC_NON_BLOCK/ALLOC_MIN_RESERVE 6.3+', () => {
  assert.deepEqual(slow('GFP_ATOMIC', '6.1').names, ['ALLOC_WMARK_MIN', 'ALLOC_HARDER', 'ALLOC_HIGH', 'ALLOC_KSWAPD']);
  assert.deepEqual(slow('GFP_ATOMIC', '6.6').names, ['ALLOC_WMARK_MIN', 'ALLOC_NON_BLOCK', 'ALLOC_MIN_RESERVE', 'ALLOC_KSWAPD']);
});

test('watermark fractions agree with effectiveMin (kernel-facts §4.2)', () => {
  for (const v of ['4.19', '5.10', '6.1']) {
    assert.deepEqual(slow('GFP_ATOMIC', v).fraction, [3, 8], v);
    assert.equal(slow('GFP_ATOMIC', v).depth, '3/8 of min');
    assert.deepEqual(slow('GFP_KERNEL', v).fraction, [1, 1]);
    assert.deepEqual(slow('GFP_KERNEL', v, { or: 0x20 }).fraction, [1, 2]);
  }
  assert.deepEqual(slow('GFP_ATOMIC', '6.6').fraction, [3, 8]);
  assert.deepEqual(slow('GFP_NOWAIT', '6.6').fraction, [1, 1], 'NON_BLOCK alone: highatomic only, no min reduction');
  // rt task: ALLOC_HARDER (3/4) up to 6.2, ALLOC_MIN_RESERVE (1/2) from 6.3; never in interrupt context.
  assert.deepEqual(slow('GFP_KERNEL', '6.1', { rtTask: true }).fraction, [3, 4]);
  assert.deepEqual(slow('GFP_KERNEL', '6.6', { rtTask: true }).fraction, [1, 2]);
  // The fraction is what effectiveMin computes for the same flags.
  const r = slow('GFP_ATOMIC', '6.1');
  assert.equal(effectiveMin(8000, r.flags, 'v6.1'), 3000);
});

test('reserve escalation: __GFP_MEMALLOC → ALLOC_NO_WATERMARKS unless __GFP_NOMEMALLOC; OOM victims → ALLOC_OOM', () => {
  const memalloc = flagValue('__GFP_MEMALLOC', '6.1');
  const r = slow('GFP_ATOMIC', '6.1', { or: memalloc });
  assert.equal(r.flags & 0x4, 0x4);
  assert.equal(r.watermark, 'none');
  assert.deepEqual(r.fraction, [0, 1]);
  assert.ok(r.beforeEscalation !== undefined);
  assert.deepEqual(r.names, ['ALLOC_WMARK_MIN', 'ALLOC_NO_WATERMARKS', 'ALLOC_KSWAPD']);
  const nomem = slow('GFP_KERNEL', '6.1', { or: memalloc | flagValue('__GFP_NOMEMALLOC', '6.1') });
  assert.equal(nomem.flags & 0x4, 0);
  const oom = slow('GFP_KERNEL', '6.1', { oomVictim: true });
  assert.ok(oom.names.includes('ALLOC_OOM'));
  assert.deepEqual(oom.fraction, [1, 2]);
  const oomIrq = slow('GFP_ATOMIC', '6.1', { oomVictim: true, context: 'hardirq' });
  assert.ok(!oomIrq.names.includes('ALLOC_OOM'));
});

test('fast path: low watermark, kswapd bit and NOFRAGMENT (5.0+)', () => {
  const f = gfpToAllocFlags(flagValue('GFP_KERNEL', '6.1'), { version: '6.1' });
  assert.equal(f.watermark, 'low');
  assert.deepEqual(f.names, ['ALLOC_WMARK_LOW', 'ALLOC_NOFRAGMENT', 'ALLOC_KSWAPD']);
  assert.equal(gfpToAllocFlags(flagValue('GFP_DMA32', '6.1') | flagValue('GFP_KERNEL', '6.1'), { version: '6.1' }).flags & 0x100, 0);
  assert.deepEqual(gfpToAllocFlags(flagValue('GFP_KERNEL', '4.19'), '4.19').names, ['ALLOC_WMARK_LOW']);
});

test('gfpZone follows GFP_ZONE_TABLE; gfpMigratetype and gfpflagsAllowBlocking', () => {
  assert.equal(gfpZone(0), ZONE_NORMAL);
  assert.equal(gfpZone(0x1), ZONE_DMA);
  assert.equal(gfpZone(0x4), ZONE_DMA32);
  assert.equal(gfpZone(0x2), ZONE_NORMAL);
  assert.equal(gfpZone(0x8), ZONE_NORMAL);
  assert.equal(gfpZone(0xa), ZONE_MOVABLE);
  assert.equal(gfpZone(0xc), ZONE_DMA32);
  for (const bad of [3, 5, 6, 7, 11, 13, 14, 15]) assert.equal(gfpZoneInfo(bad).bad, true, `0x${bad.toString(16)}`);
  for (const ok of [0, 1, 2, 4, 8, 9, 10, 12]) assert.equal(gfpZoneInfo(ok).bad, false);
  assert.equal(gfpZoneInfo(0x2, 'x86_32').name, 'HighMem');
  assert.equal(gfpMigratetype(0x100cca), 1);
  assert.equal(gfpMigratetype(0x10), 2);
  assert.equal(gfpMigratetype(0xcc0), 0);
  assert.equal(gfpMigratetype(0x80000, '3.3'), 2, '≤4.3: __GFP_RECLAIMABLE is 0x80000');
  assert.equal(gfpflagsAllowBlocking(0xcc0, '6.1'), true);
  assert.equal(gfpflagsAllowBlocking(0xa20, '6.1'), false);
  assert.equal(gfpflagsAllowBlocking(0xd0, '3.3'), true);
  assert.equal(gfpflagsAllowBlocking(0x6000c0, '4.19'), true);
});
