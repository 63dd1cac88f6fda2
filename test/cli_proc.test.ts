/**
 * `labyrinth proc`: the zoneinfo watermark lines of `--like F --min-free-kbytes N --watermark-scale-factor W`
 * equal the real kernel's wmgrid files, and `--mem SIZE` reproduces the geometry and boot watermarks of the
 * captured boots.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { QEMU } from './_shared.ts';
import { procOutput } from '../src/cli/commands/proc.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { parseBuddyinfo } from '../src/stats/buddyinfo.ts';
import { parsePagetypeinfo } from '../src/stats/pagetypeinfo.ts';
import { parseVmstat } from '../src/stats/vmstat.ts';
import { wmgridPoints } from './_wmgrid.ts';
import { BadInputError } from '../src/errors.ts';

const run = (...args: string[]) => spawnSync(process.execPath, ['bin/labyrinth.mjs', ...args], { encoding: 'utf8' });

/** The lines of each zone that watermark setup decides. */
function wmarkLines(text: string): string[] {
  return text.split('\n').filter((l) => /^Node \d+, zone|^ {8}(min|low|high|protection)|^ {14}(high|batch):/.test(l));
}

test('proc zoneinfo --like reproduces every wmgrid file\'s watermark and protection lines', () => {
  const points = wmgridPoints();
  for (const p of points) {
    const out = procOutput('zoneinfo', {
      like: p.file, minFreeKbytes: String(p.mfk), watermarkScaleFactor: String(p.wsf), lowmemReserveRatio: p.lrr.join(' '),
    });
    assert.deepEqual(wmarkLines(out), wmarkLines(fs.readFileSync(p.file, 'utf8')), p.file);
  }
});

test('the CLI itself (spawned) on a sample of wmgrid points', () => {
  const pts = wmgridPoints().filter((p) => /mfk(128_wsf1|65536_wsf1000)\.|lrr_1_1_1/.test(p.file) && /4096M/.test(p.run));
  assert.equal(pts.length, 3);
  for (const p of pts) {
    const r = run('proc', 'zoneinfo', '--like', p.file, '--min-free-kbytes', String(p.mfk),
      '--watermark-scale-factor', String(p.wsf), '--lowmem-reserve-ratio', p.lrr.join(' '));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(wmarkLines(r.stdout), wmarkLines(fs.readFileSync(p.file, 'utf8')), p.file);
  }
});

test('proc zoneinfo --mem SIZE: geometry, boot watermarks, protection, pcp and start_pfn of the captured boots', () => {
  const CAPS: Array<[string, string]> = [['512M', '512M'], ['static/1024M', '1G'], ['2048M', '2G'], ['static/4096M', '4G'], ['static/8192M', '8G']];
  for (const [dir, mem] of CAPS) {
    const ours = parseZoneinfo(procOutput('zoneinfo', { mem }));
    const real = parseZoneinfo(fs.readFileSync(path.join(QEMU, dir, 'snap/00_boot/zoneinfo'), 'utf8'));
    const pick = (z: ReturnType<typeof parseZoneinfo>['zones'][number]) => ({
      zone: z.zone, min: z.min, low: z.low, high: z.high, spanned: z.spanned, present: z.present, managed: z.managed,
      protection: z.protection, startPfn: z.startPfn, pcp: z.pagesets.map((p) => [p.high, p.batch, p.statThreshold]),
      hasNodeStats: z.nodeStats !== undefined,
    });
    assert.deepEqual(ours.zones.map(pick), real.zones.map(pick), dir);
  }
});

test('proc buddyinfo/pagetypeinfo/vmstat of a fresh machine: free pages = managed, in max-order blocks', () => {
  const b = parseBuddyinfo(procOutput('buddyinfo', { mem: '4G' }));
  const z = parseZoneinfo(procOutput('zoneinfo', { mem: '4G' }));
  const populated = z.zones.filter((x) => x.present > 0);
  assert.equal(b.zones.length, populated.length);
  b.zones.forEach((bz, i) => {
    const pages = bz.nrFree.reduce((a, n, o) => a + n * 2 ** o, 0);
    assert.equal(pages, populated[i]!.managed, bz.zone);
    assert.equal(pages, populated[i]!.free, bz.zone);
  });
  const p = parsePagetypeinfo(procOutput('pagetypeinfo', { mem: '4G' }));
  // pageblock counts as the real 4096M boot counts them (online sections only): 8, 1528, 512
  assert.deepEqual(p.blocks.map((r) => r.counts.reduce((a, c) => a + c, 0)), [8, 1528, 512]);
  const v = parseVmstat(procOutput('vmstat', { mem: '4G' }));
  assert.equal(v.stats[0]!.value, populated.reduce((a, x) => a + (x.managed ?? 0), 0));
});

