/**
 * Proof against the real kernel: every zoneinfo the 6.1 kernel recomputed for a grid of min_free_kbytes ×
 * watermark_scale_factor and three lowmem_reserve_ratio settings (linux-6.1-qemu/ * /wmgrid) is reproduced —
 * min, low, high, protection and pcp high/batch of every zone — by a machine built `--like` that file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { computeZoneSetup, machineFromZoneinfo } from '../src/zone/setup.ts';
import { ZONE_NAMES } from '../src/mm/constants.ts';
import { RUNS, wmgridPoints } from './_wmgrid.ts';

test('every wmgrid zoneinfo: min, low, high, protection and pcp high/batch reproduced exactly', () => {
  const points = wmgridPoints();
  assert.equal(points.length, RUNS.length * 23, 'expected 20 mfk×wsf points and 3 lrr points per run');
  let zonesChecked = 0;
  for (const p of points) {
    const info = parseZoneinfo(fs.readFileSync(p.file, 'utf8'));
    const spec = machineFromZoneinfo(info, { minFreeKbytes: p.mfk, watermarkScaleFactor: p.wsf, lowmemReserveRatio: p.lrr });
    const setup = computeZoneSetup(spec);
    for (const z of info.zones) {
      const k = spec.zones.findIndex((s) => s.node === z.node && s.managed === (z.managed ?? 0) && s.spanned === z.spanned
        && ZONE_NAMES[s.zoneIdx] === z.zone);
      assert.ok(k >= 0);
      const w = setup.zones[k]!;
      const where = `${p.run} ${path.basename(p.file)} ${z.zone}`;
      assert.deepEqual([w.wmark[0], w.wmark[1], w.wmark[2]], [z.min, z.low, z.high], `${where}: min/low/high`);
      assert.deepEqual(w.lowmemReserve, z.protection, `${where}: protection`);
      for (const pcp of z.pagesets) {
        assert.equal(w.pcpBatch, pcp.batch, `${where}: pcp batch`);
        assert.equal(w.pcpHigh, pcp.high, `${where}: pcp high`);
        assert.equal(setup.statThreshold[k], pcp.statThreshold, `${where}: vm stats threshold`);
      }
      zonesChecked++;
    }
  }
  assert.equal(zonesChecked, RUNS.length * 23 * 5);
});
