/** Accounting checks after a simulation run: the allocator's invariants and what the actors believe they hold. */
import assert from 'node:assert/strict';
import type { CoreSimAllocator } from '../src/sim/machine.ts';
import type { HeldPagesView, SimResult } from '../src/sim/simulator.ts';
import { verify } from '../src/debug/verify.ts';
import { ORDER_MASK, PG_buddy, PG_pcp, PG_reserved, PG_tail } from '../src/mm/page_flags.ts';

/** A seeded run kept with its allocator and what its actors hold at the end. */
export interface Run {
  r: SimResult;
  alloc: CoreSimAllocator;
  held: readonly HeldPagesView[];
}

/**
 * After a run: the allocator's invariants hold (verify), every block an actor believes it holds is an allocated
 * head of that order, no page is held twice, and every allocated block is held by an actor or by one of its
 * sleeping requests still in flight. Returns the pages compaction moved that actors followed.
 */
export function checkAccounting({ alloc, held }: Pick<Run, 'alloc' | 'held'>): number {
  const pa = alloc.pa;
  verify(pa);
  const m = pa.mm;
  const owner = new Int32Array(m.nrPfn).fill(-1);
  let moved = 0, pending = 0;
  held.forEach((a, ai) => {
    moved += a.movedPages;
    pending += a.pending;
    let pages = 0;
    a.forEachHeld((pfn, order) => {
      pages += 1 << order;
      const f = m.flags[pfn]!;
      assert.ok(m.refcount[pfn]! > 0 && (f & (PG_buddy | PG_pcp | PG_reserved | PG_tail)) === 0, `${a.spec.name} holds pfn ${pfn}, which is not an allocated head (flags ${f})`);
      assert.equal(m.order[pfn]! & ORDER_MASK, order, `${a.spec.name}: pfn ${pfn} is held at order ${order}`);
      for (let p = pfn; p < pfn + (1 << order); p++) {
        assert.equal(owner[p], -1, `pfn ${p} is held by ${a.spec.name} and by ${owner[p] === -1 ? '' : held[owner[p]!]!.spec.name}`);
        owner[p] = ai;
      }
    });
    assert.equal(pages, a.heldPages, `${a.spec.name}: its page count matches its blocks`);
  });
  // allocated heads nobody holds: at most one per sleeping request in flight
  let unheld = 0;
  for (let p = 0; p < m.nrPfn; p++) {
    const f = m.flags[p]!;
    if (m.refcount[p]! > 0 && (f & (PG_reserved | PG_tail)) === 0 && owner[p] === -1) unheld++;
  }
  assert.ok(unheld <= pending, `${unheld} allocated blocks held by no actor, ${pending} requests in flight`);
  return moved;
}

