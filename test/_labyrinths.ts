/** Shared by the exclusive-page tests: two labyrinths (alice, bob) with one task each over real page bytes, and a key check. */
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { Labyrinths } from '../src/labyrinth/domain.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { ArrayBufferPageBytes } from '../src/labyrinth/page_bytes.ts';

/** A small machine whose pages have ArrayBuffer bytes, labyrinths alice (task ta) and bob (task tb). */
export function aliceAndBob() {
  const alloc = smallMachine({ dmaPages: 4095 });
  const bytes = new ArrayBufferPageBytes(alloc.mm.nrPfn);
  const labs = new Labyrinths(alloc, { bytes });
  const a = labs.create('alice');
  const b = labs.create('bob');
  const ta = a.spawn('alice-main');
  const tb = b.spawn('bob-main');
  return { alloc, bytes, labs, a, b, ta, tb };
}

/** The allocation result as a key (an assertion failure otherwise). */
export function key(r: unknown): ExclusiveKey {
  assert.ok(r instanceof ExclusiveKey, `expected a key, got ${JSON.stringify(r)}`);
  return r;
}
