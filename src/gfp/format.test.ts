import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allLayouts, flagValue, formatGfp, formatMode, parseGfp, resolveLayout, showGfpFlags } from './index.ts';
import { BadInputError } from '../errors.ts';
import { __GFP_EXCL, GFP_ATOMIC } from './bits.ts';

test('kernel-facts §2.3 worked examples print exactly', () => {
  const cases: Array<[string, number, string]> = [
    ['4.19', 0x6000c0, 'GFP_KERNEL'],
    ['4.19', 0x480020, 'GFP_ATOMIC'],
    ['4.19', 0x6080c0, 'GFP_KERNEL|__GFP_ZERO'],
    ['5.4', 0x40dc0, 'GFP_KERNEL|__GFP_COMP|__GFP_ZERO'],
    ['6.1', 0x40dc0, 'GFP_KERNEL|__GFP_COMP|__GFP_ZERO'],
    ['5.10', 0xa20, 'GFP_ATOMIC'],
    ['6.1', 0xa20, 'GFP_ATOMIC'],
    ['6.1', 0x2a20, 'GFP_ATOMIC|__GFP_NOWARN'],
    ['5.15', 0x8c40, 'GFP_NOFS|__GFP_NOFAIL'],
    ['6.6', 0x820, 'GFP_ATOMIC'],
    ['6.8', 0x820, 'GFP_ATOMIC'],
    ['6.12', 0x820, 'GFP_ATOMIC'],
    ['6.6', 0xa20, 'GFP_ATOMIC|0x200'],
    ['6.6', 0x2800, 'GFP_NOWAIT|__GFP_NOWARN'],
    ['6.12', 0x2800, 'GFP_NOWAIT'],
    ['6.12', 0x800, '__GFP_KSWAPD_RECLAIM'],
    ['6.1', 0x140cca, 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'],
    ['6.12', 0x140cca, 'GFP_HIGHUSER_MOVABLE|__GFP_COMP'],
    ['6.12', 0x52dc0, 'GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY|__GFP_COMP|__GFP_ZERO'],
    ['6.1', 0, ''],
  ];
  for (const [v, m, want] of cases) assert.equal(formatGfp(m, v), want, `${v} 0x${m.toString(16)}`);
  for (const v of ['2.6.31', '4.4', '4.9', '4.19', '5.10', '6.1', '6.12', '6.19']) {
    assert.equal(formatGfp(0, v), '', `${v}: %pGg of 0 is empty`);
  }
  assert.equal(showGfpFlags(0, '6.1'), 'none');
  assert.equal(showGfpFlags(0, '4.6'), 'none');
  assert.equal(showGfpFlags(0, '4.5'), 'GFP_NOWAIT');
  assert.equal(showGfpFlags(0, '3.3'), 'GFP_NOWAIT');
  assert.equal(formatMode(0, '6.1'), '0x0()');
  assert.equal(formatMode(0x80d0, '3.3.0-rc1'), '0x80d0');
});

test('4.15–4.17 left the __GFP_COLD/__GFP_NOTRACK bits empty; 4.18 filled the gaps', () => {
  assert.equal(formatGfp(0x14000c0, '4.17'), 'GFP_KERNEL');
  assert.equal(flagValue('GFP_ATOMIC', '4.16'), 0x1080020);
  assert.equal(formatGfp(0x100, '4.17'), '0x100');
  assert.equal(formatGfp(0x100, '4.18'), '__GFP_WRITE');
  assert.equal(formatGfp(0x6000c0, '4.18'), 'GFP_KERNEL');
});

test('6.15+ prints bits in enum order after __GFP_RECLAIM (tracing: gfp: Remove duplication of recording GFP flags)', () => {
  assert.equal(formatGfp(0x40dc0, '6.14'), 'GFP_KERNEL|__GFP_COMP|__GFP_ZERO');
  assert.equal(formatGfp(0x40dc0, '6.15'), 'GFP_KERNEL|__GFP_ZERO|__GFP_COMP');
  // Config-dependent bits: hex before 6.15, named from 6.15 (SLAB_OBJ_EXT is on by default: bit 24).
  assert.equal(formatGfp(0x1000cc0, '6.12'), 'GFP_KERNEL|0x1000000');
  assert.equal(formatGfp(0x1000cc0, '6.19'), 'GFP_KERNEL|__GFP_NO_OBJ_EXT');
});

test('4.4: GFP_ATOMIC printed for __GFP_ATOMIC alone reads back by its place in the table', () => {
  assert.equal(parseGfp('GFP_NOIO|GFP_ATOMIC', '4.4'), 0x2400000 | 0x80000);
  assert.equal(parseGfp('GFP_ATOMIC|GFP_ZERO', '4.4'), 0x2080020 | 0x8000);
  assert.equal(parseGfp('GFP_ZERO|GFP_ATOMIC', '4.4'), 0x2080020 | 0x8000, 'out of order: the composite');
});

test('pre-4.5 tables: GFP_ATOMIC is __GFP_HIGH (≤4.3), single bits print without leading underscores', () => {
  assert.equal(formatGfp(0x80d1, '3.3'), 'GFP_KERNEL|GFP_ZERO|GFP_NOTRACK|0x1', '3.x: a 0-valued GFP_NOTRACK entry matches leftovers');
  assert.equal(formatGfp(0x80d1, '2.6.31'), 'GFP_KERNEL|GFP_ZERO|0x1', '2.6.x table has no GFP_NOTRACK');
  assert.equal(formatGfp(0x80d1, { ...resolveLayout('3.3', { kmemcheck: true }).layout }), 'GFP_KERNEL|GFP_ZERO|0x1');
  assert.equal(showGfpFlags(0x80000, '4.4'), 'GFP_ATOMIC', '4.4 prints __GFP_ATOMIC as GFP_ATOMIC');
  assert.equal(showGfpFlags(0x24000c0, '4.4'), 'GFP_KERNEL');
  assert.equal(showGfpFlags(0, '4.4'), 'GFP_NOWAIT');
  assert.equal(showGfpFlags(0x24000c0, '4.5'), 'GFP_KERNEL');
  assert.equal(showGfpFlags(0x100000, '4.6'), '__GFP_ACCOUNT');
  assert.equal(showGfpFlags(0x100000, '4.5'), '0x100000');
  assert.equal(flagValue('GFP_KERNEL_ACCOUNT', '4.5'), 0x25000c0);
  assert.equal(flagValue('GFP_KERNEL_ACCOUNT', '4.4'), 0);
  assert.equal(formatGfp(0x80d0, '3.3'), 'GFP_KERNEL|GFP_ZERO');
  assert.equal(formatGfp(0x8020, '2.6.31'), 'GFP_ATOMIC|GFP_ZERO');
  assert.equal(parseGfp('GFP_KERNEL|__GFP_ZERO', '3.3'), 0x80d0);
  assert.equal(parseGfp('GFP_KERNEL|GFP_ZERO', '3.3'), 0x80d0);
});

test('parseGfp accepts names, hex, hex(names), prefixes and the extension', () => {
  assert.equal(parseGfp('GFP_KERNEL|__GFP_ZERO', '6.1'), 0xdc0);
  assert.equal(parseGfp('0x400cc0', '6.1'), 0x400cc0);
  assert.equal(parseGfp('0x400dc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)', '6.1'), 0x400dc0);
  assert.equal(parseGfp('mode:0x820(GFP_ATOMIC)', '6.8'), 0x820);
  assert.equal(parseGfp(' GFP_ATOMIC | __GFP_EXCL ', '6.1'), (GFP_ATOMIC | __GFP_EXCL) >>> 0);
  assert.equal(parseGfp('__GFP_EXCL', '2.6.31'), 0x40000000);
  assert.equal(parseGfp('none', '6.1'), 0);
  assert.equal(parseGfp('0x0()', '6.1'), 0);
  assert.equal(parseGfp('GFP_ATOMIC|0x200', '6.6'), 0xa20);
});

test('parseGfp rejects bad input with stable codes', () => {
  const code = (f: () => unknown): string => {
    try { f(); } catch (e) { assert.ok(e instanceof BadInputError); return e.code; }
    return 'no error';
  };
  assert.equal(code(() => parseGfp('0x400cc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)', '6.1')), 'GFP_MISMATCH');
  assert.equal(code(() => parseGfp('GFP_BOGUS', '6.1')), 'GFP_UNKNOWN_FLAG');
  assert.equal(code(() => parseGfp('__GFP_ATOMIC', '6.6')), 'GFP_FLAG_ABSENT');
  assert.equal(code(() => parseGfp('__GFP_COLD', '6.1')), 'GFP_FLAG_ABSENT');
  assert.equal(code(() => parseGfp('GFP_KERNEL||__GFP_ZERO', '6.1')), 'GFP_SYNTAX');
  assert.equal(code(() => parseGfp('0x1ffffffff', '6.1')), 'GFP_SYNTAX');
  assert.equal(code(() => parseGfp('GFP_KERNEL & x', '6.1')), 'GFP_SYNTAX');
});

test('flagValue: composites and bits per layout, 0 when absent', () => {
  assert.equal(flagValue('GFP_ATOMIC', '6.1'), 0xa20);
  assert.equal(flagValue('GFP_ATOMIC', '6.3'), 0x820);
  assert.equal(flagValue('GFP_ATOMIC', '4.19'), 0x480020);
  assert.equal(flagValue('GFP_ATOMIC', '4.9'), 0x2080020);
  assert.equal(flagValue('GFP_ATOMIC', '2.6.31'), 0x20);
  assert.equal(flagValue('GFP_KERNEL', '3.3'), 0xd0);
  assert.equal(flagValue('__GFP_ATOMIC', '6.6'), 0);
  assert.equal(flagValue('GFP_NOWAIT', '6.7'), 0x800);
  assert.equal(flagValue('GFP_NOWAIT', '6.8'), 0x2800);
  assert.equal(flagValue('__GFP_EXCL', '6.1'), 0x40000000);
  assert.equal(flagValue('GFP_HIGHUSER_MOVABLE', '5.15'), 0x1100cca);
  assert.equal(flagValue('GFP_HIGHUSER_MOVABLE', '6.1'), 0x100cca);
  assert.equal(flagValue('__GFP_NOLOCKDEP', '6.1'), 0);
});

test('__GFP_EXCL: bit 30 is used by no kernel layout, with any options', () => {
  for (const opts of [{}, { lockdep: true, kasanHwTags: true, slabObjExt: true, kmemcheck: true }]) {
    for (const l of allLayouts(opts)) {
      assert.equal(l.kernelMask & 0x40000000, 0, l.name);
      assert.equal(l.flags.__GFP_EXCL, 0x40000000);
      assert.equal(formatGfp(0x40000000, l), '__GFP_EXCL');
    }
  }
});

test('enum layout (6.10+): optional bits shift the later ones', () => {
  const plain = resolveLayout('6.12', { slabObjExt: false }).layout;
  assert.equal(plain.flags.__GFP_NO_OBJ_EXT, undefined);
  const dflt = resolveLayout('6.12').layout;
  assert.equal(dflt.flags.__GFP_NO_OBJ_EXT, 0x1000000);
  const all = resolveLayout('6.12', { lockdep: true, kasanHwTags: true }).layout;
  assert.equal(all.flags.__GFP_SKIP_ZERO, 0x1000000);
  assert.equal(all.flags.__GFP_SKIP_KASAN, 0x2000000);
  assert.equal(all.flags.__GFP_NOLOCKDEP, 0x4000000);
  assert.equal(all.flags.__GFP_NO_OBJ_EXT, 0x8000000);
  assert.equal(resolveLayout('6.1', { lockdep: true }).layout.flags.__GFP_NOLOCKDEP, 0x8000000);
  assert.equal(resolveLayout('4.19', { lockdep: true }).layout.flags.__GFP_NOLOCKDEP, 0x800000);
});

test('property: parseGfp(formatGfp(m, v), v) === m for random masks in every layout', () => {
  const configs = [{}, { lockdep: true, kasanHwTags: true, kmemcheck: true }, { slabObjExt: false }];
  for (const opts of configs) {
    for (const l of allLayouts(opts)) {
      fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), (raw, onlyKnown) => {
        const m = onlyKnown ? (raw & (l.kernelMask | 0x40000000)) >>> 0 : raw >>> 0;
        const text = formatGfp(m, l);
        if (l.ambiguousNames.some((n) => text.split('|').includes(n))) {
          // 4.4 prints both GFP_ATOMIC (the composite) and __GFP_ATOMIC alone as "GFP_ATOMIC": two masks can print
          // the same text. It must still read back to a mask that prints exactly that text.
          assert.equal(formatGfp(parseGfp(text, l), l), text, `${l.name}: ${text}`);
          return;
        }
        assert.equal(parseGfp(text, l), m, `${l.name}: ${text}`);
        assert.equal(parseGfp(`0x${m.toString(16)}(${text})`, l), m);
        // 4.4 traces print 0 as GFP_NOWAIT although its GFP_NOWAIT is __GFP_KSWAPD_RECLAIM: only 0 is ambiguous there.
        if (m !== 0 || flagValue(l.traceZero, l) === 0) assert.equal(parseGfp(showGfpFlags(m, l), l), m);
      }), { numRuns: 300 });
    }
  }
});

