/**
 * Mutation fuzzing of the readers on real fixtures: deleted, duplicated and swapped lines, random bytes,
 * truncation. Every outcome is a result or a typed LabyrinthError — never another exception, never a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FIXTURES } from './_shared.ts';
import { parseReports } from '../src/report/parse.ts';
import { explainReport } from '../src/report/explain.ts';
import { fragmentationFromText } from '../src/report/fragmentation.ts';
import { LabyrinthError } from '../src/errors.ts';

const REPORTS = readdirSync(path.join(FIXTURES, 'reports')).filter((f) => f.endsWith('.txt'))
  .map((f) => readFileSync(path.join(FIXTURES, 'reports', f), 'utf8'));
const PROCFS = readdirSync(path.join(FIXTURES, 'procfs')).filter((f) => f.endsWith('.txt'))
  .map((f) => readFileSync(path.join(FIXTURES, 'procfs', f), 'utf8'));

type Mutation =
  | { op: 'delete'; at: number } | { op: 'dup'; at: number } | { op: 'swap'; a: number; b: number }
  | { op: 'bytes'; at: number; bytes: string } | { op: 'truncate'; at: number } | { op: 'digits'; at: number; digits: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), bytes: fc.string({ unit: 'binary', maxLength: 8 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('digits' as const), at: fc.nat(), digits: fc.stringMatching(/^[0-9]{1,25}$/) }),
);

function mutate(text: string, ms: Mutation[]): string {
  let lines = text.split('\n');
  let s = text;
  for (const m of ms) {
    const n = Math.max(lines.length, 1);
    switch (m.op) {
      case 'delete': lines.splice(m.at % n, 1); break;
      case 'dup': lines.splice(m.at % n, 0, lines[m.at % n] ?? ''); break;
      case 'swap': { const a = m.a % n, b = m.b % n; const t = lines[a]!; lines[a] = lines[b]!; lines[b] = t; break; }
      case 'bytes': s = lines.join('\n'); { const i = m.at % (s.length + 1); s = s.slice(0, i) + m.bytes + s.slice(i); } lines = s.split('\n'); break;
      case 'truncate': s = lines.join('\n'); s = s.slice(0, m.at % (s.length + 1)); lines = s.split('\n'); break;
      case 'digits': s = lines.join('\n'); { const i = s.indexOf(':', m.at % (s.length + 1)); if (i >= 0) s = s.slice(0, i + 1) + m.digits + s.slice(i + 1); } lines = s.split('\n'); break;
    }
  }
  return lines.join('\n');
}

function typedOnly(fn: () => unknown): void {
  try { fn(); } catch (e) {
    if (!(e instanceof LabyrinthError)) throw e;
    assert.match(e.code, /^[a-zA-Z_-]+$/);
  }
}

test('report reader and explainer: mutated real reports give results or typed errors', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: REPORTS.length - 1 }), fc.array(mutation, { maxLength: 6 }), (i, ms) => {
    const text = mutate(REPORTS[i]!, ms);
    typedOnly(() => { for (const r of parseReports(text)) explainReport(r); });
  }), { numRuns: 600, seed: 7 });
});

test('fragmentation: mutated buddyinfo/pagetypeinfo give results or typed errors', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: PROCFS.length - 1 }), fc.array(mutation, { maxLength: 6 }), (i, ms) => {
    typedOnly(() => fragmentationFromText(mutate(PROCFS[i]!, ms)));
  }), { numRuns: 300, seed: 11 });
});

test('arbitrary text never crashes the readers', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
    typedOnly(() => { for (const r of parseReports(`x: page allocation failure: order:1, mode:0x20\n${s}`)) explainReport(r); });
    typedOnly(() => { for (const r of parseReports(s)) explainReport(r); });
  }), { numRuns: 300, seed: 3 });
});
