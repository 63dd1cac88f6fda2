/**
 * One kernel-version reader for every caller: every version in every fixture MANIFEST.tsv, every release on a
 * report's CPU line, the boot line of the QEMU dmesg captures, and what users paste. The expected numbers are the
 * kernel's own naming: VERSION.PATCHLEVEL[.SUBLEVEL] then EXTRAVERSION/LOCALVERSION (Makefile, scripts/setlocalversion).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES, QEMU, fixtureText } from '../../test/_shared.ts';
import { BadInputError } from '../errors.ts';
import { parseKernelVersion, atLeast } from './version.ts';
import { resolveLayout } from './resolve.ts';
import { parseReports } from '../report/parse.ts';
import { explainReport } from '../report/explain.ts';
import { fragmentationFromText } from '../report/fragmentation.ts';
import { applyOverrides, loadScenario } from '../sim/run.ts';

type Want = readonly [number, number, number] | 'reject';

/** Every distinct kernel_version of the fixture manifests, with its VERSION.PATCHLEVEL.SUBLEVEL. */
const MANIFEST_VERSIONS: Record<string, Want> = {
  '6.19.0-rc5-00027-g40fd0acc45d0': [6, 19, 0],
  '5.19.0-1-amd64': [5, 19, 0],
  '5.10.2': [5, 10, 2],
  '4.19': [4, 19, 0],
  '5.7.0-rc3+': [5, 7, 0],
  '5.3.0-rc4-sx1-los_80efa++': [5, 3, 0],
  '5.13.0-rc1-custom': [5, 13, 0],
  '5.8.0-00013-g192f2fd7b678': [5, 8, 0],
  '6.1.43-android14-11-abS921BXXU1AWLB': [6, 1, 43],
  '6.8.0-rc6-PMacG4': [6, 8, 0],
  '6.11.11-valve10-1-neptune-611-gb69e902b4338': [6, 11, 11],
  '3.3.0-rc1': [3, 3, 0],
  '4.9.24-coreos': [4, 9, 24],
  '4.12.0-rc3-android-x86+': [4, 12, 0],
  '2.6.31+frans2+mel-00002-g90702f9-dirty': [2, 6, 31],
  '5.13.x': [5, 13, 0],
  '5.3.0-rc2+': [5, 3, 0],
  '6.18.0-next-20251203-b2c27842ba85': [6, 18, 0],
  '5.18-rc2': [5, 18, 0],
  '6.13-era': [6, 13, 0],
  // Descriptions, not releases: refused rather than guessed (CentOS's 7.6 is not Linux 7.6).
  'unknown': 'reject',
  'unknown (2019, x86_64)': 'reject',
  'unknown (32-bit, HighMem)': 'reject',
  'CentOS 7.6 (3.10-based)': 'reject',
};

function check(text: string, want: Want): void {
  if (want === 'reject') {
    assert.throws(() => parseKernelVersion(text),
      (e: unknown) => e instanceof BadInputError && e.code === 'KERNEL_VERSION_SYNTAX' && e.message.startsWith(`Cannot read kernel version "${text.trim()}": because`),
      text);
    return;
  }
  const v = parseKernelVersion(text);
  assert.deepEqual([v.major, v.minor, v.patch], want, text);
  assert.equal(v.raw, text.trim());
}

function findFiles(dir: string, name: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...findFiles(path.join(dir, e.name), name));
    else if (name.test(e.name)) out.push(path.join(dir, e.name));
  }
  return out;
}

function manifestRows(): Array<{ file: string; kernel: string }> {
  const rows: Array<{ file: string; kernel: string }> = [];
  for (const dir of readdirSync(FIXTURES)) {
    let text: string;
    try { text = readFileSync(path.join(FIXTURES, dir, 'MANIFEST.tsv'), 'utf8'); } catch { continue; }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const col = lines[0]!.split('\t').indexOf('kernel_version');
    for (const l of lines.slice(1)) rows.push({ file: l.split('\t')[0]!, kernel: l.split('\t')[col]! });
  }
  return rows;
}

test('every kernel_version of every fixture MANIFEST.tsv reads as its VERSION.PATCHLEVEL.SUBLEVEL, or is refused', () => {
  const rows = manifestRows();
  assert.ok(rows.length >= 28, `only ${rows.length} manifest rows`);
  for (const r of rows) {
    assert.ok(r.kernel in MANIFEST_VERSIONS, `${r.file}: "${r.kernel}" is new; add it to MANIFEST_VERSIONS`);
    check(r.kernel, MANIFEST_VERSIONS[r.kernel]!);
  }
});