test('version selection from pasted strings', () => {
  const id = (v: string) => resolveLayout(v).layout.id;
  assert.equal(id('6.1'), '5.18');
  assert.equal(id('5.10.0-21-amd64'), '5.1');
  assert.equal(id('6.8.0-rc6-PMacG4'), '6.8');
  assert.equal(id('4.9.24-coreos'), '4.8');
  assert.equal(id('2.6.31+frans2+mel-00002-g90702f9-dirty'), '2.6');
  assert.equal(id('5.13.x'), '5.1');
  assert.equal(id('6.19.0-rc5-00027-g40fd0acc45d0'), '6.15');
  assert.equal(id('Linux 3.3.0-rc1'), '3.0');
  assert.equal(id('4.4.0-21-generic'), '4.4');
  assert.equal(id('4.5.7'), '4.5');
  assert.equal(resolveLayout('6.19').warning, undefined);
  assert.match(resolveLayout('7.1').warning ?? '', /nearest older layout/);
  assert.equal(resolveLayout().layout.id, '6.15');
  for (const bad of ['banana', '', 'v', '6', 'x.1']) {
    if (bad === '') continue;
    assert.throws(() => resolveLayout(bad), (e: unknown) => e instanceof BadInputError && e.code === 'KERNEL_VERSION_SYNTAX', bad);
  }
  assert.throws(() => resolveLayout('2.4.37'), (e: unknown) => e instanceof BadInputError && e.code === 'KERNEL_VERSION_UNSUPPORTED');
});

