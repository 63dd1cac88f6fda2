/**
 * The warn_alloc report reader against every real report in ../shared/fixtures/reports and the
 * real 6.1 failures of linux-6.1-atomic, plus the mess real pastes add (checked metamorphically:
 * a messed-up copy must read exactly like the clean one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, fixtureText } from './_shared.ts';
import { parseReports, type ParsedReport } from '../src/report/parse.ts';
import { BadInputError } from '../src/errors.ts';

const REPORTS = path.join(FIXTURES, 'reports');
const ATOMIC = path.join(FIXTURES, 'linux-6.1-atomic', '512M');

interface ManifestRow { file: string; kernel: string; order: number; modeHex: string; modeNames: string; completeness: string }

export function manifest(): ManifestRow[] {
  const rows = readFileSync(path.join(REPORTS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  return rows.map((l) => {
    const c = l.split('\t');
    return { file: c[0]!.replace(/^reports\//, ''), kernel: c[2]!, order: Number(c[3]), modeHex: c[4]!, modeNames: c[5]!, completeness: c[6]! };
  });
}

const read = (f: string) => readFileSync(path.join(REPORTS, f), 'utf8');

test('every report in the manifest parses to the order, mode and names the kernel printed', () => {
  const rows = manifest();
  assert.ok(rows.length >= 20);
  for (const row of rows) {
    const reps = parseReports(read(row.file));
    assert.equal(reps.length, 1, row.file);
    const r = reps[0]!;
    assert.equal(r.order, row.order, `${row.file} order`);
    assert.equal(r.modeHex, row.modeHex, `${row.file} mode`);
    // The manifest leaves names empty both for "mode:0x0()" and for pre-4.x headers without names.
    assert.equal(r.modeNames ?? '', row.modeNames, `${row.file} names`);
    if (row.kernel !== 'unknown') assert.equal(r.task?.kernel, row.kernel, `${row.file} kernel`);
  }
});

test('001 (6.19): every zone number as printed, boost and the capital-KB highatomic field', () => {
  const r = parseReports(read('001.txt'))[0]!;
  assert.equal(r.comm, 'kswapd0');
  assert.equal(r.task?.cpu, 4);
  assert.equal(r.task?.pid, 156);
  assert.equal(r.task?.tainted, null);
  assert.equal(r.nodemask, '(null)');
  assert.equal(r.cpuset, '/');
  assert.equal(r.memsAllowed, '0');
  assert.equal(r.memInfo.free, 36223);
  assert.equal(r.memInfo.sec_pagetables, 733);
  assert.equal(r.memInfo.kernel_misc_reclaimable, 0);
  assert.deepEqual(r.zones.map((z) => z.name), ['DMA', 'DMA32', 'Normal']);
  const n = r.zones[2]!;
  assert.equal(n.node, 0);
  assert.equal(n.fields.free, 79392);
  assert.equal(n.fields.boost, 28672);
  assert.equal(n.fields.min, 80308);
  assert.equal(n.fields.low, 93216);
  assert.equal(n.fields.high, 106124);
  assert.equal(n.fields.reserved_highatomic, 2048);
  assert.equal(n.units.reserved_highatomic, 'kB');
  assert.equal(n.fields.free_highatomic, 32);
  assert.deepEqual(n.lowmemReserve, [0, 0, 0, 0, 0]);
  assert.deepEqual(r.zones[0]!.lowmemReserve, [0, 2862, 11990, 11990, 11990]);
  assert.deepEqual(n.freeArea?.nrFree, [1024, 534, 409, 1301, 154, 39, 14, 1, 2, 1, 0]);
  assert.deepEqual(n.freeArea?.types, ['UMEH', 'UEH', 'UME', 'UME', 'UME', 'UME', 'UM', 'U', 'UM', 'U', null]);
  assert.equal(n.freeArea?.totalKb, 79584);
  assert.equal(r.hugepages.length, 2);
  assert.equal(r.hugepages[0]!.sizeKb, 1048576);
  assert.equal(r.totals.ramPages, 4022646);
  assert.equal(r.totals.reservedPages, 949254);
  assert.equal(r.totals.freeSwapKb, 8387580);
  assert.equal(r.nodes[0]!.node, 0);
  assert.equal(r.context, 'task');
});

test('047 (3.3, x86-32): no names, wrapped zone lines, per-cpu lines, old totals', () => {
  const r = parseReports(read('047.txt'))[0]!;
  assert.equal(r.modeNames, null);
  assert.equal(r.task?.pid, 15776);
  assert.equal(r.task?.cpu, null);
  assert.equal(r.task?.kernel, '3.3.0-rc1');
  assert.deepEqual(r.pcp, [{ zone: 'DMA', cpu: 0, high: 0, batch: 1, count: 0 }, { zone: 'Normal', cpu: 0, high: 90, batch: 15, count: 0 }]);
  assert.deepEqual(r.zones.map((z) => [z.name, z.fields.free, z.fields.min, z.fields.present, z.allUnreclaimable]), [
    ['DMA', 1100, 124, 15808, false], ['Normal', 2756, 1904, 242824, false],
  ]);
  assert.deepEqual(r.zones[0]!.lowmemReserve, [0, 237, 237]);
  assert.deepEqual(r.zones[1]!.freeArea?.nrFree, [233, 202, 5, 0, 2, 0, 0, 0, 0, 0, 0]);
  assert.equal(r.zones[1]!.freeArea?.totalKb, 2756);
  assert.equal(r.totals.sharedPages, 49870);
  assert.equal(r.totals.nonSharedPages, 36872);
  assert.equal(r.memInfo.free, 994);
});

test('058 (2.6): the "failure. order:" header and its Pid:/comm: line', () => {
  const r = parseReports(read('058.txt'))[0]!;
  assert.equal(r.headerStyle, '2.6');
  assert.equal(r.comm, 'ifconfig');
  assert.equal(r.order, 5);
  assert.equal(r.mode, 0x8020);
  assert.equal(r.task?.kernel, '2.6.31+frans2+mel-00002-g90702f9-dirty');
  assert.equal(r.hasMemInfo, false);
});

test('012 (4.19): the separate "<comm> cpuset=… mems_allowed=…" line', () => {
  const r = parseReports(read('012.txt'))[0]!;
  assert.equal(r.cpuset, '/');
  assert.equal(r.memsAllowed, '0');
  assert.equal(r.task?.kernel, '4.19');
  assert.equal(r.task?.tainted, 'G E');
});

test('024 (MIPS): DEL bytes, wrapped header and CPU line, softirq context, non-NUMA zone names', () => {
  const r = parseReports(read('024.txt'))[0]!;
  assert.equal(r.modeNames, 'GFP_ATOMIC');
  assert.equal(r.task?.kernel, '5.8.0-00013-g192f2fd7b678');
  assert.equal(r.context, 'interrupt');
  assert.equal(r.zones.length, 1);
  assert.equal(r.zones[0]!.node, null);
  assert.equal(r.zones[0]!.fields.managed, 118804);
  assert.equal(r.zones[0]!.fields.free_cma, 0);
  assert.deepEqual(r.zones[0]!.freeArea?.nrFree, [11, 59, 75, 3, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(r.nodes[0]!.allUnreclaimable, false);
  assert.deepEqual(r.totals.swapCacheStats, { add: 533859, delete: 533553, findHit: 134676, findTotal: 266712 });
});

test('010 (arm64): non-breaking spaces, CMA letters, four hugepage sizes, cpuset name', () => {
  const r = parseReports(read('010.txt'))[0]!;
  assert.equal(r.cpuset, 'lxc.payload.openwrt');
  assert.equal(r.task?.tainted, 'G C');
  assert.equal(r.memInfo.free_cma, 194);
  assert.equal(r.zones[1]!.freeArea?.types[0], 'UMEHC');
  assert.equal(r.hugepages.length, 4);
  assert.equal(r.totals.cmaReservedPages, 8192);
  assert.equal(r.totals.freeSwapKb, 1700864);
});

test('013 and 030: mail-client wrapping re-joined into whole records', () => {
  const a = parseReports(read('013.txt'))[0]!;
  assert.equal(a.nodes.length, 2);
  assert.deepEqual(a.zones.map((z) => [z.name, z.fields.free, z.fields.managed]), [['DMA', 0, 0], ['DMA32', 256000, 256000], ['Normal', 5894876, 5953112]]);
  assert.deepEqual(a.zones[2]!.freeArea?.nrFree, [2, 3, 2, 3, 1, 2, 2, 3, 3, 3, 1436]);
  assert.equal(a.hugepages[0]!.sizeKb, 1048576);
  const b = parseReports(read('030.txt'))[0]!;
  assert.equal(b.zones[2]!.fields.reserved_highatomic, 2048);
  assert.deepEqual(b.zones[2]!.freeArea?.types, ['UM', 'UME', 'UMEH', 'UMEH', 'MH', 'M', 'M', null, 'H', null, null]);
  assert.equal(b.zones[2]!.freeArea?.totalKb, 422320);
  assert.deepEqual(b.totals.swapCacheStats, { add: 50169, delete: 49692, findHit: 12157134, findTotal: 12169109 });
});

test('029 and 035: android and caller-id prefixes', () => {
  assert.equal(parseReports(read('029.txt'))[0]!.comm, 'binder:569_5');
  assert.equal(parseReports(read('035.txt'))[0]!.comm, 'oom-torture');
});

test('the real 6.1 atomic-storm dmesg: both reports, the suppressed count, interrupt context', () => {
  const reps = parseReports(fixtureText(path.join(ATOMIC, 'o0_mfk-default', 'dmesg.txt.xz')));
  assert.equal(reps.length, 2);
  const [a, b] = reps as [ParsedReport, ParsedReport];
  assert.equal(a.comm, 'stormload');
  assert.equal(a.context, 'interrupt');
  assert.equal(a.task?.kernel, '6.1.0-56-amd64');
  assert.equal(a.suppressedBefore, null);
  assert.equal(b.suppressedBefore, 12925);
  const dma32 = a.zones[1]!;
  assert.deepEqual([dma32.fields.free, dma32.fields.boost, dma32.fields.min, dma32.fields.managed], [868, 5620, 8120, 416168]);
  assert.deepEqual(a.zones[0]!.lowmemReserve, [0, 406, 406, 406, 406]);
  assert.equal(a.totals.hwpoisonedPages, 0);
  assert.ok(a.endLine < b.startLine);
});

/** Compare what matters of two parses (line numbers and notes may differ). */
function essence(r: ParsedReport): unknown {
  return {
    comm: r.comm, order: r.order, mode: r.mode, names: r.modeNames, nodemask: r.nodemask, cpuset: r.cpuset, kernel: r.task?.kernel,
    memInfo: r.memInfo, zones: r.zones.map((z) => ({ n: z.node, name: z.name, f: z.fields, lr: z.lowmemReserve, fa: z.freeArea && { ...z.freeArea, line: 0 } })),
    nodes: r.nodes.map((n) => n.fields), huge: r.hugepages, totals: r.totals,
  };
}

