/**
 * Security of exclusive pages: every way to reach an exclusive page without its key fails and changes
 * nothing; freed exclusive memory reads as zeros in real memory (an ArrayBuffer backing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliceAndBob, key } from './_labyrinths.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { ExclusivePageError, BadPageStateError } from '../src/errors.ts';
import {
  GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_ACCOUNT, GFP_NOWAIT, __GFP_EXCL, __GFP_MOVABLE, __GFP_NOWARN,
} from '../src/gfp/bits.ts';
import { MIGRATE_UNMOVABLE, PAGE_SIZE } from '../src/mm/constants.ts';
import { PG_exclusive, PG_lru, PG_unevictable } from '../src/mm/page_flags.ts';
import type { PageAllocator } from '../src/alloc/page_alloc.ts';

const setup = aliceAndBob;

const SECRET = new Uint8Array(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));


/** Run fn, expect a typed error with code, and the whole state buffer byte-identical before and after. */
function refusedUnchanged(alloc: PageAllocator, fn: () => unknown, code: string, cls: Function = ExclusivePageError): void {
  const before = new Uint8Array(alloc.snapshot());
  assert.throws(fn, (e: unknown) => e instanceof cls && (e as { code: string }).code === code);
  assert.deepEqual(new Uint8Array(alloc.snapshot()), before, 'state changed by a refused operation');
}

test('exclusive_page_is_zeroed_keyed_unmovable_unevictable', () => {
  const { alloc, bytes, ta, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  const { pfn } = ta.info(k);
  assert.deepEqual(ta.read(k, 0, PAGE_SIZE), new Uint8Array(PAGE_SIZE));
  ta.write(k, 100, SECRET);
  assert.deepEqual(ta.read(k, 100, SECRET.length), SECRET);
  const page = alloc.page(pfn);
  assert.equal(page.refcount, 1);
  assert.equal(page.migratetype, MIGRATE_UNMOVABLE);
  assert.equal(page.flags & (PG_exclusive | PG_unevictable), PG_exclusive | PG_unevictable);
  assert.equal(page.flags & PG_lru, 0);
  assert.equal(page.owner, ta.lab.id);
  // the bytes are really there in physical memory (the backing), at the pfn
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE + 100, SECRET.length), SECRET);
  labs.verify();
});

test('direct_map_refuses_exclusive_pages: page_address, virt_to_page, free_pages by address', () => {
  const { alloc, ta, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 2));
  ta.write(k, 0, SECRET);
  const { pfn } = ta.info(k);
  for (let i = 0; i < 4; i++) {
    refusedUnchanged(alloc, () => alloc.page_address(pfn + i), 'EXCL_NO_KEY');
    refusedUnchanged(alloc, () => alloc.virt_to_page(alloc.page_address(pfn - 1) + (1 + i) * PAGE_SIZE + 5), 'EXCL_NO_KEY');
  }
  refusedUnchanged(alloc, () => alloc.free_pages(pfn * PAGE_SIZE, 2), 'EXCL_NO_KEY');
  assert.deepEqual(ta.read(k, 0, SECRET.length), SECRET);
  labs.verify();
});

test('never_aliased: get_page, put_page, split_page, __free_pages, mapping into another labyrinth all fail', () => {
  const { alloc, ta, tb, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 1));
  const { pfn } = ta.info(k);
  refusedUnchanged(alloc, () => alloc.get_page(pfn), 'EXCL_NOT_SHAREABLE');
  refusedUnchanged(alloc, () => alloc.get_page(pfn + 1), 'EXCL_NOT_SHAREABLE');
  refusedUnchanged(alloc, () => alloc.split_page(pfn, 1), 'EXCL_NOT_SPLITTABLE');
  refusedUnchanged(alloc, () => tb.mapPage(pfn), 'EXCL_NOT_SHAREABLE');
  refusedUnchanged(alloc, () => ta.mapPage(pfn), 'EXCL_NOT_SHAREABLE');
  refusedUnchanged(alloc, () => alloc.__free_pages(pfn, 1), 'BAD_PAGE_STATE', BadPageStateError);
  refusedUnchanged(alloc, () => alloc.put_page(pfn), 'BAD_PAGE_STATE', BadPageStateError);
  assert.equal(alloc.page_count(pfn), 1);
  labs.verify();
});

