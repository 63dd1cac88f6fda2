/**
 * Exclusive pages (issue 5) over real memory: the labyrinth layer's ExclusivePages on a MemoryAllocator's core
 * and backing. Its bytes open through `bytes(addr, n, key)` only with the live key (the manager's gate),
 * never without it, never with a forged or revoked key, never from another thread that holds no key; after
 * the free they read as zeros.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAllocator } from '../src/memory/memory_allocator.ts';
import { ExclusiveAccessError, MemoryAccessError } from '../src/memory/errors.ts';
import { ExclusivePages, ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import { BackingPageBytes } from '../src/labyrinth/page_bytes.ts';
import { GFP_KERNEL, GFP_ATOMIC } from '../src/gfp/bits.ts';
import { runTsWorker, tsWorker } from './_ts_worker.ts';

function mustKey(k: unknown): ExclusiveKey {
  assert.ok(k instanceof ExclusiveKey, 'allocation succeeded');
  return k;
}

test('exclusive_pages_open_only_with_their_live_key', () => {
  const mm = createAllocator({ memory: '128M', pagePoisoning: true, onCorruption: (c) => assert.fail(c.lines.join('\n')) });
  const ex = new ExclusivePages(mm.kernel, new BackingPageBytes(mm.backing));
  mm.setExclusiveGate(ex.gate());
  const key = mustKey(ex.allocate(1, 0, GFP_KERNEL, 1, mm.cpu));
  const { pfn } = ex.info(1, key);
  mm.forgetPoison(pfn, 1);
  const addr = mm.page_address(pfn);
  assert.ok(mm.bytes(addr, 8192, key).every((b) => b === 0), 'handed out zeroed');
  mm.bytes(addr + 4096, 4, key).set([1, 2, 3, 4]);
  assert.deepEqual([...ex.read(1, key, 4096, 4)], [1, 2, 3, 4], 'the labyrinth sees the same bytes');
  assert.throws(() => mm.bytes(addr, 1), ExclusiveAccessError, 'no key');
  assert.throws(() => mm.bytes(addr + 4096, 1), ExclusiveAccessError, 'a tail page without a key');
  assert.throws(() => mm.bytes(addr, 1, { pfn }), ExclusiveAccessError, 'a forged key');
  const other = mustKey(ex.allocate(2, 0, GFP_ATOMIC, 0, mm.cpu));
  assert.throws(() => mm.bytes(addr, 1, other), ExclusiveAccessError, "another labyrinth's key");
  const moved = ex.transfer(1, key, 3, 0);
  assert.throws(() => mm.bytes(addr, 1, key), ExclusiveAccessError, 'a revoked key (transferred)');
  assert.equal(mm.bytes(addr + 4096, 4, moved)[3], 4, 'the new key opens the same bytes');
  ex.free(3, moved, mm.cpu);
  assert.throws(() => mm.bytes(addr, 1, moved), MemoryAccessError, 'a freed page: no allocation holds it');
  assert.ok(ex.bytes.physRead(addr, 8192).every((b) => b === 0), 'after the free the bytes read as zeros');
  ex.free(2, other, mm.cpu);
  mm.verify();
  ex.verify();
});

test('another_worker_cannot_reach_an_exclusive_page', async () => {
  const mm = createAllocator({ memory: '128M', shared: true, cpus: 2 });
  const ex = new ExclusivePages(mm.kernel, new BackingPageBytes(mm.backing));
  mm.setExclusiveGate(ex.gate());
  const key = mustKey(ex.allocate(1, 0, GFP_KERNEL, 1, mm.cpu));
  const addr = mm.page_address(ex.info(1, key).pfn);
  ex.write(1, key, 0, Uint8Array.of(42));
  // The key cannot cross a thread: a structured clone of it is a plain object the owner's gate never minted.
  const r = await runTsWorker(new URL('./_memory_excl_worker.ts', import.meta.url), { handle: mm.handle(), addr, clonedKey: JSON.parse(JSON.stringify({ k: String(key) })) }) as { codes: string[] };
  assert.deepEqual(r.codes, ['EXCLUSIVE_PAGE', 'EXCLUSIVE_PAGE', 'EXCLUSIVE_PAGE', 'EXCLUSIVE_PAGE']);
  assert.equal(mm.bytes(addr, 1, key)[0], 42, 'the owner still opens it');
  ex.free(1, key, mm.cpu);
  mm.verify();
});

// Keys are objects of one thread, but a labyrinth may span workers (issue 6): a key exported as a token
// { pfn, secret } becomes a key of another worker's manager attached to the same shared key table, inside the
// same labyrinth only; revocation clears the shared record, so every copy dies at once.
type Step = import('./_memory_xkey_worker.ts').Step;
const XKEY_WORKER = new URL('./_memory_xkey_worker.ts', import.meta.url);

function sharedSetup() {
  const mm = createAllocator({ memory: '128M', shared: true, cpus: 3 });
  const ex = new ExclusivePages(mm.kernel, new BackingPageBytes(mm.backing));
  mm.setExclusiveGate(ex.gate());
  const key = mustKey(ex.allocate(1, 0, GFP_KERNEL, 1, mm.cpu));
  const { pfn } = ex.info(1, key);
  return { mm, ex, key, pfn, addr: mm.page_address(pfn), keyTable: ex.shareKeys() };
}

async function inWorker(s: ReturnType<typeof sharedSetup>, labyrinth: number, steps: Step[]): Promise<unknown[]> {
  const r = await runTsWorker(XKEY_WORKER, { handle: s.mm.handle(), keyTable: s.keyTable, labyrinth, steps }) as { out: unknown[] };
  return r.out;
}

test('a_key_works_in_another_worker_of_the_same_labyrinth', async () => {
  const s = sharedSetup();
  const { mm, ex, key, addr } = s;
  ex.write(1, key, 4096, Uint8Array.of(7, 8, 9));
  const token = ex.exportKey(1, key);
  const out = await inWorker(s, 1, [
    { op: 'import', token },
    { op: 'read', off: 4096, len: 3 },
    { op: 'bytes', addr: addr + 4096, len: 3 },
    { op: 'write', off: 0, data: [1, 2] },
    { op: 'setBytes', addr: addr + 8190, data: [5, 6] },
    { op: 'free' },
  ]);
  assert.deepEqual(out, ['OK', [7, 8, 9], [7, 8, 9], 'OK', 'OK', 'EXCL_IMPORTED_KEY']);
  assert.deepEqual([...ex.read(1, key, 0, 2)], [1, 2], "the worker's writes are the page's bytes");
  assert.deepEqual([...mm.bytes(addr + 8190, 2, key)], [5, 6]);
  // The same token also opens it in this thread (an import is a key of the importing manager).
  const again = ex.importKey(1, token);
  assert.deepEqual([...mm.bytes(addr, 2, again)], [1, 2]);
  ex.free(1, key, mm.cpu);
  assert.throws(() => mm.bytes(addr, 1, again), MemoryAccessError, 'the free revoked the imported key too');
  mm.verify();
  ex.verify();
});

test('a_key_token_is_refused_in_a_worker_of_another_labyrinth', async () => {
  const s = sharedSetup();
  const token = s.ex.exportKey(1, s.key);
  const out = await inWorker(s, 2, [{ op: 'import', token }, { op: 'bytes', addr: s.addr, len: 1 }]);
  assert.deepEqual(out, ['EXCL_WRONG_LABYRINTH', 'EXCLUSIVE_PAGE'], 'refused, nothing changed, bytes closed');
  s.ex.free(1, s.key, s.mm.cpu);
  s.mm.verify();
});

test('a_transfer_revokes_the_token_and_the_imported_key_in_the_other_worker_at_once', async () => {
  const s = sharedSetup();
  const { mm, ex, key, addr } = s;
  const token = ex.exportKey(1, key);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const steps: Step[] = [
    { op: 'import', token }, { op: 'bytes', addr, len: 1 }, { op: 'wait' },
    { op: 'read', off: 0, len: 1 }, { op: 'bytes', addr, len: 1 }, { op: 'import', token },
  ];
  let moved: ExclusiveKey | null = null;
  const r = await new Promise<unknown[]>((resolve, reject) => {
    const w = tsWorker(XKEY_WORKER, { handle: mm.handle(), keyTable: s.keyTable, labyrinth: 1, steps, flag });
    w.on('message', (m: { phase?: string; out?: unknown[] }) => {
      if (m.phase === 'waiting') {
        // The worker holds a live imported key; the owner hands the page to another holder of labyrinth 1.
        moved = ex.transfer(1, key, 1, 7);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      } else if (m.out !== undefined) resolve(m.out);
    });
    w.on('error', reject);
    w.on('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
  assert.deepEqual(r, ['OK', [0], 'WOKE', 'EXCL_REVOKED_KEY', 'EXCLUSIVE_PAGE', 'EXCL_REVOKED_KEY']);
  assert.ok(moved !== null);
  assert.equal(ex.info(1, moved).holder, 7, 'the new key still opens the page here');
  ex.free(1, moved, mm.cpu);
  mm.verify();
  ex.verify();
});

test('forged_stale_and_foreign_tokens_are_refused_and_change_nothing', async () => {
  const s = sharedSetup();
  const { mm, ex, key, pfn } = s;
  const token = ex.exportKey(1, key);
  const flipped = token.secret.slice();
  flipped[2] ^= 1;
  const other = mustKey(ex.allocate(1, 0, GFP_KERNEL, 0, mm.cpu));
  const otherPfn = ex.info(1, other).pfn;
  const plain = mm.kernel.alloc_pages(GFP_KERNEL, 0, mm.cpu);
  const out = await inWorker(s, 1, [
    { op: 'import', token: { pfn, secret: flipped } },
    { op: 'import', token: { pfn: otherPfn, secret: token.secret } },
    { op: 'import', token: { pfn: plain, secret: token.secret } },
    { op: 'import', token: { pfn, secret: [...token.secret] } },
    { op: 'import', token: { pfn: mm.mm.nrPfn, secret: token.secret } },
    { op: 'import', token: String(key) },
    { op: 'import', token: { pfn, secret: new Uint32Array(4) } },
  ]);
  assert.deepEqual(out, Array(7).fill('EXCL_FORGED_KEY'), 'every forgery refused, state and key table unchanged');
  // A token of a freed page is revoked, and stays so after the page is reallocated (even exclusively).
  ex.free(1, key, mm.cpu);
  const before = new Uint8Array(mm.kernel.snapshot());
  assert.throws(() => ex.importKey(1, token), (e: unknown) => (e as { code?: string }).code === 'EXCL_REVOKED_KEY');
  assert.deepEqual(new Uint8Array(mm.kernel.snapshot()), before);
  const again = mustKey(ex.allocate(1, 0, GFP_KERNEL, 1, mm.cpu));
  assert.equal(ex.info(1, again).pfn, pfn, 'the same block came back (per-CPU list, LIFO)');
  const late = await inWorker(s, 1, [{ op: 'import', token }, { op: 'bytes', addr: s.addr, len: 1 }]);
  assert.deepEqual(late, ['EXCL_REVOKED_KEY', 'EXCLUSIVE_PAGE']);
  ex.free(1, again, mm.cpu);
  ex.free(1, other, mm.cpu);
  mm.kernel.__free_pages(plain, 0, mm.cpu);
  mm.verify();
  ex.verify();
});