test('proc --json and bad input', () => {
  const r = run('proc', 'buddyinfo', '--mem', '1G', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { file: string; tunables: { minFreeKbytes: number }; buddyinfo: { zones: unknown[] } };
  assert.equal(j.file, 'buddyinfo');
  assert.equal(j.tunables.minFreeKbytes, 45056);
  assert.equal(j.buddyinfo.zones.length, 2);
  const e = run('proc', 'meminfo');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /^labyrinth: .+\n$/);
  assert.throws(() => procOutput('zoneinfo', { mem: '1G', like: 'x' }), BadInputError);
  assert.throws(() => procOutput('zoneinfo', { like: '/nonexistent' }), BadInputError);
  for (const o of [{ mem: 'lots' }, { watermarkScaleFactor: '0' }, { lowmemReserveRatio: 'a b' }, { minFreeKbytes: '-5' }, { cpus: '0' }]) {
    assert.throws(() => procOutput('zoneinfo', o), BadInputError, JSON.stringify(o));
  }
});

test('views read a live allocator through its inspection hooks', async () => {
  const { machineFromMem, computeZoneSetup } = await import('../src/zone/setup.ts');
  const { bootFreeState, freeStateFromAllocator, buddyinfoView, zoneinfoView } = await import('../src/zone/proc_view.ts');
  const spec = machineFromMem('512M', { nrCpus: 2 });
  const boot = spec.zones.map((_, k) => bootFreeState(spec, k));
  // a fake allocator whose DMA32 has handed 3 pages to cpu 1's pcp list out of one order-2 block
  const fake = {
    nrFreeMt: (z: number, o: number, mt: number) => boot[z]!.freeBlocks[o]![mt]! - (z === 1 && o === 2 && mt === 1 ? 1 : 0) + (z === 1 && o === 0 && mt === 1 ? 1 : 0),
    pageblockMigratetype: (pfn: number) => (pfn < 4096 && pfn < 512 ? 0 : 1),
    pcp: (z: number, cpu: number) => ({ count: z === 1 && cpu === 1 ? 3 : 0 }),
    zoneGauges: () => ({ watermarkBoost: 0 }),
    vmEvents: () => ({ pgalloc_dma32: 4 }),
  };
  const state = freeStateFromAllocator(spec, fake);
  assert.deepEqual(buddyinfoView(spec, state).zones[1]!.nrFree.slice(0, 3), [boot[1]!.freeBlocks[0]![1]! + 1, boot[1]!.freeBlocks[1]![1]!, boot[1]!.freeBlocks[2]![1]! - 1]);
  const zi = zoneinfoView(spec, computeZoneSetup(spec), state).zones[1]!;
  assert.equal(zi.free, spec.zones[1]!.managed - 3);
  assert.deepEqual(zi.pagesets.map((p) => p.count), [0, 3]);
});

test('pagetypeinfo_blockcount_skips_offline_sections: pageblocks per zone equal the real boots of every captured size', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { QEMU } = await import('./_shared.ts');
  const { parsePagetypeinfo } = await import('../src/stats/pagetypeinfo.ts');
  const boots: Array<[string, string]> = [
    ['512M', path.join(QEMU, '512M/snap/00_boot/pagetypeinfo')],
    ['1G', path.join(QEMU, 'static/1024M/snap/00_boot/pagetypeinfo')],
    ['2G', path.join(QEMU, '2048M/snap/00_boot/pagetypeinfo')],
    ['4G', path.join(QEMU, 'static/4096M/snap/00_boot/pagetypeinfo')],
    ['8G', path.join(QEMU, 'static/8192M/snap/00_boot/pagetypeinfo')],
  ];
  for (const [mem, file] of boots) {
    const real = parsePagetypeinfo(fs.readFileSync(file, 'utf8'));
    const ours = parsePagetypeinfo(procOutput('pagetypeinfo', { mem }));
    const total = (rows: typeof real.blocks) => rows.map((r) => `${r.zone}:${r.counts.reduce((a, b) => a + b, 0)}`);
    // the kernel has allocated since boot, so types differ; the number of pageblocks it walks per zone does not
    assert.deepEqual(total(ours.blocks), total(real.blocks), mem);
  }
});
