/** `labyrinth gfp --compare`: which layouts print a report's mode exactly as given (reports of unknown version). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareLayouts } from '../src/cli/commands/gfp.ts';

test('report 061 (unknown version): only 6.3–6.14 print 0x60820(GFP_ATOMIC|__GFP_COMP|__GFP_MEMALLOC)', () => {
  const fits = compareLayouts('mode:0x60820(GFP_ATOMIC|__GFP_COMP|__GFP_MEMALLOC)').filter((r) => r.matches).map((r) => r.layout);
  // 6.15+ prints bits in enum order (__GFP_MEMALLOC before __GFP_COMP); ≤6.2 has GFP_ATOMIC = 0xa20.
  assert.deepEqual(fits, ['6.3', '6.4', '6.8', '6.10']);
});

test('report 033 (unknown version): 0x40a20(GFP_ATOMIC|__GFP_COMP) is a 5.1–6.2 kernel', () => {
  const fits = compareLayouts('mode:0x40a20(GFP_ATOMIC|__GFP_COMP)', '6.1').filter((r) => r.matches).map((r) => r.layout);
  assert.deepEqual(fits, ['5.1', '5.14', '5.18']);
});
