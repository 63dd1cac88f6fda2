/**
 * The /proc writers print the kernel's exact 6.1 text: every real snapshot of the qemu captures is parsed,
 * re-rendered and compared byte for byte with the original. The readers also take other kernels' layouts
 * (procfs fixtures: mail-wrapped, 2 nodes, HighMem, 4.x zoneinfo).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIXTURES, QEMU } from './_shared.ts';
import { parseZoneinfo, renderZoneinfo } from '../src/stats/zoneinfo.ts';
import { parseBuddyinfo, renderBuddyinfo } from '../src/stats/buddyinfo.ts';
import { parsePagetypeinfo, renderPagetypeinfo } from '../src/stats/pagetypeinfo.ts';
import { parseVmstat, renderVmstat, VMSTAT_NAMES_6_1, vmstatFromCounters } from '../src/stats/vmstat.ts';
import { parseMeminfo, renderMeminfo, meminfoGet } from '../src/stats/meminfo.ts';

function qemuFiles(name: string): string[] {
  const out: string[] = [];
  for (const run of ['512M', '2048M', 'static/1024M', 'static/4096M', 'static/8192M']) {
    const snap = path.join(QEMU, run, 'snap');
    for (const d of fs.readdirSync(snap).sort()) {
      const f = path.join(snap, d, name);
      if (fs.existsSync(f)) out.push(f);
    }
    if (name === 'zoneinfo') {
      const wm = path.join(QEMU, run, 'wmgrid');
      for (const f of fs.readdirSync(wm).sort()) if (f.endsWith('.zoneinfo')) out.push(path.join(wm, f));
    }
  }
  return out;
}

const ROUND_TRIPS: Array<[string, (t: string) => string]> = [
  ['zoneinfo', (t) => renderZoneinfo(parseZoneinfo(t))],
  ['buddyinfo', (t) => renderBuddyinfo(parseBuddyinfo(t))],
  ['pagetypeinfo', (t) => renderPagetypeinfo(parsePagetypeinfo(t))],
  ['vmstat', (t) => renderVmstat(parseVmstat(t))],
  ['meminfo', (t) => renderMeminfo(parseMeminfo(t))],
];

for (const [name, roundTrip] of ROUND_TRIPS) {
  test(`${name}: every real 6.1 capture re-renders byte for byte`, () => {
    const files = qemuFiles(name);
    assert.ok(files.length >= 26, `${name}: found ${files.length} files`);
    for (const f of files) {
      const text = fs.readFileSync(f, 'utf8');
      assert.equal(roundTrip(text), text, f);
    }
  });
}

test('vmstat: every 6.1 capture prints exactly VMSTAT_NAMES_6_1 in order', () => {
  for (const f of qemuFiles('vmstat')) {
    assert.deepEqual(parseVmstat(fs.readFileSync(f, 'utf8')).stats.map((s) => s.name), VMSTAT_NAMES_6_1, f);
  }
  const v = vmstatFromCounters({ nr_free_pages: 7, pgalloc_normal: 3 });
  assert.equal(v.stats.length, VMSTAT_NAMES_6_1.length);
  assert.match(renderVmstat(v), /^nr_free_pages 7\n[\s\S]*\npgalloc_normal 3\n/);
});

test('zoneinfo: per-node stats sit with the first populated zone; empty zones stop at protection', () => {
  const z = parseZoneinfo(fs.readFileSync(path.join(QEMU, 'static/4096M/snap/00_boot/zoneinfo'), 'utf8'));
  assert.deepEqual(z.zones.map((x) => x.zone), ['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
  assert.ok(z.zones[0]!.nodeStats!.length > 30);
  assert.equal(z.zones[1]!.nodeStats, undefined);
  assert.deepEqual(z.zones[3]!.stats, []);
  assert.equal(z.zones[2]!.startPfn, 1048576);
  assert.equal(z.zones[2]!.pagesets[0]!.batch, 63);
});

test('zoneinfo of another kernel (procfs/003: 4.x layout, 8 CPUs, cut after the last managed line)', () => {
  const z = parseZoneinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/003-zoneinfo.txt'), 'utf8'));
  assert.deepEqual(z.zones.map((x) => x.zone), ['DMA', 'DMA32', 'Normal', 'Movable', 'Device']);
  assert.equal(z.zones[0]!.boost, undefined);
  assert.deepEqual(z.zones[0]!.protection, [0, 2968, 16022, 16022, 16022]);
  assert.equal(z.zones[0]!.pagesets.length, 8);
  assert.equal(z.zones[4]!.incomplete, true);
});

test('buddyinfo of other kernels: mail-wrapped 2-node rows, 2 nodes, HighMem', () => {
  const b4 = parseBuddyinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/004-buddyinfo.txt'), 'utf8'));
  assert.deepEqual(b4.zones.map((z) => `${z.node}:${z.zone}:${z.nrFree.length}`), ['0:DMA:11', '0:DMA32:11', '0:Normal:11', '1:Normal:11']);
  assert.equal(b4.zones[3]!.nrFree[0], 51121);
  const b5 = parseBuddyinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/005-buddyinfo.txt'), 'utf8'));
  assert.equal(renderBuddyinfo(b5), fs.readFileSync(path.join(FIXTURES, 'procfs/005-buddyinfo.txt'), 'utf8'));
  const b11 = parseBuddyinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/011-buddyinfo.txt'), 'utf8'));
  assert.equal(b11.zones[2]!.zone, 'HighMem');
  const b7 = parseBuddyinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/007-buddyinfo.txt'), 'utf8'));
  assert.equal(b7.zones[2]!.nrFree[10], 35);
});

test('pagetypeinfo wrapped by a mail client (procfs/001) reads whole', () => {
  const p = parsePagetypeinfo(fs.readFileSync(path.join(FIXTURES, 'procfs/001-pagetypeinfo.txt'), 'utf8'));
  assert.equal(p.pageblockOrder, 9);
  assert.deepEqual(p.orders, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(p.free.length, 15);
  assert.deepEqual(p.free.find((r) => r.zone === 'Normal' && r.type === 'Movable')!.counts,
    [1087, 9678, 1104, 4250, 2391, 1946, 1768, 691, 141, 0, 0]);
  assert.deepEqual(p.blockTypes, ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate']);
  assert.deepEqual(p.blocks.map((b) => b.counts), [[1, 7, 0, 0, 0], [52, 1461, 15, 0, 0], [824, 5448, 383, 1, 0]]);
});

test('pagetypeinfo: counts at the 100000 cap print as ">100000"', () => {
  const text = 'Page block order: 9\nPages per block:  512\n\nFree pages count per migrate type at order       0 \n'
    + 'Node    0, zone   Normal, type      Movable >100000 \n\nNumber of blocks type     Unmovable \nNode 0, zone   Normal            1 \n';
  const p = parsePagetypeinfo(text);
  assert.equal(p.free[0]!.counts[0], 100000);
  assert.equal(renderPagetypeinfo(p), text);
});

test('meminfo values and CRLF input', () => {
  const m = parseMeminfo(fs.readFileSync(path.join(QEMU, '512M/snap/00_boot/meminfo'), 'utf8').replace(/\n/g, '\r\n'));
  assert.equal(meminfoGet(m, 'MemTotal'), 468404);
  assert.equal(meminfoGet(m, 'HugePages_Total'), 0);
  assert.equal(m.entries.find((e) => e.name === 'HugePages_Total')!.unit, undefined);
});