test('keys: another labyrinth, a forged key, another allocator, a revoked key all fail and change nothing', () => {
  const { alloc, ta, tb, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  ta.write(k, 0, SECRET);
  // another labyrinth presenting alice's key
  refusedUnchanged(alloc, () => tb.read(k, 0, 16), 'EXCL_WRONG_LABYRINTH');
  refusedUnchanged(alloc, () => tb.write(k, 0, new Uint8Array(16)), 'EXCL_WRONG_LABYRINTH');
  refusedUnchanged(alloc, () => tb.freeExclusive(k), 'EXCL_WRONG_LABYRINTH');
  // forged: an object with the key's prototype, a structured clone, a plain object, a guessed number
  const forged = [Object.create(ExclusiveKey.prototype), structuredClone(k), {}, ta.info(k).pfn, JSON.parse(JSON.stringify({ k }))];
  for (const f of forged) refusedUnchanged(alloc, () => ta.read(f as ExclusiveKey, 0, 16), 'EXCL_FORGED_KEY');
  assert.throws(() => new (ExclusiveKey as unknown as new (t: symbol) => ExclusiveKey)(Symbol('ExclusiveKey.mint')), /minted only by the allocator/);
  assert.equal(String(k), '[ExclusiveKey]');
  assert.equal(Object.keys(k).length, 0);
  assert.ok(Object.isFrozen(k));
  // another allocator's key
  const other = setup();
  const ko = key(other.ta.allocExclusive(GFP_KERNEL, 0));
  refusedUnchanged(alloc, () => ta.read(ko, 0, 16), 'EXCL_FOREIGN_KEY');
  refusedUnchanged(alloc, () => ta.freeExclusive(ko), 'EXCL_FOREIGN_KEY');
  // transfer revokes the old key at once
  const kb = ta.transfer(k, tb);
  refusedUnchanged(alloc, () => ta.read(k, 0, 16), 'EXCL_REVOKED_KEY');
  refusedUnchanged(alloc, () => tb.read(k, 0, 16), 'EXCL_REVOKED_KEY');
  refusedUnchanged(alloc, () => ta.read(kb, 0, 16), 'EXCL_WRONG_LABYRINTH');
  assert.deepEqual(tb.read(kb, 0, SECRET.length), SECRET);
  assert.equal(alloc.pageOwner(tb.info(kb).pfn), tb.lab.id);
  assert.equal(ta.lab.current, 1 - 1);
  assert.equal(tb.lab.current, 1);
  labs.verify();
});

test('freed_handle_is_stale: a freed key fails, its generation is gone, and the memory reads as zeros', () => {
  const { alloc, bytes, ta, tb, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  ta.write(k, 0, SECRET);
  const { pfn, generation } = ta.info(k);
  ta.freeExclusive(k);
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE, PAGE_SIZE), new Uint8Array(PAGE_SIZE), 'freed exclusive page must read as zeros');
  refusedUnchanged(alloc, () => ta.read(k, 0, 16), 'EXCL_REVOKED_KEY');
  refusedUnchanged(alloc, () => ta.freeExclusive(k), 'EXCL_REVOKED_KEY');
  // the page comes back (pcp LIFO) to another labyrinth: a new generation; the old key still opens nothing
  const k2 = key(tb.allocExclusive(GFP_KERNEL, 0));
  const info2 = tb.info(k2);
  assert.equal(info2.pfn, pfn, 'the same pfn is reused');
  assert.notEqual(info2.generation, generation);
  assert.deepEqual(tb.read(k2, 0, SECRET.length), new Uint8Array(SECRET.length));
  refusedUnchanged(alloc, () => ta.read(k, 0, 16), 'EXCL_REVOKED_KEY');
  labs.verify();
});

test('wiped_on_oom_kill_and_destroy: memory of killed tasks and destroyed labyrinths reads as zeros', () => {
  const { alloc, bytes, a, ta, labs } = setup();
  const t2 = a.spawn('alice-helper');
  const k1 = key(ta.allocExclusive(GFP_KERNEL, 1));
  const k2 = key(t2.allocExclusive(GFP_KERNEL, 0));
  ta.write(k1, 4000, SECRET);
  t2.write(k2, 0, SECRET);
  const p1 = ta.info(k1).pfn;
  const p2 = t2.info(k2).pfn;
  ta.exit('killed');
  assert.deepEqual(bytes.physRead(p1 * PAGE_SIZE, 2 * PAGE_SIZE), new Uint8Array(2 * PAGE_SIZE));
  assert.throws(() => t2.read(k1, 0, 1), (e: unknown) => (e as ExclusivePageError).code === 'EXCL_REVOKED_KEY');
  assert.deepEqual(t2.read(k2, 0, SECRET.length), SECRET);
  a.destroy();
  assert.deepEqual(bytes.physRead(p2 * PAGE_SIZE, PAGE_SIZE), new Uint8Array(PAGE_SIZE));
  assert.throws(() => t2.read(k2, 0, 1), (e: unknown) => (e as ExclusivePageError).code === 'LABYRINTH_DEAD');
  assert.equal(alloc.pageOwner(p2), 0);
  labs.verify();
});

