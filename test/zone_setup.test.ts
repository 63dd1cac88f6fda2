/**
 * `--mem` machines against the captured Debian 6.1 boots, and the watermark formulas against the fact sheet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { QEMU } from './_shared.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { machineFromMem, machineFromZoneinfo, parseMemSize, computeZoneSetup, parseLowmemReserveRatio } from '../src/zone/setup.ts';
import {
  boostWatermark, bootMinFreeKbytes, calculateMinFreeKbytes, intSqrt, multFrac, setupPerZoneLowmemReserve, setupPerZoneWmarks, zoneBatchsize,
} from '../src/zone/wmark_setup.ts';
import { BadInputError } from '../src/errors.ts';

const CAPTURES: Array<[string, string]> = [
  ['512M', '512M'], ['static/1024M', '1024M'], ['2048M', '2048M'], ['static/4096M', '4096M'], ['static/8192M', '8192M'],
];
const read = (run: string, f: string): string => fs.readFileSync(path.join(QEMU, run, f), 'utf8');

test('machine_from_mem_reproduces_captured_zone_geometry', () => {
  for (const [run, mem] of CAPTURES) {
    const spec = machineFromMem(mem);
    const real = parseZoneinfo(read(run, 'wmgrid/default.zoneinfo'));
    assert.equal(real.zones.length, spec.zones.length, run);
    real.zones.forEach((z, i) => {
      const s = spec.zones[i]!;
      const got = { spanned: s.spanned, present: s.present, managed: s.managed, startPfn: z.present ? s.startPfn : undefined };
      const want = { spanned: z.spanned, present: z.present, managed: z.managed, startPfn: z.startPfn };
      assert.deepEqual(got, want, `${run} ${z.zone}`);
    });
  }
});

test('thp_disabled_below_512M_of_totalram', () => {
  for (const [run, mem] of CAPTURES) {
    const enabled = /\[always\]/.test(read(run, 'thp/enabled'));
    assert.equal(machineFromMem(mem).thp, enabled, run);
  }
});

test('default_min_free_kbytes_matches_every_capture (sqrt at 512M, THP recommended above)', () => {
  for (const [run, mem] of CAPTURES) {
    const want = Number(read(run, 'sysctl_vm/min_free_kbytes').trim());
    assert.equal(Number(read(run, 'snap/00_boot/min_free_kbytes').trim()), want);
    assert.equal(machineFromMem(mem).tunables.minFreeKbytes, want, run);
  }
  // README: 2709 at 512M is int_sqrt(lowmem_kbytes*16) with the managed pages of boot time
  const s = machineFromMem('512M');
  const b = bootMinFreeKbytes(s.zones.map((z) => ({ ...z, managed: z.managedAtBoot ?? z.managed })), false);
  assert.deepEqual(b, { sqrtValue: 2709, thpValue: null, minFreeKbytes: 2709 });
});

test('boot_watermarks_use_managed_pages_at_initcall_time', () => {
  // snap/00_boot was printed with watermarks sized before initrd/__init memory was freed
  for (const [run, mem] of CAPTURES) {
    const spec = machineFromMem(mem);
    const boot = parseZoneinfo(read(run, 'snap/00_boot/zoneinfo'));
    const w = setupPerZoneWmarks(spec.zones.map((z) => ({ ...z, managed: z.managedAtBoot ?? z.managed })),
      spec.tunables.minFreeKbytes, spec.tunables.watermarkScaleFactor);
    boot.zones.forEach((z, i) => assert.deepEqual(w[i]!.slice(0, 3), [z.min, z.low, z.high], `${run} ${z.zone}`));
  }
});

test('like_zoneinfo_keeps_zones_and_applies_kernel_defaults', () => {
  const text = read('static/4096M', 'wmgrid/mfk4096_wsf100.zoneinfo');
  const spec = machineFromZoneinfo(text, { minFreeKbytes: 4096, watermarkScaleFactor: 100 });
  assert.deepEqual(spec.zones.map((z) => z.managed), [3840, 754599, 243907, 0, 0]);
  assert.equal(spec.thp, true);
  const dflt = machineFromZoneinfo(text);
  assert.equal(dflt.tunables.minFreeKbytes, 67584, 'three populated zones: THP recommends 2+9 pageblocks per zone');
  assert.deepEqual(dflt.tunables.lowmemReserveRatio, [256, 256, 32, 0, 0]);
});

test('fact sheet examples: split of min_free_kbytes, gap from watermark_scale_factor', () => {
  const w = setupPerZoneWmarks([
    { node: 0, zoneIdx: 1, managed: 1_000_000, present: 1_000_000 },
    { node: 0, zoneIdx: 2, managed: 3_000_000, present: 3_000_000 },
  ], 16384, 10);
  assert.deepEqual(w[0]!.slice(0, 3), [1024, 2024, 3024]);
  assert.deepEqual(w[1]!.slice(0, 3), [3072, 6072, 9072]);
  assert.equal(w[1]![3], 12072, 'WMARK_PROMO = high + gap');
  assert.equal(calculateMinFreeKbytes(4 * 1024 * 1024 / 4), 8192);
  assert.equal(calculateMinFreeKbytes(16 * 1024 * 1024 / 4), 16384);
  assert.equal(calculateMinFreeKbytes(64 * 1024 * 1024 / 4), 32768);
  assert.equal(calculateMinFreeKbytes(4 * 1024 ** 3 / 4), 262144, 'clamped at 262144 (5.7+)');
  assert.equal(calculateMinFreeKbytes(10), 128, 'clamped at 128');
  assert.equal(intSqrt(2 ** 52 + 5), 2 ** 26);
  assert.equal(multFrac(113261, 10, 10000), 113);
});

test('lowmem_reserve_protects_dma: 6.1 repeats the last sum over empty upper zones, 6.12 gives 0', () => {
  const zones = [
    { node: 0, zoneIdx: 0, managed: 3976, present: 3998 },
    { node: 0, zoneIdx: 1, managed: 681000, present: 700000 },
    { node: 0, zoneIdx: 2, managed: 3259000, present: 3300000 },
    { node: 0, zoneIdx: 3, managed: 0, present: 0 },
    { node: 0, zoneIdx: 4, managed: 0, present: 0 },
  ];
  const r61 = setupPerZoneLowmemReserve(zones, [256, 256, 32, 0, 0]);
  assert.deepEqual(r61[0], [0, 2660, 15390, 15390, 15390]);
  assert.deepEqual(r61[1], [0, 0, 12730, 12730, 12730]);
  assert.deepEqual(r61[2], [0, 0, 0, 0, 0], 'ratio 32 over empty Movable/Device: 0 pages');
  const r612 = setupPerZoneLowmemReserve(zones, [256, 256, 32, 0, 0], 'v6.12');
  assert.deepEqual(r612[0], [0, 2660, 15390, 0, 0]);
  const none = setupPerZoneLowmemReserve(zones, [0, 256, 32, 0, 0]);
  assert.deepEqual(none[0], [0, 0, 0, 0, 0], 'ratio 0: no protection');
});

test('pcp batch clamps to 2^n-1 and never below 1', () => {
  assert.equal(zoneBatchsize(3840), 1);
  assert.equal(zoneBatchsize(113261), 31);
  assert.equal(zoneBatchsize(243907), 63);
  assert.equal(zoneBatchsize(100_000_000), 63, '1 MiB cap: 256/4 = 64 → 96 → 64 − 1');
});

test('totalreserve_pages sums max(lowmem_reserve)+high per zone', () => {
  const spec = machineFromMem('512M');
  const s = computeZoneSetup(spec);
  // DMA: 442 + 32, DMA32: 0 + 980
  assert.equal(s.totalreservePages, 442 + 32 + 980);
});

test('bad sizes and tunables are typed errors', () => {
  assert.equal(parseMemSize('1G'), 1024 ** 3);
  assert.equal(parseMemSize('512M'), 512 * 1024 ** 2);
  assert.equal(parseMemSize('64g'), 64 * 1024 ** 3);
  for (const bad of ['', 'x', '1Q', '-1G']) assert.throws(() => parseMemSize(bad), BadInputError);
  assert.throws(() => machineFromMem('16M'), BadInputError);
  assert.throws(() => machineFromMem('1G', { watermarkScaleFactor: 0 }), BadInputError);
  assert.throws(() => machineFromMem('1G', { minFreeKbytes: -1 }), BadInputError);
  assert.throws(() => parseLowmemReserveRatio('256 x'), BadInputError);
  assert.deepEqual(parseLowmemReserveRatio(' 1 1 1 0 0 '), [1, 1, 1, 0, 0]);
});

test('a 64G machine builds with three zones and Normal holding the rest', () => {
  const s = machineFromMem('64G');
  assert.equal(s.zones[2]!.startPfn, 1 << 20);
  assert.equal(s.zones[2]!.spanned, (64 - 3) * 262144);
  assert.equal(s.tunables.minFreeKbytes, 67584);
});

test('computeZoneSetup boot: reproduces 00_boot min/low/high, pcp high and protection', () => {
  for (const [run, mem] of CAPTURES) {
    const spec = machineFromMem(mem);
    const s = computeZoneSetup(spec, { boot: true });
    const boot = parseZoneinfo(read(run, 'snap/00_boot/zoneinfo'));
    boot.zones.forEach((z, i) => {
      const w = s.zones[i]!;
      assert.deepEqual([...w.wmark.slice(0, 3), ...w.lowmemReserve], [z.min, z.low, z.high, ...z.protection], `${run} ${z.zone}`);
      for (const p of z.pagesets) assert.deepEqual([w.pcpHigh, w.pcpBatch], [p.high, p.batch], `${run} ${z.zone} pcp`);
    });
  }
});

test('boost_watermark: +1 pageblock per steal up to 150 % of high, never in tiny zones', () => {
  // DMA32 of the 2048M capture: high 16765 → max boost mult_frac(16765, 15000, 10000) = 25147
  let b = 0;
  for (let i = 0; i < 100; i++) b = boostWatermark(b, 16765, 499757, 15000).boost;
  assert.equal(b, 25147);
  assert.deepEqual(boostWatermark(0, 16765, 499757, 15000), { boosted: true, boost: 512 });
  assert.deepEqual(boostWatermark(0, 32, 1500, 15000), { boosted: false, boost: 0 }, '4 pageblocks > managed');
  assert.deepEqual(boostWatermark(0, 16765, 499757, 0), { boosted: false, boost: 0 });
  assert.deepEqual(boostWatermark(0, 128, 3840, 15000), { boosted: true, boost: 512 }, 'at least one pageblock');
});