test('KASAN_HW_TAGS bits: 5.18–6.3 three flags, 6.4+ two (kasan: remove PG_skip_kasan_poison flag)', () => {
  const k = { kasanHwTags: true, lockdep: true };
  const l63 = resolveLayout('6.3', k).layout;
  assert.equal(l63.flags.__GFP_SKIP_KASAN_POISON, 0x4000000);
  assert.equal(l63.flags.__GFP_NOLOCKDEP, 0x8000000);
  assert.equal(l63.flags.GFP_HIGHUSER_MOVABLE, 0x6100cca);
  const l64 = resolveLayout('6.4', k).layout;
  assert.equal(l64.flags.__GFP_SKIP_KASAN, 0x2000000);
  assert.equal(l64.flags.__GFP_NOLOCKDEP, 0x4000000);
  assert.equal(l64.flags.GFP_HIGHUSER_MOVABLE, 0x2100cca);
  // The KASAN names are trace-only before 6.15.
  assert.equal(formatGfp(0x2140cca, l64), 'GFP_HIGHUSER_MOVABLE|__GFP_COMP');
  assert.equal(formatGfp(0x1000000, l64), '0x1000000');
  assert.equal(showGfpFlags(0x1000000, l64), '__GFP_SKIP_ZERO');
  assert.equal(resolveLayout('5.15').layout.flags.GFP_HIGHUSER_MOVABLE, 0x1100cca);
  assert.equal(formatGfp(0x1000000, '5.15'), '__GFP_SKIP_KASAN_POISON');
});
