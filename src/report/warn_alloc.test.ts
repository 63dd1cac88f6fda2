/**
 * Golden test: every real 6.1 "page allocation failure" report captured in
 * linux-6.1-atomic/512M/<run>/dmesg.txt.xz is parsed into the renderer's input numbers, rendered again,
 * and compared byte for byte, line by line (all lines except the stack dump, which we do not simulate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, fixtureText } from '../../test/_shared.ts';
import {
  renderShowMem, warnAllocFirstLine, RateLimit, warnAllocRateLimit, HZ, NSEC_PER_JIFFY,
  type ShowMemInput, type MemInfoZone, type WarnAllocHeader,
} from './warn_alloc.ts';
import { MIGRATETYPE_LETTERS, ZONE_NAMES, MAX_ORDER } from '../mm/constants.ts';

const ATOMIC = path.join(FIXTURES, 'linux-6.1-atomic', '512M');

interface RealReport { first: string; memInfo: string[]; suppressedBefore: number | null }

/** Split a dmesg into reports: first line, then the Mem-Info block up to "pages hwpoisoned". */
function realReports(dmesg: string): RealReport[] {
  const lines = dmesg.split('\n').map((l) => l.replace(/^\[\s*\d+\.\d+\] /, ''));
  const out: RealReport[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/: page allocation failure: order:/.test(lines[i]!)) continue;
    const prev = i > 0 ? /^warn_alloc: (\d+) callbacks suppressed$/.exec(lines[i - 1]!) : null;
    let j = i + 1;
    while (j < lines.length && lines[j] !== 'Mem-Info:') j++;
    const mem: string[] = [];
    for (; j < lines.length; j++) {
      mem.push(lines[j]!);
      if (/ pages hwpoisoned$/.test(lines[j]!)) break;
    }
    out.push({ first: lines[i]!, memInfo: mem, suppressedBefore: prev ? Number(prev[1]) : null });
  }
  return out;
}

function kv(line: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const mt of line.matchAll(/([a-z_()]+)[:=] ?(\S+)/g)) m.set(mt[1]!, mt[2]!);
  return m;
}
const pages = (v: string | undefined): number => {
  assert.ok(v !== undefined);
  const n = Number(v.replace(/[kK]B$/, ''));
  assert.equal(n % 4, 0);
  return n / 4;
};
const num = (v: string | undefined): number => { assert.ok(v !== undefined); return Number(v); };

