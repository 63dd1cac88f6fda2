/** The core against real 6.1 captures: boot free state from kpageflags, and the trace replay primitives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QEMU } from './_shared.ts';
import { machineFromZoneinfo, computeZoneSetup } from '../src/zone/setup.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { parseBuddyinfo } from '../src/stats/buddyinfo.ts';
import { freeRunsFromKpageflags } from '../src/trace/kpageflags.ts';
import { readMaybeCompressed } from '../src/trace/trace_file.ts';
import { PageAllocator } from '../src/alloc/page_alloc.ts';
import { verify } from '../src/debug/verify.ts';
import { ZONE_NAMES } from '../src/mm/constants.ts';

for (const run of ['512M', '2048M']) {
  test(`init_free_runs_from_kpageflags_reproduces_01_pre_buddyinfo (${run})`, () => {
    const dir = path.join(QEMU, run);
    const zi = parseZoneinfo(readFileSync(path.join(dir, 'snap', '01_pre', 'zoneinfo'), 'utf8'));
    const spec = machineFromZoneinfo(zi);
    const a = PageAllocator.create({ spec, watermarks: computeZoneSetup(spec).zones });
    const zones = a.zonelist(0).map((z) => a.zone(z)).map((z) => ({ zoneIdx: z.type, startPfn: z.startPfn, spanned: z.spanned }));
    const runs = freeRunsFromKpageflags(readMaybeCompressed(path.join(dir, 'kpageflags.pre.xz')), zones);
    a.initFreeRuns(runs.map((r) => [r.startPfn, r.startPfn + r.nrPages] as const));
    verify(a);
    const real = parseBuddyinfo(readFileSync(path.join(dir, 'snap', '01_pre', 'buddyinfo'), 'utf8'));
    for (const rz of real.zones) {
      const z = a.zonelist(0).find((s) => ZONE_NAMES[a.zone(s).type] === rz.zone)!;
      assert.deepEqual(a.buddyinfo(z), rz.nrFree, `${run} ${rz.zone}`);
    }
    // replay primitives: take the first free block of order ≥ 3 down to order 0 and give it back
    const z = a.zonelist(0)[0]!;
    const { startPfn, endPfn } = a.zone(z);
    let head = -1;
    for (let p = startPfn; p < endPfn; p++) if (a.freeBlockHead(p) === p && a.page(p).order >= 3) { head = p; break; }
    assert.ok(head >= 0);
    const before = a.buddyinfo(z);
    const order = a.page(head).order;
    assert.equal(a.freeBlockHead(head + 5), head, 'a page inside a free block finds its head');
    assert.ok(a.takeFreeBlock(head, 0));
    assert.equal(a.freeBlockHead(head), -1);
    assert.equal(a.freeBlockHead(head + 1), head + 1, 'expand put the buddy back as a free block');
    verify(a);
    a.freeBlock(head, 0);
    assert.deepEqual(a.buddyinfo(z), before, 'freeing it merges back to the original block');
    assert.equal(a.removeFreeBlock(head), order);
    verify(a);
    a.freeBlock(head, order);
    assert.deepEqual(a.buddyinfo(z), before);
    verify(a);
  });
}