test('the release on each real report\'s CPU line is the manifest\'s and reads the same', () => {
  const rows = manifestRows().filter((r) => r.file.startsWith('reports/'));
  assert.equal(rows.length, readdirSync(path.join(FIXTURES, 'reports')).filter((f) => f.endsWith('.txt')).length);
  for (const r of rows) {
    const reps = parseReports(readFileSync(path.join(FIXTURES, r.file), 'latin1'));
    assert.ok(reps.length > 0, r.file);
    const kernel = reps[0]!.task?.kernel ?? null;
    if (kernel === null) { assert.equal(r.kernel, 'unknown', r.file); continue; }
    assert.equal(kernel, r.kernel, r.file);
    const v = parseKernelVersion(kernel);
    assert.equal(v.release, kernel, r.file);
  }
});

test('the Debian 6.1 captures: the dmesg boot line (`[    0.000000] Linux version …`) and `uname -a` (`Linux (none) …`)', () => {
  const files = findFiles(FIXTURES, /^(uname\.txt|dmesg\.txt)$/);
  assert.ok(files.length >= 27, `only ${files.length} uname/dmesg captures`);
  for (const f of files) {
    const line = readFileSync(f, 'utf8').split('\n')[0]!;
    assert.match(line, /^(\[\s*0\.000000\] Linux version|Linux \(none\)) 6\.1\.0-56-amd64 /);
    const v = parseKernelVersion(line);
    assert.deepEqual([v.major, v.minor, v.patch, v.release], [6, 1, 0, '6.1.0-56-amd64'], f);
    assert.equal(parseKernelVersion(line.replace(/^\[[^\]]*\]\s*/, '')).release, '6.1.0-56-amd64');
  }
});

test('what users paste: uname -r, uname -rv, uname -a, /proc/version, v-tags', () => {
  const cases: Array<[string, [number, number, number], string]> = [
    ['6.1', [6, 1, 0], '6.1'],
    ['  5.10.0-21-amd64\n', [5, 10, 0], '5.10.0-21-amd64'],
    ['6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)', [6, 1, 0], '6.1.0-56-amd64'],
    ['Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12) #1 SMP', [6, 1, 0], '6.1.0-56-amd64'],
    ['Linux 6.19.0-rc5-00027-g40fd0acc45d0', [6, 19, 0], '6.19.0-rc5-00027-g40fd0acc45d0'],
    ['Linux build01 6.8.0-rc6-PMacG4 #1 SMP x86_64 GNU/Linux', [6, 8, 0], '6.8.0-rc6-PMacG4'],
    ['v6.1', [6, 1, 0], '6.1'],
    ['2.6.32.9-70.fc12.x86_64', [2, 6, 32], '2.6.32.9-70.fc12.x86_64'],
    ['5.13.X', [5, 13, 0], '5.13.X'],
    ['4.4.0(custom)', [4, 4, 0], '4.4.0(custom)'],
  ];
  for (const [text, nums, release] of cases) {
    const v = parseKernelVersion(text);
    assert.deepEqual([v.major, v.minor, v.patch], nums, text);
    assert.equal(v.release, release, text);
  }
  assert.ok(atLeast(parseKernelVersion('6.1.0-56-amd64'), 5, 14));
  assert.ok(!atLeast(parseKernelVersion('5.13.x'), 5, 14));
});

test('garbage is a BadInputError KERNEL_VERSION_SYNTAX with a one-line "Cannot read kernel version" message', () => {
  for (const bad of ['banana', '', 'v', '6', 'x.1', '6.1abc', '.6.1', '6..1', 'Linux', 'Linux version', '123.1']) check(bad, 'reject');
});

test('every caller reads versions the same way: GFP layouts, report replay, fragmentation print format, simulate --kernel', () => {
  const boot = 'Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2';
  assert.equal(resolveLayout(boot).layout.id, resolveLayout('6.1').layout.id);
  assert.equal(resolveLayout('5.13.x').layout.id, resolveLayout('5.13').layout.id);
  const report = readFileSync(path.join(FIXTURES, 'reports', '004.txt'), 'latin1');
  const rep = parseReports(report)[0]!;
  const byBoot = explainReport(rep, { kernel: boot });
  const byRelease = explainReport(rep, { kernel: '6.1.0-56-amd64' });
  assert.deepEqual(byBoot.verdict, byRelease.verdict);
  const frag = fixtureText(path.join(QEMU, '512M', 'snap', '00_boot', 'buddyinfo'));
  assert.deepEqual(fragmentationFromText(frag, { kernel: boot }), fragmentationFromText(frag, { kernel: '6.1' }));
  const scenario = loadScenario('render');
  assert.equal(applyOverrides(scenario, { kernel: boot }).machine.kernel, boot, 'the scenario keeps the version as given');
  for (const call of [() => resolveLayout('banana'), () => explainReport(rep, { kernel: 'banana' }), () => fragmentationFromText(frag, { kernel: 'banana' }),
    () => applyOverrides(scenario, { kernel: 'banana' })]) {
    assert.throws(call, (e: unknown) => e instanceof BadInputError && e.code === 'KERNEL_VERSION_SYNTAX');
  }
});