/** Parse the real block into our renderer's input (only numbers; no text is carried over). */
function parseShowMem(mem: string[]): ShowMemInput {
  const glob = kv(mem.slice(1, 9).join(' '));
  const input: ShowMemInput = {
    numa: true,
    global: {
      activeAnon: num(glob.get('active_anon')), inactiveAnon: num(glob.get('inactive_anon')), isolatedAnon: num(glob.get('isolated_anon')),
      activeFile: num(glob.get('active_file')), inactiveFile: num(glob.get('inactive_file')), isolatedFile: num(glob.get('isolated_file')),
      unevictable: num(glob.get('unevictable')), dirty: num(glob.get('dirty')), writeback: num(glob.get('writeback')),
      slabReclaimable: num(glob.get('slab_reclaimable')), slabUnreclaimable: num(glob.get('slab_unreclaimable')),
      mapped: num(glob.get('mapped')), shmem: num(glob.get('shmem')), pagetables: num(glob.get('pagetables')),
      secPagetables: num(glob.get('sec_pagetables')), bounce: num(glob.get('bounce')),
      kernelMiscReclaimable: num(glob.get('kernel_misc_reclaimable')),
      free: num(glob.get('free')), freePcp: num(glob.get('free_pcp')), freeCma: num(glob.get('free_cma')),
    },
    nodes: [], zones: [],
    totals: { hugepages: [], totalPagecache: 0, swapCache: 0, freeSwapKb: 0, totalSwapKb: 0, pagesRam: 0, pagesHighMemMovableOnly: 0, pagesReserved: 0, pagesHwpoisoned: 0 },
  };
  const zoneByName = new Map<string, MemInfoZone>();
  let lastZone: MemInfoZone | null = null;
  for (const line of mem.slice(9)) {
    let m: RegExpExecArray | null;
    if ((m = /^Node (\d+) active_anon:/.exec(line))) {
      const f = kv(line);
      input.nodes.push({
        node: Number(m[1]), activeAnon: pages(f.get('active_anon')), inactiveAnon: pages(f.get('inactive_anon')),
        activeFile: pages(f.get('active_file')), inactiveFile: pages(f.get('inactive_file')), unevictable: pages(f.get('unevictable')),
        isolatedAnon: pages(f.get('isolated(anon)')), isolatedFile: pages(f.get('isolated(file)')), mapped: pages(f.get('mapped')),
        dirty: pages(f.get('dirty')), writeback: pages(f.get('writeback')), shmem: pages(f.get('shmem')),
        shmemThp: pages(f.get('shmem_thp')), shmemPmdmapped: pages(f.get('shmem_pmdmapped')), anonThp: pages(f.get('anon_thp')),
        writebackTmp: pages(f.get('writeback_tmp')), kernelStackKb: Number(f.get('kernel_stack')!.replace('kB', '')),
        pagetables: pages(f.get('pagetables')), secPagetables: pages(f.get('sec_pagetables')),
        allUnreclaimable: /all_unreclaimable\? yes/.test(line),
      });
    } else if ((m = /^Node (\d+) (\w+) free:/.exec(line))) {
      const f = kv(line);
      const boost = pages(f.get('boost'));
      const z: MemInfoZone = {
        node: Number(m[1]), zoneIdx: ZONE_NAMES.indexOf(m[2] as typeof ZONE_NAMES[number]),
        free: pages(f.get('free')), boost,
        wmarkMin: pages(f.get('min')) - boost, wmarkLow: pages(f.get('low')) - boost, wmarkHigh: pages(f.get('high')) - boost,
        reservedHighatomic: pages(f.get('reserved_highatomic')), activeAnon: pages(f.get('active_anon')),
        inactiveAnon: pages(f.get('inactive_anon')), activeFile: pages(f.get('active_file')), inactiveFile: pages(f.get('inactive_file')),
        unevictable: pages(f.get('unevictable')), writePending: pages(f.get('writepending')), present: pages(f.get('present')),
        managed: pages(f.get('managed')), mlocked: pages(f.get('mlocked')), bounce: pages(f.get('bounce')),
        freePcp: pages(f.get('free_pcp')), localPcp: pages(f.get('local_pcp')), freeCma: pages(f.get('free_cma')),
        lowmemReserve: [], nrFree: [], typesMask: [],
      };
      assert.ok(z.zoneIdx >= 0);
      input.zones.push(z);
      zoneByName.set(`${z.node} ${m[2]}`, z);
      lastZone = z;
    } else if ((m = /^lowmem_reserve\[\]:(.*)$/.exec(line))) {
      assert.ok(lastZone);
      lastZone.lowmemReserve = m[1]!.trim().split(/\s+/).map(Number);
    } else if ((m = /^Node (\d+) (\w+): (.*) = (\d+)kB$/.exec(line))) {
      const z = zoneByName.get(`${m[1]} ${m[2]}`);
      assert.ok(z);
      for (const b of m[3]!.matchAll(/(\d+)\*(\d+)kB(?: \(([A-Z]+)\))?/g)) {
        z.nrFree.push(Number(b[1]));
        let mask = 0;
        for (const ch of b[3] ?? '') mask |= 1 << MIGRATETYPE_LETTERS.indexOf(ch as typeof MIGRATETYPE_LETTERS[number]);
        z.typesMask.push(mask);
      }
      assert.equal(z.nrFree.length, MAX_ORDER);
    } else if ((m = /^Node (\d+) hugepages_total=(\d+) hugepages_free=(\d+) hugepages_surp=(\d+) hugepages_size=(\d+)kB$/.exec(line))) {
      input.totals.hugepages.push({ node: Number(m[1]), total: Number(m[2]), free: Number(m[3]), surp: Number(m[4]), sizeKb: Number(m[5]) });
    } else if ((m = /^(\d+) total pagecache pages$/.exec(line))) input.totals.totalPagecache = Number(m[1]);
    else if ((m = /^(\d+) pages in swap cache$/.exec(line))) input.totals.swapCache = Number(m[1]);
    else if ((m = /^Free swap {2}= (\d+)kB$/.exec(line))) input.totals.freeSwapKb = Number(m[1]);
    else if ((m = /^Total swap = (\d+)kB$/.exec(line))) input.totals.totalSwapKb = Number(m[1]);
    else if ((m = /^(\d+) pages RAM$/.exec(line))) input.totals.pagesRam = Number(m[1]);
    else if ((m = /^(\d+) pages HighMem\/MovableOnly$/.exec(line))) input.totals.pagesHighMemMovableOnly = Number(m[1]);
    else if ((m = /^(\d+) pages reserved$/.exec(line))) input.totals.pagesReserved = Number(m[1]);
    else if ((m = /^(\d+) pages hwpoisoned$/.exec(line))) input.totals.pagesHwpoisoned = Number(m[1]);
    else assert.fail(`unrecognised Mem-Info line: ${line}`);
  }
  return input;
}

