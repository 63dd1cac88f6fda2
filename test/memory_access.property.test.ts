/**
 * Property: an access succeeds exactly when its whole range lies inside one live allocation, for random
 * sequences of allocations (every order, plain and compound, split pages), frees and probes, against a naive
 * model of what is live. verify() after each sequence. fast-check prints the seed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAllocator } from '../src/memory/memory_allocator.ts';
import { MemoryAccessError } from '../src/memory/errors.ts';
import { GFP_KERNEL, __GFP_COMP, __GFP_NOWARN } from '../src/gfp/bits.ts';

type Op =
  | { kind: 'alloc'; order: number; comp: boolean }
  | { kind: 'free'; pick: number }
  | { kind: 'split'; pick: number }
  | { kind: 'probe'; pick: number; off: number; len: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: 10 }), comp: fc.boolean() }),
  fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('split' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('probe' as const), pick: fc.nat(), off: fc.integer({ min: -8192, max: 4 << 20 }), len: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 70000 })) }),
);

test('an_access_succeeds_exactly_inside_a_live_allocation', () => {
  const mm = createAllocator({ memory: '128M' });
  fc.assert(fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
    const live: Array<{ addr: number; bytes: number; order: number; comp: boolean }> = [];
    // The address itself must lie in the allocation (a zero-length view one past its end is refused too).
    const inside = (addr: number, len: number): boolean => live.some((a) => addr >= a.addr && addr < a.addr + a.bytes && addr + len <= a.addr + a.bytes);
    try {
      for (const o of ops) {
        if (o.kind === 'alloc') {
          const addr = mm.allocPages(GFP_KERNEL | __GFP_NOWARN | (o.comp ? __GFP_COMP : 0), o.order);
          if (addr !== 0) live.push({ addr, bytes: 4096 << o.order, order: o.order, comp: o.comp && o.order > 0 });
        } else if (o.kind === 'free' && live.length > 0) {
          const a = live.splice(o.pick % live.length, 1)[0]!;
          mm.freePages(a.addr, a.order);
        } else if (o.kind === 'split' && live.length > 0) {
          const k = o.pick % live.length;
          const a = live[k]!;
          if (a.comp || a.order === 0) continue;
          mm.kernel.split_page(mm.virt_to_page(a.addr), a.order);
          live.splice(k, 1);
          for (let i = 0; i < 1 << a.order; i++) live.push({ addr: a.addr + i * 4096, bytes: 4096, order: 0, comp: false });
        } else if (o.kind === 'probe') {
          // probe near a live allocation (or near the first usable address when none is live)
          const anchor = live.length > 0 ? live[o.pick % live.length]!.addr : 0x4000000;
          const addr = anchor + o.off;
          let ok = true;
          try {
            const v = mm.bytes(addr, o.len);
            assert.equal(v.length, o.len);
          } catch (e) {
            if (!(e instanceof MemoryAccessError)) throw e;
            ok = false;
          }
          assert.equal(ok, inside(addr, o.len), `bytes(0x${addr.toString(16)}, ${o.len})`);
        }
      }
      mm.verify();
    } finally {
      for (const a of live) mm.freePages(a.addr, a.order);
      live.length = 0;
    }
  }), { numRuns: 150 });
  mm.verify();
});