test('CRLF, quote prefixes, syslog prefixes and stray bytes read exactly like the clean text', () => {
  const clean = read('001.txt');
  const base = essence(parseReports(clean)[0]!);
  const variants: Record<string, string> = {
    crlf: clean.replace(/\n/g, '\r\n'),
    quoted: clean.split('\n').map((l) => `> ${l}`).join('\n'),
    quoted2: clean.split('\n').map((l) => `>> ${l}`).join('\n'),
    nested: clean.split('\n').map((l) => `> > ${l}`).join('\n'),
    syslog: clean.split('\n').map((l) => `Jan  1 12:00:00 host kernel: ${l}`).join('\n'),
    del: clean.replace(/mode:/, '\u007fmode:').replace(/ free:/g, ' \u007ffree:'),
    nbsp: clean.replace(/Node 0 /g, 'Node\u00a00 '),
  };
  for (const [name, text] of Object.entries(variants)) {
    assert.deepEqual(essence(parseReports(text)[0]!), base, name);
  }
});

test('lines wrapped at 72 columns by a mail client read like the original', () => {
  // Strip the timestamps (as many pastes do), then wrap every long line at a space before column 72.
  const clean = read('004.txt').split('\n').map((l) => l.replace(/^\[[^\]]*\] ?/, ''));
  const wrapped: string[] = [];
  for (const l of clean) {
    let rest = l;
    while (rest.length > 72) {
      const cut = rest.lastIndexOf(' ', 72);
      if (cut <= 0) break;
      wrapped.push(rest.slice(0, cut + 1));
      rest = rest.slice(cut + 1);
    }
    wrapped.push(rest);
  }
  const a = essence(parseReports(clean.join('\n'))[0]!) as { zones: unknown };
  const b = essence(parseReports(wrapped.join('\n'))[0]!) as { zones: unknown };
  assert.deepEqual(b.zones, a.zones);
});

test('several reports in one input are all found, each with its own Mem-Info', () => {
  const text = [read('047.txt'), read('001.txt'), read('058.txt'), read('004.txt')].join('\n');
  const reps = parseReports(text);
  assert.deepEqual(reps.map((r) => r.comm), ['mumudvb', 'kswapd0', 'ifconfig', 'md5sum']);
  assert.deepEqual(reps.map((r) => r.zones.length), [2, 3, 0, 3]);
});

test('bad input: no report, or a header without a mode, is a BadInputError with its line', () => {
  assert.throws(() => parseReports('hello\nworld\n'), (e: unknown) => e instanceof BadInputError && e.code === 'report-not-found');
  assert.throws(() => parseReports(''), BadInputError);
  assert.throws(() => parseReports('x\ny\nfoo: page allocation failure: order:3\nbar\n'),
    (e: unknown) => e instanceof BadInputError && e.line === 3 && e.code === 'report-bad-header');
  assert.throws(() => parseReports('foo: page allocation failure: order:99999999999999999999, mode:0x20\n'),
    (e: unknown) => e instanceof BadInputError && e.line === 1);
});