function parseHeader(first: string): WarnAllocHeader {
  const m = /^(.*): page allocation failure: order:(\d+), mode:0x([0-9a-f]+)\((.*)\), nodemask=(\S+?),cpuset=(\S+?),mems_allowed=(\S+)$/.exec(first);
  assert.ok(m, first);
  return {
    comm: m[1]!, pid: 0, cpu: 0, order: Number(m[2]), gfp: parseInt(m[3]!, 16), gfpNames: m[4]!,
    nodemask: m[5] === '(null)' ? null : m[5]!, cpuset: m[6]!, memsAllowed: m[7]!, inInterrupt: true,
  };
}

const runs = existsSync(ATOMIC) ? readdirSync(ATOMIC).sort() : [];

test('warn_alloc_report_matches_real_6_1_reports_byte_for_byte', () => {
  let compared = 0;
  let lines = 0;
  for (const run of runs) {
    const dmesg = fixtureText(path.join(ATOMIC, run, 'dmesg.txt.xz'));
    for (const r of realReports(dmesg)) {
      const header = parseHeader(r.first);
      assert.equal(warnAllocFirstLine(header), r.first);
      const rendered = renderShowMem(parseShowMem(r.memInfo));
      assert.deepEqual(rendered, r.memInfo, `${run}: Mem-Info block differs`);
      compared++;
      lines += 1 + rendered.length;
    }
  }
  // 11 reports in the 17 runs (checked by `xz -dc */dmesg.txt.xz | grep -c 'page allocation failure'`).
  assert.equal(compared, 11);
  assert.ok(lines > 11 * 20);
});

test('warn_alloc_ratelimit_is_10s_burst_1_with_suppressed_notice', () => {
  const rs = warnAllocRateLimit();
  const notices: string[] = [];
  const sec = 1_000_000_000;
  assert.equal(rs.allow(5 * sec, (l) => notices.push(l)), true);
  let suppressed = 0;
  for (let t = 5 * sec + 1; t <= 15 * sec; t += sec / 100) if (!rs.allow(t, (l) => notices.push(l))) suppressed++;
  assert.equal(notices.length, 0);
  // exactly 10 s after the window began (2500 jiffies) is still inside it: time_after is strict
  assert.equal(rs.allow(5 * sec + 10 * HZ * NSEC_PER_JIFFY), false);
  suppressed++;
  assert.equal(rs.allow(5 * sec + (10 * HZ + 1) * NSEC_PER_JIFFY, (l) => notices.push(l)), true);
  assert.deepEqual(notices, [`warn_alloc: ${suppressed} callbacks suppressed`]);
  const r2 = new RateLimit('x', 1, 1);
  assert.equal(r2.allow(0), true);
});

test('real_reports_show_one_report_per_10s_window', () => {
  // The real default run printed at 5.25 s and 15.30 s, the second after "12925 callbacks suppressed".
  const dmesg = fixtureText(path.join(ATOMIC, 'o0_mfk-default', 'dmesg.txt.xz'));
  const reps = realReports(dmesg);
  assert.equal(reps.length, 2);
  assert.equal(reps[0]!.suppressedBefore, null);
  assert.equal(reps[1]!.suppressedBefore, 12925);
});