test('raw alloc_pages refuses __GFP_EXCL; MOVABLE exclusive requests are refused', () => {
  const { alloc, ta } = setup();
  assert.equal(alloc.alloc_pages(GFP_KERNEL | __GFP_EXCL, 0), -1);
  assert.match(alloc.describeAllocFailure(), /handed out only with a key/);
  assert.equal(alloc.__get_free_pages(GFP_KERNEL | __GFP_EXCL, 0), 0);
  assert.throws(() => ta.allocExclusive(GFP_KERNEL | __GFP_MOVABLE, 0), (e: unknown) => (e as ExclusivePageError).code === 'EXCL_BAD_GFP');
  assert.throws(() => ta.allocPages(GFP_KERNEL | __GFP_EXCL, 0), (e: unknown) => (e as ExclusivePageError).code === 'EXCL_BAD_GFP');
});

test('gfp_atomic_excl_fails_plainly_and_never_sleeps', () => {
  const { alloc, ta, labs } = setup();
  // drain the machine with unaccounted order-0 pages until even atomic requests fail
  const held: number[] = [];
  for (;;) {
    const p = alloc.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0);
    if (p < 0) break;
    held.push(p);
  }
  const r = ta.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0);
  assert.ok(!(r instanceof ExclusiveKey));
  assert.equal(r.code, 'EXCL_NOMEM');
  assert.match(r.message, /watermark/);
  assert.match(r.message, /may not sleep/);
  assert.match(r.message, /mempool/);
  const r2 = ta.allocExclusive(GFP_NOWAIT, 0);
  assert.ok(!(r2 instanceof ExclusiveKey));
  assert.equal(ta.lab.current, 0);
  for (const p of held) alloc.__free_pages(p, 0);
  key(ta.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0));
  assert.equal(ta.lab.current, 1);
  void GFP_KERNEL_ACCOUNT;
  labs.verify();
});

test('the key registry cannot be reached through objects or fooled by patching built-ins', () => {
  const { alloc, labs, ta, tb } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  ta.write(k, 0, SECRET);
  // no own property of the manager, the labyrinths or the tasks is a container of records or keys
  for (const o of [labs.exclusive, labs, ta.lab, ta, tb] as object[]) {
    for (const p of Reflect.ownKeys(o)) {
      const v = (o as Record<PropertyKey, unknown>)[p];
      if (v instanceof Map || v instanceof Set) {
        for (const x of v instanceof Map ? v.values() : v.values()) {
          assert.ok(!(x instanceof ExclusiveKey) && !(typeof x === 'object' && x !== null && 'key' in x), `${String(p)} exposes keys`);
        }
      }
    }
  }
  // a script that patches WeakMap to vouch for a forged key gets nothing
  const origGet = WeakMap.prototype.get;
  const origHas = WeakMap.prototype.has;
  const forged = Object.create(ExclusiveKey.prototype) as ExclusiveKey;
  try {
    WeakMap.prototype.get = function (this: WeakMap<object, unknown>, x: object) {
      return x === forged ? { mgr: labs.exclusive, pfn: ta.info(k).pfn, order: 0, generation: alloc.pageGeneration(ta.info(k).pfn), labyrinthId: tb.lab.id, holder: tb.pid, revoked: false, revokedBy: '', key: forged } : origGet.call(this, x);
    };
    WeakMap.prototype.has = function (this: WeakMap<object, unknown>, x: object) { return x === forged || origHas.call(this, x); };
    refusedUnchanged(alloc, () => tb.read(forged, 0, 16), 'EXCL_FORGED_KEY');
  } finally {
    WeakMap.prototype.get = origGet;
    WeakMap.prototype.has = origHas;
  }
  assert.deepEqual(ta.read(k, 0, SECRET.length), SECRET);
});

test('stale_handle: a key whose page no longer carries its generation is refused (generation check)', () => {
  const { alloc, ta, labs } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  const { pfn, generation } = ta.info(k);
  // the page's generation changes behind the key's back (what a free and reallocation at this pfn does)
  alloc.mm.prev[pfn] = generation + 1;
  refusedUnchanged(alloc, () => ta.read(k, 0, 1), 'EXCL_STALE_KEY');
  refusedUnchanged(alloc, () => ta.freeExclusive(k), 'EXCL_STALE_KEY');
  alloc.mm.prev[pfn] = generation;
  ta.freeExclusive(k);
  labs.verify();
});
