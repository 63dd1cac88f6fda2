/** The /proc readers fuzzed with mutations of real files: they return a value or throw a BadInputError, never crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FIXTURES, QEMU } from './_shared.ts';
import { BadInputError } from '../src/errors.ts';
import { parseZoneinfo } from '../src/stats/zoneinfo.ts';
import { parseBuddyinfo } from '../src/stats/buddyinfo.ts';
import { parsePagetypeinfo } from '../src/stats/pagetypeinfo.ts';
import { parseVmstat } from '../src/stats/vmstat.ts';
import { parseMeminfo } from '../src/stats/meminfo.ts';
import { machineFromZoneinfo } from '../src/zone/setup.ts';

const read = (p: string): string => fs.readFileSync(p, 'utf8');
const CASES: Array<[string, (t: string) => unknown, string[]]> = [
  ['zoneinfo', (t) => machineFromZoneinfo(parseZoneinfo(t)), [path.join(QEMU, 'static/4096M/snap/00_boot/zoneinfo'), path.join(FIXTURES, 'procfs/003-zoneinfo.txt')]],
  ['buddyinfo', parseBuddyinfo, [path.join(QEMU, '512M/snap/07_after_pressure/buddyinfo'), path.join(FIXTURES, 'procfs/004-buddyinfo.txt')]],
  ['pagetypeinfo', parsePagetypeinfo, [path.join(QEMU, '2048M/snap/05_after_frag/pagetypeinfo'), path.join(FIXTURES, 'procfs/001-pagetypeinfo.txt')]],
  ['vmstat', parseVmstat, [path.join(QEMU, '512M/snap/08_post/vmstat')]],
  ['meminfo', parseMeminfo, [path.join(QEMU, '512M/snap/08_post/meminfo')]],
];

type Mutation = { kind: number; at: number; len: number; s: string };
const mutation = fc.record({
  kind: fc.integer({ min: 0, max: 6 }),
  at: fc.nat(),
  len: fc.integer({ min: 0, max: 40 }),
  s: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('\r\n', '\n', '-1', '99999999999999999999', 'Node 0, zone', ': (', '>', '\u0000', '  ', 'x')),
});

function mutate(text: string, ms: Mutation[]): string {
  let t = text;
  for (const m of ms) {
    const at = t.length === 0 ? 0 : m.at % t.length;
    const lines = t.split('\n');
    const li = lines.length === 0 ? 0 : m.at % lines.length;
    switch (m.kind) {
      case 0: t = t.slice(0, at) + t.slice(at + m.len); break; // delete
      case 1: t = t.slice(0, at) + m.s + t.slice(at); break; // insert
      case 2: t = t.slice(0, at) + m.s + t.slice(at + m.s.length); break; // overwrite
      case 3: lines.splice(li, 0, lines[li] ?? ''); t = lines.join('\n'); break; // duplicate a line
      case 4: lines.splice(li, 1); t = lines.join('\n'); break; // drop a line
      case 5: t = t.slice(0, at); break; // truncate
      default: t = t.replace(/\d/g, (d, i: number) => (i % (m.len + 7) === 0 ? m.s : d)); // garble numbers
    }
  }
  return t;
}

for (const [name, parse, files] of CASES) {
  test(`${name}: mutated real files give typed errors only`, () => {
    const texts = files.map(read);
    for (const t of texts) parse(t); // the originals parse
    fc.assert(fc.property(fc.nat({ max: texts.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (fi, ms) => {
      const t = mutate(texts[fi]!, ms);
      try {
        parse(t);
      } catch (e) {
        if (!(e instanceof BadInputError)) throw e;
        assert.ok(e.code.length > 0);
      }
    }), { numRuns: 300, seed: 0x1a6 });
  });
}
