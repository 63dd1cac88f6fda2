/**
 * The key machinery of exclusive pages (src/labyrinth/exclusive.ts) on its cheaper paths: the private-field
 * brand, secrets drawn only once a shared key table exists, the per-labyrinth slot arrays (holes and
 * compaction), the keyless predicate that page_address / virt_to_page refuse by, and the mempool's wipe.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smallMachine } from './_machine.ts';
import { aliceAndBob, key } from './_labyrinths.ts';
import { Labyrinths } from '../src/labyrinth/domain.ts';
import { ExclusiveKey, ExclusivePages } from '../src/labyrinth/exclusive.ts';
import { exclusiveMempool } from '../src/labyrinth/mempool.ts';
import { SimPageBytes } from '../src/labyrinth/page_bytes.ts';
import { ExclusivePageError } from '../src/errors.ts';
import { GFP_ATOMIC, GFP_KERNEL, __GFP_EXCL, __GFP_NOWARN } from '../src/gfp/bits.ts';
import { PAGE_SIZE } from '../src/mm/constants.ts';
import { CoreSimAllocator } from '../src/sim/machine.ts';
import type { MachineSpec } from '../src/zone/types.ts';


function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ExclusivePageError, `expected an ExclusivePageError, got ${String(e)}`);
    return e.code;
  }
  return 'OK';
}

const setup = aliceAndBob;

test('a key minted before shareKeys() is exported after it; one freed before it stays revoked', () => {
  const { alloc, labs, ta, tb } = setup();
  const ex = labs.exclusive;
  const early = key(ta.allocExclusive(GFP_KERNEL, 1));
  const gone = key(ta.allocExclusive(GFP_KERNEL, 0));
  const moved = tb.transfer(key(tb.allocExclusive(GFP_KERNEL, 0)), ta);
  ta.freeExclusive(gone);
  const table = ex.shareKeys();
  labs.verify(); // X6: every live key (minted without a secret) now has its record in the table
  const tokEarly = ex.exportKey(ta.lab.id, early);
  const tokMoved = ex.exportKey(ta.lab.id, moved);
  assert.equal(tokEarly.pfn, ta.info(early).pfn);
  assert.ok(tokEarly.secret.some((w) => w !== 0), 'a drawn secret, not the empty one');
  assert.notDeepEqual([...tokEarly.secret], [...tokMoved.secret]);
  assert.deepEqual([...ex.exportKey(ta.lab.id, early).secret], [...tokEarly.secret], 'one secret per key, drawn once');
  // another manager of the same allocator attached to the table (what a worker does) imports it
  const peer = new ExclusivePages(alloc, ex.bytes, { keyTable: table });
  const imported = peer.importKey(ta.lab.id, tokEarly);
  assert.equal(peer.info(ta.lab.id, imported).pfn, tokEarly.pfn);
  assert.equal(code(() => peer.importKey(tb.lab.id, tokEarly)), 'EXCL_WRONG_LABYRINTH');
  assert.equal(code(() => ex.exportKey(ta.lab.id, gone)), 'EXCL_REVOKED_KEY');
  // a key minted after the table exists has its record at once
  const late = key(ta.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0));
  const tokLate = ex.exportKey(ta.lab.id, late);
  assert.equal(peer.info(ta.lab.id, peer.importKey(ta.lab.id, tokLate)).pfn, ta.info(late).pfn);
  labs.verify();
  // freeing revokes the owner's key, the imported key and the token everywhere
  ta.freeExclusive(early);
  assert.equal(code(() => peer.read(ta.lab.id, imported, 0, 1)), 'EXCL_REVOKED_KEY');
  assert.equal(code(() => peer.importKey(ta.lab.id, tokEarly)), 'EXCL_REVOKED_KEY');
  ta.freeExclusive(moved);
  ta.freeExclusive(late);
  labs.verify();
});

test('only keys this module minted carry the brand: prototypes, proxies, clones and subclasses are forged', () => {
  const { alloc, labs, ta } = setup();
  const k = key(ta.allocExclusive(GFP_KERNEL, 0));
  assert.deepEqual(Reflect.ownKeys(k), [], 'no property, no symbol: nothing to copy');
  assert.ok(Object.isFrozen(k));
  const forged: unknown[] = [
    Object.create(ExclusiveKey.prototype),
    new Proxy(k, {}),
    Object.setPrototypeOf({}, ExclusiveKey.prototype),
    Object.assign(Object.create(ExclusiveKey.prototype), k),
    structuredClone(k),
    Object.freeze(Object.create(k)),
  ];
  const before = new Uint8Array(alloc.snapshot());
  for (const f of forged) {
    assert.ok(f instanceof ExclusiveKey || typeof f === 'object', 'looks like a key');
    assert.equal(code(() => ta.read(f as ExclusiveKey, 0, 1)), 'EXCL_FORGED_KEY');
    assert.equal(code(() => ta.freeExclusive(f as ExclusiveKey)), 'EXCL_FORGED_KEY');
    assert.equal(code(() => ta.pfnOf(f as ExclusiveKey)), 'EXCL_FORGED_KEY');
    assert.equal(labs.exclusive.gate()(ta.info(k).pfn, f), false);
  }
  assert.deepEqual(new Uint8Array(alloc.snapshot()), before, 'refusals change nothing');
  // a subclass cannot mint: the constructor wants the module's private token
  class Sub extends ExclusiveKey {
    constructor() {
      super(Symbol('ExclusiveKey.mint') as never, undefined as never);
    }
  }
  assert.throws(() => new Sub(), (e: unknown) => (e as ExclusivePageError).code === 'EXCL_FORGED_KEY');
  assert.equal(ta.pfnOf(k), ta.info(k).pfn);
  ta.freeExclusive(k);
  assert.equal(code(() => ta.pfnOf(k)), 'EXCL_REVOKED_KEY');
  labs.verify();
});

test('a labyrinth\'s key list survives holes and compaction; release takes the oldest first', () => {
  const { alloc, labs, ta, tb } = setup();
  const keys: ExclusiveKey[] = [];
  for (let i = 0; i < 120; i++) keys.push(key(ta.allocExclusive(GFP_KERNEL, i % 3 === 0 ? 1 : 0)));
  // free most of them in a scattered order (holes pile up past the compaction threshold), checking every step
  let seed = 7;
  const live = keys.slice();
  while (live.length > 10) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const [k] = live.splice(seed % live.length, 1);
    ta.freeExclusive(k!);
    labs.verify();
  }
  assert.equal(labs.exclusive.count(ta.lab.id), 10);
  const pages = live.reduce((n, k) => n + ta.info(k).nrPages, 0);
  assert.equal(labs.exclusive.pagesHeldBy(ta.lab.id, ta.pid), pages);
  assert.equal(ta.lab.current, pages);
  // a transfer moves the key to the end of the receiver's list; both lists stay consistent
  const kb = ta.transfer(live.shift()!, tb);
  assert.equal(labs.exclusive.count(tb.lab.id), 1);
  labs.verify();
  // the task exits: its blocks are released in minting order, so the newest is freed last and, order-0
  // blocks going back through the per-CPU list (LIFO), is the first one handed out again
  const order0 = live.filter((k) => ta.info(k).order === 0);
  const newest = ta.info(order0[order0.length - 1]!).pfn;
  ta.exit('done');
  assert.equal(labs.exclusive.count(ta.lab.id), 0);
  assert.equal(ta.lab.current, 0);
  const p = alloc.alloc_pages(GFP_KERNEL, 0, 0);
  assert.equal(p, newest, 'the last block released comes back first');
  alloc.__free_pages(p, 0, 0);
  tb.freeExclusive(kb);
  labs.verify();
});

test('keyless_refusal_predicate: page_address and virt_to_page refuse exactly the pages pageOffDirectMap names', () => {
  const { alloc, labs, ta, tb } = setup();
  const kept = [0, 1, 2, 3, 0, 2].map((o) => key(ta.allocExclusive(GFP_KERNEL, o)));
  const plain = [alloc.alloc_pages(GFP_KERNEL, 0, 0), alloc.alloc_pages(GFP_KERNEL, 2, 0)];
  ta.freeExclusive(kept.pop()!);
  kept.push(tb.transfer(key(tb.allocExclusive(GFP_KERNEL, 1)), ta));
  const exclusivePages = new Set<number>();
  for (const k of kept) {
    const { pfn, nrPages } = ta.info(k);
    for (let p = pfn; p < pfn + nrPages; p++) exclusivePages.add(p);
  }
  const refuses = (fn: () => unknown): boolean => code(fn) === 'EXCL_NO_KEY';
  let offMap = 0;
  for (let pfn = -2; pfn < alloc.mm.nrPfn + 2; pfn++) {
    const off = alloc.pageOffDirectMap(pfn);
    assert.equal(refuses(() => alloc.page_address(pfn)), off, `page_address(${pfn})`);
    const addr = alloc.pageOffset + pfn * PAGE_SIZE;
    assert.equal(alloc.__virt_to_pfn(addr), pfn);
    assert.equal(alloc.__virt_to_pfn(addr + PAGE_SIZE - 1), pfn);
    assert.equal(refuses(() => alloc.virt_to_page(addr + 123)), alloc.pageOffDirectMap(alloc.__virt_to_pfn(addr + 123)), `virt_to_page(pfn ${pfn})`);
    if (off) offMap++;
    if (pfn >= 0 && pfn < alloc.mm.nrPfn && !exclusivePages.has(pfn)) assert.equal(off, false, `pfn ${pfn} is not exclusive`);
  }
  assert.equal(offMap, exclusivePages.size);
  // the simulator's isolation check answers with that predicate
  const sim = new CoreSimAllocator(alloc, { zones: [], tunables: { minFreeKbytes: 0 } } as unknown as MachineSpec);
  for (const p of exclusivePages) assert.equal(sim.keylessReachable(p, 0), false);
  assert.equal(sim.keylessReachable(plain[0]!, 0), true);
  assert.equal(sim.keylessReachable(plain[1]!, 2), true);
  alloc.__free_pages(plain[0]!, 0, 0);
  alloc.__free_pages(plain[1]!, 2, 0);
  labs.verify();
});

test('exclusive_mempool_wipes_a_kept_block_of_any_order_without_filling_the_sparse_store', () => {
  const alloc = smallMachine({ dmaPages: 4095 });
  const bytes = new SimPageBytes();
  const labs = new Labyrinths(alloc, { bytes });
  const t = labs.create('enclave').spawn('crypto');
  const pool = exclusiveMempool(t, 2, 2);
  // exhaust the machine, so the pool hands out one of its own and keeps the block when it comes back
  const held: number[] = [];
  for (let p = alloc.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0); p >= 0; p = alloc.alloc_pages(GFP_ATOMIC | __GFP_NOWARN, 0)) held.push(p);
  const k = key(pool.alloc(GFP_ATOMIC | __GFP_EXCL));
  assert.equal(pool.fromPool, 1);
  const { pfn } = t.info(k);
  t.write(k, 0, Uint8Array.of(1, 2, 3));
  t.write(k, 3 * PAGE_SIZE + 10, Uint8Array.of(9));
  assert.equal(bytes.nrPopulated, 2);
  const wiped = labs.exclusive.wipedPages;
  pool.free(k); // the pool is below min_nr: it keeps the block, wiped
  assert.equal(pool.currNr, 2);
  assert.equal(pool.pooled[pool.pooled.length - 1], k, 'kept last, handed out next');
  assert.equal(bytes.nrPopulated, 0, 'a wiped page holds no bytes');
  assert.deepEqual(bytes.physRead(pfn * PAGE_SIZE, 4 * PAGE_SIZE), new Uint8Array(4 * PAGE_SIZE));
  assert.equal(labs.exclusive.wipedPages, wiped, 'wipedPages counts the allocation and release wipes only');
  assert.equal(code(() => labs.exclusive.wipe(t.lab.id + 1, k)), 'EXCL_WRONG_LABYRINTH');
  for (const p of held) alloc.__free_pages(p, 0);
  pool.destroy();
  assert.equal(code(() => t.wipe(k)), 'EXCL_REVOKED_KEY');
  labs.verify();
});
