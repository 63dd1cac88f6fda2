/**
 * A scenario's `machine.zones`: the atomic-512m machine is the linux-6.1-atomic guest, so a freshly built allocator
 * must show that guest's boot zoneinfo (snap/00_boot) — watermarks, lowmem_reserve, pcp high and batch — exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './_shared.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { createSimAllocator } from '../src/sim/machine.ts';
import { applyOverrides, loadScenario } from '../src/sim/run.ts';
import { BadInputError } from '../src/errors.ts';

const real = parseZoneinfo(readFileSync(path.join(FIXTURES, 'linux-6.1-atomic', '512M', 'o0_mfk-default', 'snap', '00_boot', 'zoneinfo'), 'utf8'));

test('atomic-512m builds the fixture guest: its boot min_free_kbytes, watermarks, protection and pcp sizes', () => {
  const spec = loadScenario('atomic-512m');
  const a = createSimAllocator(spec.machine);
  assert.equal(a.minFreeKbytes, Number(readFileSync(path.join(FIXTURES, 'linux-6.1-atomic', '512M', 'o0_mfk-default', 'snap', '00_boot', 'min_free_kbytes'), 'utf8').trim()));
  const populated = real.zones.filter((z) => (z.managed ?? 0) > 0);
  assert.equal(a.zones.length, populated.length);
  for (let i = 0; i < populated.length; i++) {
    const r = populated[i]!;
    const ours = a.zones[i]!;
    assert.equal(ours.name, r.zone);
    assert.equal(ours.managed, r.managed);
    assert.equal(ours.startPfn, r.startPfn);
    let slot = 0;
    while (a.pa.zone(slot).name !== r.zone || a.pa.zone(slot).managed === 0) slot++;
    const w = a.pa.watermarks(slot);
    assert.deepEqual([w.min, w.low, w.high], [r.min, r.low, r.high], r.zone);
    assert.deepEqual(w.lowmemReserve.slice(0, r.protection.length), r.protection, `${r.zone} protection`);
    const pcp = r.pagesets[0]!;
    assert.deepEqual([w.pcpHigh, w.pcpBatch], [pcp.high, pcp.batch], `${r.zone} pcp`);
  }
});

test('machine.zones: bad sizes are a BadInputError; --mem drops the zones for the qemu layout of that size', () => {
  const spec = loadScenario('atomic-512m');
  spec.machine.zones = [{ zone: 'HighMem', spanned: 10, present: 10 }];
  assert.throws(() => createSimAllocator(spec.machine), (e: unknown) => e instanceof BadInputError && /HighMem/.test((e as Error).message));
  spec.machine.zones = [{ zone: 'DMA32', startPfn: 4096, spanned: 100, present: 200, managed: 50 }];
  assert.throws(() => createSimAllocator(spec.machine), (e: unknown) => e instanceof BadInputError && /managed <= present <= spanned/.test((e as Error).message));
  const resized = applyOverrides(loadScenario('atomic-512m'), { mem: '1G' });
  assert.equal(resized.machine.zones, undefined);
  assert.ok(createSimAllocator(resized.machine).zones.some((z) => z.managed > 200_000));
});
