import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freeRunsFromKpageflags, kpfTest, KPF_BUDDY, runsToBuddyinfo, splitRun } from '../src/trace/kpageflags.ts';
import { readMaybeCompressed } from '../src/trace/trace_file.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { parseBuddyinfo } from '../src/stats/buddyinfo.ts';
import { matchSnapshots, type PhaseMarker } from '../src/trace/phases.ts';
import { BadInputError } from '../src/errors.ts';
import { QEMU } from './_shared.ts';

const ZONE_IDX: Record<string, number> = { DMA: 0, DMA32: 1, Normal: 2 };

for (const run of ['512M', '2048M']) {
  test(`kpageflags_buddy_runs_split_greedily_give_the_real_01_pre_buddyinfo (${run})`, () => {
    const dir = path.join(QEMU, run);
    const zi = parseZoneinfo(readFileSync(path.join(dir, 'snap', '01_pre', 'zoneinfo'), 'utf8'));
    const zones = zi.zones.filter((z) => z.spanned > 0).map((z) => ({ zoneIdx: ZONE_IDX[z.zone]!, startPfn: z.startPfn!, spanned: z.spanned }));
    const bytes = readMaybeCompressed(path.join(dir, 'kpageflags.pre.xz'));
    const runs = freeRunsFromKpageflags(bytes, zones);
    const real = parseBuddyinfo(readFileSync(path.join(dir, 'snap', '01_pre', 'buddyinfo'), 'utf8'));
    for (const z of real.zones) assert.deepEqual(runsToBuddyinfo(runs, ZONE_IDX[z.zone]!), z.nrFree, z.zone);
    // every run is inside its zone and made of KPF_BUDDY pages only
    for (const r of runs) {
      const z = zones.find((x) => x.zoneIdx === r.zoneIdx)!;
      assert.ok(r.startPfn >= z.startPfn && r.startPfn + r.nrPages <= z.startPfn + z.spanned);
      for (let p = r.startPfn; p < r.startPfn + r.nrPages; p++) assert.ok(kpfTest(bytes, p, KPF_BUDDY));
    }
  });
}

test('greedy_split_gives_maximal_aligned_blocks_and_no_free_buddy_pair', () => {
  const blocks = splitRun(3, 1 + 4 + 1024 + 2048 + 3);
  let pfn = 3;
  for (const b of blocks) {
    assert.equal(b.pfn, pfn);
    assert.equal(b.pfn % (1 << b.order), 0);
    pfn += 1 << b.order;
  }
  for (const a of blocks) for (const b of blocks) {
    if (a !== b && a.order === b.order && a.order < 10) assert.notEqual(a.pfn ^ (1 << a.order), b.pfn);
  }
});

test('kpageflags_of_a_torn_length_is_a_typed_error', () => {
  assert.throws(() => freeRunsFromKpageflags(new Uint8Array(12), []), BadInputError);
});

test('markers_match_snapshot_directories_in_order', () => {
  const mk = (text: string): PhaseMarker => ({ row: 0, line: 0, ts: 0, text, readerEnd: -1, readerPid: -1 });
  const markers = ['mixed begin', 'mixed end', 'tmpfs begin', 'tmpfs filled', 'tmpfs end', 'brd begin', 'brd filled', 'brd end',
    'frag begin', 'frag end', 'pagecache begin', 'pagecache end', 'pressure begin', 'pressure end'].map((t) => mk(`ORACLE phase ${t}`));
  const dirs = ['00_boot', '01_pre', '02_after_mixed', '03_tmpfs_filled', '04_brd_filled', '05_after_frag', '06_pagecache',
    '07_after_pressure', '08_post', '09_dropcaches_compacted'];
  assert.deepEqual(matchSnapshots(markers, dirs), [undefined, '02_after_mixed', undefined, '03_tmpfs_filled', undefined, undefined,
    '04_brd_filled', undefined, undefined, '05_after_frag', undefined, '06_pagecache', undefined, '07_after_pressure']);
});
