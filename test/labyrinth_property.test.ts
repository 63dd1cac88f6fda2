/**
 * Random operations across several labyrinths (allocations of every kind, exclusive pages, transfers, frees,
 * limit writes, OOM kills, destroy/recreate, global reclaim, attempts with the wrong key) with the full check
 * after each step: the core's verify() (I1–I10), the exclusive invariants X1–X5, the accounting A1–A3, and
 * isolation — every live key reads back exactly what its holder wrote, every other labyrinth and every dead
 * key is refused, and no exclusive page is reachable by address. Prints the seed on failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { smallMachine } from './_machine.ts';
import { Labyrinths, type Labyrinth, type LabyrinthTask } from '../src/labyrinth/domain.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { ArrayBufferPageBytes } from '../src/labyrinth/page_bytes.ts';
import { ExclusivePageError } from '../src/errors.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_ACCOUNT, __GFP_ACCOUNT, __GFP_EXCL, __GFP_NOWARN } from '../src/gfp/bits.ts';
import { PAGE_SIZE } from '../src/mm/constants.ts';

type Op =
  | { k: 'spawn'; lab: number; adj: number }
  | { k: 'kernel'; task: number; order: number; account: boolean; atomic: boolean }
  | { k: 'cache'; task: number }
  | { k: 'excl'; task: number; order: number; atomic: boolean }
  | { k: 'free'; task: number; pick: number }
  | { k: 'freeExcl'; key: number }
  | { k: 'transfer'; key: number; to: number }
  | { k: 'steal'; key: number; by: number }
  | { k: 'max'; lab: number; pages: number }
  | { k: 'exit'; task: number }
  | { k: 'destroy'; lab: number }
  | { k: 'reclaim'; pages: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('spawn' as const), lab: fc.nat(2), adj: fc.constantFrom(-1000, 0, 0, 500) }),
  fc.record({ k: fc.constant('kernel' as const), task: fc.nat(20), order: fc.nat(3), account: fc.boolean(), atomic: fc.boolean() }),
  fc.record({ k: fc.constant('cache' as const), task: fc.nat(20) }),
  fc.record({ k: fc.constant('excl' as const), task: fc.nat(20), order: fc.nat(2), atomic: fc.boolean() }),
  fc.record({ k: fc.constant('excl' as const), task: fc.nat(20), order: fc.constant(0), atomic: fc.boolean() }),
  fc.record({ k: fc.constant('free' as const), task: fc.nat(20), pick: fc.nat(100) }),
  fc.record({ k: fc.constant('freeExcl' as const), key: fc.nat(40) }),
  fc.record({ k: fc.constant('transfer' as const), key: fc.nat(40), to: fc.nat(20) }),
  fc.record({ k: fc.constant('steal' as const), key: fc.nat(40), by: fc.nat(20) }),
  fc.record({ k: fc.constant('max' as const), lab: fc.nat(2), pages: fc.oneof(fc.integer({ min: 4, max: 80 }), fc.constant(Infinity)) }),
  fc.record({ k: fc.constant('exit' as const), task: fc.nat(20) }),
  fc.record({ k: fc.constant('destroy' as const), lab: fc.nat(2) }),
  fc.record({ k: fc.constant('reclaim' as const), pages: fc.integer({ min: 1, max: 64 }) }),
);

interface KeyModel { key: ExclusiveKey; holder: LabyrinthTask; stamp: Uint8Array; pfn: number; nrPages: number }

function code(fn: () => unknown): string {
  try { fn(); } catch (e) { if (e instanceof ExclusivePageError) return e.code; throw e; }
  return 'OK';
}

function run(ops: Op[]): void {
  const alloc = smallMachine({ dmaPages: 4095 });
  const bytes = new ArrayBufferPageBytes(alloc.mm.nrPfn);
  const labs = new Labyrinths(alloc, { bytes });
  const labSlots: Labyrinth[] = [labs.create('l0', { max: 48 }), labs.create('l1'), labs.create('l2', { max: 120, high: 60 })];
  let gen = 3;
  const tasks: LabyrinthTask[] = labSlots.map((l, i) => l.spawn(`t${i}`));
  let live: KeyModel[] = [];
  const dead: ExclusiveKey[] = [];
  let serial = 0;
  const stampOf = (): Uint8Array => {
    serial += 1;
    const s = new Uint8Array(16);
    new DataView(s.buffer).setFloat64(0, serial);
    new DataView(s.buffer).setFloat64(8, Math.PI * serial);
    return s;
  };
  const liveTasks = (): LabyrinthTask[] => tasks.filter((t) => t.alive);
  const pickTask = (i: number): LabyrinthTask | undefined => { const l = liveTasks(); return l.length ? l[i % l.length] : undefined; };
  const excl = (order: number, atomic: boolean) => (atomic ? GFP_ATOMIC | __GFP_NOWARN : GFP_KERNEL) | __GFP_EXCL;

  for (const op of ops) {
    switch (op.k) {
      case 'spawn': {
        const l = labSlots[op.lab]!;
        if (l.alive) tasks.push(l.spawn(`t${tasks.length}`, { oomScoreAdj: op.adj }));
        break;
      }
      case 'kernel': {
        const t = pickTask(op.task);
        if (t) t.allocPages((op.atomic ? GFP_ATOMIC | __GFP_NOWARN : GFP_KERNEL) | (op.account ? __GFP_ACCOUNT : 0), op.order);
        break;
      }
      case 'cache': pickTask(op.task)?.allocCache(GFP_KERNEL); break;
      case 'excl': {
        const t = pickTask(op.task);
        if (!t) break;
        const r = t.allocExclusive(excl(op.order, op.atomic), op.order);
        if (r instanceof ExclusiveKey && t.alive) {
          const info = t.info(r);
          assert.deepEqual(t.read(r, 0, info.nrPages * PAGE_SIZE), new Uint8Array(info.nrPages * PAGE_SIZE), 'handed out zeroed');
          const stamp = stampOf();
          t.write(r, info.nrPages * PAGE_SIZE - 16, stamp);
          live.push({ key: r, holder: t, stamp, pfn: info.pfn, nrPages: info.nrPages });
        }
        break;
      }
      case 'free': {
        const t = pickTask(op.task);
        if (!t || t.held.size === 0) break;
        const [pfn, h] = Array.from(t.held)[op.pick % t.held.size]!;
        t.freePages(pfn, h.order);
        break;
      }
      case 'freeExcl': {
        if (live.length === 0) break;
        const m = live[op.key % live.length]!;
        m.holder.freeExclusive(m.key);
        assert.deepEqual(bytes.physRead(m.pfn * PAGE_SIZE, m.nrPages * PAGE_SIZE), new Uint8Array(m.nrPages * PAGE_SIZE), 'freed exclusive memory reads as zeros');
        live = live.filter((x) => x !== m);
        dead.push(m.key);
        break;
      }
      case 'transfer': {
        const to = pickTask(op.to);
        if (live.length === 0 || !to) break;
        const m = live[op.key % live.length]!;
        let nk: ExclusiveKey | undefined;
        const c = code(() => { nk = m.holder.transfer(m.key, to); });
        if (c === 'OK') {
          dead.push(m.key);
          m.key = nk!;
          m.holder = to;
        } else {
          assert.equal(c, 'LABYRINTH_BUSY');
        }
        break;
      }
      case 'steal': {
        const by = pickTask(op.by);
        if (live.length === 0 || !by) break;
        const m = live[op.key % live.length]!;
        const c = code(() => by.read(m.key, 0, 16));
        assert.equal(c, by.lab === m.holder.lab ? 'OK' : 'EXCL_WRONG_LABYRINTH');
        assert.equal(code(() => alloc.page_address(m.pfn + (op.by % m.nrPages))), 'EXCL_NO_KEY');
        assert.equal(code(() => by.mapPage(m.pfn)), 'EXCL_NOT_SHAREABLE');
        break;
      }
      case 'max': {
        const l = labSlots[op.lab]!;
        if (l.alive) l.setMax(op.pages);
        break;
      }
      case 'exit': pickTask(op.task)?.exit(); break;
      case 'destroy': {
        const l = labSlots[op.lab]!;
        if (!l.alive) break;
        l.destroy();
        const n = labSlots[op.lab] = labs.create(`l${gen++}`, { max: 64 });
        tasks.push(n.spawn(`t${tasks.length}`));
        break;
      }
      case 'reclaim': labs.reclaimGlobal(op.pages); break;
    }
    // keys whose holder died (exit, OOM kill, destroy) are gone: their memory must be zero
    for (const m of live) {
      if (!m.holder.alive) {
        dead.push(m.key);
        assert.deepEqual(bytes.physRead(m.pfn * PAGE_SIZE + m.nrPages * PAGE_SIZE - 16, 16).some((b) => b !== 0)
          && alloc.page(m.pfn).owner === m.holder.lab.id && (alloc.page(m.pfn).flags & 0x40) !== 0, false, 'a dead holder\'s page is wiped or reused');
      }
    }
    live = live.filter((m) => m.holder.alive);
    // the full check
    labs.verify();
    for (const m of live) {
      assert.deepEqual(m.holder.read(m.key, m.nrPages * PAGE_SIZE - 16, 16), m.stamp, 'a live key reads what its holder wrote');
      for (const t of liveTasks()) {
        if (t.lab !== m.holder.lab) assert.equal(code(() => t.read(m.key, 0, 1)), 'EXCL_WRONG_LABYRINTH');
      }
    }
    for (const k of dead.slice(-8)) {
      for (const t of liveTasks().slice(0, 3)) {
        const c = code(() => t.read(k, 0, 1));
        assert.ok(c === 'EXCL_REVOKED_KEY', `a dead key must be revoked, got ${c}`);
      }
    }
    void GFP_KERNEL_ACCOUNT;
  }
  // tear down: everything returns
  for (const l of labSlots) if (l.alive) l.destroy();
  labs.verify();
  assert.equal(live.filter((m) => m.holder.alive).length, 0);
}

test('random operations across labyrinths keep verify(), accounting and isolation after every step', () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: 5, maxLength: 60 }), (ops) => run(ops)), { numRuns: 100, verbose: 1 });
});
