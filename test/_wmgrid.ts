/** The wmgrid points of the linux-6.1-qemu captures: each file with the sysctl values the kernel had when it printed it. */
import fs from 'node:fs';
import path from 'node:path';
import { QEMU } from './_shared.ts';
import { parseLowmemReserveRatio } from '../src/zone/setup.ts';

export const RUNS = ['512M', '2048M', 'static/1024M', 'static/4096M', 'static/8192M'];

export function wmgridPoints(): Array<{ run: string; file: string; mfk: number; wsf: number; lrr: number[] }> {
  const out = [];
  for (const run of RUNS) {
    const dir = path.join(QEMU, run, 'wmgrid');
    const d = fs.readFileSync(path.join(dir, 'defaults.txt'), 'utf8');
    const mfk0 = Number(/min_free_kbytes_default=(\d+)/.exec(d)![1]);
    const wsf0 = Number(/watermark_scale_factor_default=(\d+)/.exec(d)![1]);
    const lrr0 = parseLowmemReserveRatio(/lowmem_reserve_ratio_default=([\d\s]+)/.exec(d)![1]!);
    for (const f of fs.readdirSync(dir).sort()) {
      let m = /^mfk(\d+)_wsf(\d+)\.zoneinfo$/.exec(f);
      if (m) { out.push({ run, file: path.join(dir, f), mfk: Number(m[1]), wsf: Number(m[2]), lrr: lrr0 }); continue; }
      m = /^lrr_([\d_]+)\.zoneinfo$/.exec(f);
      if (m) out.push({ run, file: path.join(dir, f), mfk: mfk0, wsf: wsf0, lrr: m[1]!.split('_').map(Number) });
    }
  }
  return out;
}

