import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.ts';

/** sfc32 (PractRand's small fast counting generator) written plainly in uint32 arithmetic, seeded as Rng is. */
function referenceSfc32(seed: number): () => number {
  let s = seed >>> 0;
  const split = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  const next = (): number => {
    const t = (a + b + d) % 2 ** 32;
    d = (d + 1) % 2 ** 32;
    a = (b ^ (b >>> 9)) >>> 0;
    b = (c + c * 8) % 2 ** 32;
    c = ((((c << 21) | (c >>> 11)) >>> 0) + t) % 2 ** 32;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

test('Rng.u32 is sfc32: the same stream as a plain uint32 reference, for seeds that set the high bits', () => {
  for (const seed of [0, 1, 42, 0x7fffffff, 0x80000000, 0xffffffff]) {
    const r = new Rng(seed);
    const ref = referenceSfc32(seed);
    for (let i = 0; i < 20_000; i++) {
      const v = r.u32();
      assert.ok(v >= 0 && v < 2 ** 32 && Number.isInteger(v));
      assert.equal(v, ref(), `seed ${seed}, draw ${i}`);
    }
  }
});

test('Rng.float is u32 / 2^32, in [0, 1)', () => {
  const r = new Rng(7), ref = referenceSfc32(7);
  for (let i = 0; i < 1000; i++) {
    const f = r.float();
    assert.equal(f, ref() / 2 ** 32);
    assert.ok(f >= 0 && f < 1);
  }
});
