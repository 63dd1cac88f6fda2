/**
 * Real memory on one thread: addresses, checked views, __GFP_ZERO, init_on_alloc / init_on_free,
 * page poisoning with the kernel's poison byte and report, memory above 4 GiB, the backing kinds,
 * and the exclusive-page seam for the labyrinth layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAllocator, attachAllocator, orderForBytes } from '../src/memory/memory_allocator.ts';
import { MemoryAccessError, ExclusiveAccessError, AttachError } from '../src/memory/errors.ts';
import { PAGE_POISON, checkPoisonMem, printHexDump, singleBitFlip, type PageCorruption } from '../src/memory/page_poison.ts';
import { newWasmMemory } from '../src/memory/backing.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_NOWAIT, __GFP_COMP, __GFP_ZERO } from '../src/gfp/bits.ts';
import { PG_exclusive } from '../src/mm/page_flags.ts';
import { smallSpec } from './_machine.ts';
import { BadPageStateError } from '../src/errors.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MemoryAccessError) return e.code;
    throw e;
  }
  return 'OK';
}

test('bytes_and_views_are_bounded_by_the_allocation', () => {
  const mm = createAllocator({ memory: '128M' });
  const p = mm.allocPages(GFP_KERNEL, 3);
  assert.ok(p > 0 && p % (4096 * 8) === 0, 'an order-3 block is aligned to its size');
  assert.equal(mm.bytes(p).length, 8 * 4096, 'default length: to the end of the allocation');
  assert.equal(mm.bytes(p + 5 * 4096 + 7, 100).length, 100, 'an inner page of a plain block');
  assert.equal(mm.f64(p + 8, 4).length, 4);
  assert.equal(mm.u32(p + 4 * 4096).length, 4 * 1024, 'typed view to the end of the block');
  const dv = mm.dataView(p + 4096, 16);
  dv.setUint32(0, 0xdeadbeef);
  assert.equal(mm.bytes(p + 4096, 4)[0], 0xde, 'views alias the same bytes');
  assert.equal(code(() => mm.bytes(p + 7 * 4096, 4097)), 'PAST_ALLOCATION');
  assert.equal(code(() => mm.bytes(p, 8 * 4096 + 1)), 'PAST_ALLOCATION');
  assert.equal(code(() => mm.f64(p + 4)), 'MISALIGNED');
  assert.equal(code(() => mm.bytes(0, 1)), 'NULL');
  assert.equal(code(() => mm.bytes(p + 8 * 4096, 1)), 'NOT_ALLOCATED', 'the next block is free');
  assert.equal(code(() => mm.bytes(4096, 1)), 'NOT_ALLOCATED', 'pfn 1 is reserved (BIOS)');
  assert.equal(code(() => mm.bytes(2 ** 45, 1)), 'OUT_OF_RANGE');
  assert.equal(code(() => mm.bytes(p + 0.5, 1)), 'BAD_ADDRESS');
  assert.equal(code(() => mm.bytes(p, 1.5)), 'BAD_LENGTH');
  assert.equal(code(() => mm.bytes(p, -5)), 'BAD_LENGTH');
  assert.equal(code(() => mm.f64(p, 2.5)), 'BAD_LENGTH');
  const view = mm.bytes(p, 16);
  mm.freePages(p, 3);
  assert.equal(code(() => mm.bytes(p, 1)), 'NOT_ALLOCATED', 'use after free is refused');
  assert.equal(view.length, 16, 'a view handed out earlier still exists (poisoning catches writes through it)');
  mm.verify();
});

test('compound_tails_resolve_to_their_head', () => {
  const mm = createAllocator({ memory: '128M' });
  const p = mm.allocPages(GFP_KERNEL | __GFP_COMP, 2);
  assert.equal(mm.bytes(p + 3 * 4096 + 100).length, 4096 - 100);
  assert.equal(mm.allocationBytes(p), 4 * 4096);
  assert.equal(mm.allocationBytes(p + 4096), 0, 'a tail starts no allocation');
  mm.free(p);
  mm.verify();
});

test('free_finds_the_order_and_misuse_is_the_cores_bad_page_state', () => {
  const mm = createAllocator({ memory: '128M', pagePoisoning: true, onCorruption: () => assert.fail('no corruption expected') });
  const p = mm.alloc(5 * 4096, GFP_KERNEL);
  assert.equal(mm.allocationBytes(p), 8 * 4096, '5 pages round up to order 3');
  mm.free(p);
  assert.throws(() => mm.freePages(p, 3), BadPageStateError, 'double free');
  const q = mm.allocPages(GFP_KERNEL, 1);
  mm.bytes(q).fill(7);
  assert.throws(() => mm.freePages(q, 0), BadPageStateError, 'wrong order');
  assert.ok(mm.bytes(q).every((b) => b === 7), 'a refused free wipes nothing');
  mm.freePages(q, 1);
  assert.equal(orderForBytes(4096 * 1024), 10);
  assert.equal(orderForBytes(4096 * 1024 + 1), -1);
  mm.verify();
});

test('gfp_zero_and_get_zeroed_page_zero_the_pages', () => {
  const mm = createAllocator({ memory: '128M' });
  const p = mm.allocPages(GFP_KERNEL, 2);
  mm.bytes(p).fill(0x5a);
  mm.freePages(p, 2);
  const q = mm.allocPages(GFP_KERNEL | __GFP_ZERO, 2);
  assert.equal(q, p, 'the block just freed comes back (pcp list, LIFO)');
  assert.ok(mm.bytes(q).every((b) => b === 0));
  mm.bytes(q).fill(0x5a);
  mm.freePages(q, 2);
  const r = mm.allocPages(GFP_KERNEL, 2);
  assert.equal(r, p);
  assert.equal(mm.bytes(r)[0], 0x5a, 'without __GFP_ZERO or init_on_alloc the old bytes stay');
  mm.freePages(r, 2);
  const z = mm.get_zeroed_page(GFP_KERNEL);
  assert.ok(mm.bytes(z).every((b) => b === 0));
  mm.free_pages(z, 0);
});

test('init_on_alloc_and_init_on_free_zero_every_page', () => {
  const a = createAllocator({ memory: '128M', initOnAlloc: true });
  const p = a.allocPages(GFP_ATOMIC, 0);
  a.bytes(p).fill(9);
  a.freePages(p, 0);
  assert.ok(a.bytes(a.allocPages(GFP_ATOMIC, 0)).every((b) => b === 0));
  const f = createAllocator({ memory: '128M', initOnFree: true });
  const q = f.allocPages(GFP_KERNEL, 1);
  const held = f.bytes(q);
  held.fill(9);
  f.freePages(q, 1);
  assert.ok(held.every((b) => b === 0), 'the freed bytes read as zeros at once');
});

test('page_poisoning_fills_freed_pages_with_0xaa_and_takes_precedence', () => {
  const mm = createAllocator({ memory: '128M', pagePoisoning: true, initOnAlloc: true, initOnFree: true });
  assert.equal(PAGE_POISON, 0xaa);
  assert.deepEqual(mm.notes, ['mem auto-init: CONFIG_PAGE_POISONING is on, will take precedence over init_on_alloc and init_on_free']);
  assert.equal(mm.initOnAlloc, false);
  assert.equal(mm.initOnFree, false);
  const p = mm.allocPages(GFP_KERNEL, 1);
  const held = mm.bytes(p);
  held.fill(1);
  mm.freePages(p, 1);
  assert.ok(held.every((b) => b === PAGE_POISON));
  assert.equal(mm.allocPages(GFP_KERNEL, 1), p);
  assert.equal(mm.corruptions(), 0, 'an untouched poisoned page passes the check');
});

test('use_after_free_is_reported_as_the_kernel_reports_memory_corruption', () => {
  const reports: PageCorruption[] = [];
  const mm = createAllocator({ memory: '128M', pagePoisoning: true, onCorruption: (c) => reports.push(c) });
  const p = mm.allocPages(GFP_KERNEL, 0);
  const stale = mm.bytes(p);
  mm.freePages(p, 0);
  stale[0x10] = 0x41; // 'A'
  stale[0x31] = 0x00;
  assert.equal(mm.allocPages(GFP_KERNEL, 0), p);
  assert.equal(reports.length, 1);
  assert.equal(mm.corruptions(), 1);
  const r = reports[0]!;
  const pfn = p / 4096;
  assert.equal(r.kind, 'memory corruption');
  assert.equal(r.firstAddr, p + 0x10);
  assert.equal(r.lastAddr, p + 0x31);
  // mm/page_poison.c check_poison_mem: the message, print_hex_dump of first..last bad byte
  // (DUMP_PREFIX_ADDRESS, 16 per row, groupsize 1, ASCII), then dump_page.
  const hex = (a: number): string => a.toString(16).padStart(16, '0');
  assert.deepEqual(r.lines, [
    'pagealloc: memory corruption',
    `${hex(p + 0x10)}: 41 aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa  A...............`,
    `${hex(p + 0x20)}: aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa aa  ................`,
    `${hex(p + 0x30)}: aa 00                                            ..`,
    `page:(____ptrval____) refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`,
    'flags: 0x0()',
    'page dumped because: pagealloc: corrupted page details',
  ]);
});

test('a_single_flipped_bit_is_a_single_bit_error', () => {
  const u8 = new Uint8Array(4096).fill(PAGE_POISON);
  const page = { pfn: 0x1234, flags: 0, refcount: 1, order: 0 };
  assert.equal(checkPoisonMem(u8, 0, 4096, 0x1234000, page), null);
  u8[100] = PAGE_POISON ^ 0x08;
  const r = checkPoisonMem(u8, 0, 4096, 0x1234000, page)!;
  assert.equal(r.lines[0], 'pagealloc: single bit error');
  assert.equal(r.lines[1], '0000000001234064: a2                                               .');
  u8[100] = PAGE_POISON ^ 0x18;
  assert.equal(checkPoisonMem(u8, 0, 4096, 0x1234000, page)!.lines[0], 'pagealloc: memory corruption', 'two bits are corruption');
  assert.equal(singleBitFlip(0xaa, 0xaa), false);
  // hex_dump_to_buffer: a full row is 47 hex characters, two spaces, 16 ASCII characters.
  const row = printHexDump(Uint8Array.from({ length: 16 }, (_, i) => 0x30 + i), 0)[0]!;
  assert.equal(row, '0000000000000000: 30 31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  0123456789:;<=>?');
});

test('addresses_above_4_GiB_with_the_none_backing', () => {
  const mm = createAllocator({ memory: '64G', backing: 'none' });
  let maxAddr = 0;
  const got: number[] = [];
  // Take 4 MiB blocks until the addresses pass 32 GiB (2^35): RAM above 3.5 GiB sits above 4 GiB.
  while (maxAddr < 2 ** 35) {
    const a = mm.allocPages(GFP_KERNEL, 10);
    assert.ok(a > 0, 'memory lasts past 32 GiB of address space');
    got.push(a);
    maxAddr = Math.max(maxAddr, a);
  }
  assert.ok(got.length > 7000);
  for (const a of got) {
    assert.equal(a % (4096 * 1024), 0, 'order-10 blocks are 4 MiB aligned, with exact Number arithmetic');
    assert.equal(mm.page_address(mm.virt_to_page(a)), a);
  }
  assert.equal(mm.backing.reservedBytes(), 0, 'no bytes are reserved');
  assert.equal(code(() => mm.bytes(got[0]!, 1)), 'NO_BACKING');
  for (const a of got) mm.freePages(a, 10);
  mm.verify();
});

test('real_bytes_above_4_GiB_back_only_the_zone_spans', () => {
  // DMA (16 MiB) and a Normal zone of 64 MiB starting at 4 GiB: the 4 GiB hole takes no buffer.
  const spec = smallSpec({ normalPages: 16384 });
  const mm = createAllocator({ memory: spec, backing: 'arraybuffer' });
  assert.ok(mm.backing.reservedBytes() <= (4095 + 16384) * 4096);
  const a = mm.allocPages(GFP_KERNEL, 4);
  assert.ok(a >= 2 ** 32, 'Normal is preferred: the address is above 4 GiB');
  const dv = mm.dataView(a);
  dv.setFloat64(65536 - 8, Math.PI, true);
  assert.equal(mm.f64(a + 65536 - 8, 1)[0], Math.PI);
  mm.freePages(a, 4);
  mm.verify();
});

test('a_high_address_base_keeps_exact_addresses_and_bytes', () => {
  const base = 2 ** 46; // 64 TiB: addresses need 47 bits, far past any 32-bit arithmetic
  const mm = createAllocator({ memory: '128M', addressBase: base });
  const a = mm.allocPages(GFP_KERNEL, 5);
  assert.ok(a > base && (a - base) % (4096 * 32) === 0);
  assert.equal(mm.page_address(mm.virt_to_page(a + 4095)), a);
  mm.bytes(a + 31 * 4096 + 4095, 1)[0] = 0x7f;
  assert.equal(mm.read(a + 31 * 4096 + 4095, 1)[0], 0x7f);
  assert.equal(code(() => mm.bytes(a + 32 * 4096, 1)), 'NOT_ALLOCATED');
  assert.equal(code(() => mm.bytes(a - base, 1)), 'OUT_OF_RANGE', 'the same offset without the base is no address');
  mm.freePages(a, 5);
});

test('wasm_backing_grows_a_shared_memory_on_demand', () => {
  const mm = createAllocator({ memory: '128M', backing: 'wasm', shared: true });
  const before = mm.backing.reservedBytes();
  const addrs: number[] = [];
  for (let i = 0; i < 16; i++) addrs.push(mm.allocPages(GFP_KERNEL | __GFP_ZERO, 8));
  const after = mm.backing.reservedBytes();
  assert.ok(after > before, `the memory grew (${before} → ${after})`);
  for (const a of addrs) assert.ok(mm.bytes(a).every((b) => b === 0), 'every block is backed and zeroed');
  const first = mm.bytes(addrs[0]!, 8);
  first[0] = 1;
  for (let i = 0; i < 8; i++) addrs.push(mm.allocPages(GFP_KERNEL, 10));
  assert.ok(mm.backing.reservedBytes() >= after);
  assert.equal(first[0], 1, 'a view handed out before the growth still works (shared memory never detaches)');
  assert.ok(mm.backing.memory!.buffer instanceof SharedArrayBuffer);
  const own = newWasmMemory({ initial: 1, maximum: 65536 });
  const u = createAllocator({ memory: '128M', backing: 'wasm', wasmMemory: own });
  assert.ok(own.buffer.byteLength >= 128 * 1024 * 1024 - 8 * 1024 * 1024, 'an unshared memory is sized to the span at once');
  const b = u.allocPages(GFP_ATOMIC, 0);
  u.bytes(b)[5] = 5;
  assert.equal(new Uint8Array(own.buffer)[b - u.backing.wasmStartPfn * 4096 + 5], 5, 'the bytes live in the given memory');
});

test('a_thread_frees_into_a_wasm_memory_another_thread_grew', () => {
  // Two attachments (as two threads would have): the second caches the memory before the first grows it.
  const mm = createAllocator({ memory: '128M', backing: 'wasm', shared: true, cpus: 2, initOnFree: true });
  const w = attachAllocator(mm.handle());
  const before = w.backing.backedEndPfn;
  const blocks: number[] = [];
  for (let i = 0; i < 12; i++) blocks.push(mm.allocPages(GFP_KERNEL, 10));
  const last = blocks[blocks.length - 1]!;
  assert.ok(mm.virt_to_page(last) + 1024 > before, 'the block lies past what the second attachment has seen');
  const held = mm.bytes(last);
  held.fill(7);
  w.freePages(last, 10);
  assert.ok(held.every((b) => b === 0), 'init_on_free zeroed the block through the refreshed memory');
  for (const b of blocks.slice(0, -1)) w.freePages(b, 10);
  w.detach();
  mm.verify();
});

test('exclusive_pages_open_only_through_the_gate_with_their_key', () => {
  const mm = createAllocator({ memory: '128M' });
  const p = mm.allocPages(GFP_KERNEL, 0);
  const pfn = mm.virt_to_page(p);
  // Stand-in for the labyrinth layer (issue 5): it marks the page exclusive and installs the gate.
  mm.mm.flags[pfn] = mm.mm.flags[pfn]! | PG_exclusive;
  const key = Symbol('key');
  assert.throws(() => mm.bytes(p, 1), ExclusiveAccessError);
  mm.setExclusiveGate((q, k) => q === pfn && k === key);
  assert.throws(() => mm.bytes(p, 1), ExclusiveAccessError, 'no key');
  assert.throws(() => mm.bytes(p, 1, Symbol('key')), ExclusiveAccessError, 'a forged key');
  assert.equal(mm.bytes(p, 8, key).length, 8);
  assert.equal(mm.dataView(p, 8, key).byteLength, 8);
  mm.zeroPages(pfn, 0);
  mm.mm.flags[pfn] = mm.mm.flags[pfn]! & ~PG_exclusive;
  mm.freePages(p, 0);
});

test('sharing_needs_shared_buffers_and_free_cpu_slots', () => {
  const local = createAllocator({ memory: '128M' });
  assert.throws(() => local.handle(), AttachError);
  assert.throws(() => createAllocator({ memory: '128M', shared: true, backing: 'arraybuffer' }), /Cannot create a shared allocator/);
  const mm = createAllocator({ memory: '128M', shared: true, cpus: 2 });
  const h = mm.handle();
  const w = attachAllocator(h);
  assert.equal(w.slot, 1);
  assert.equal(w.cpu, 4, 'slot 1 uses the core CPU 4 (slots are spaced apart)');
  assert.throws(() => attachAllocator(h), (e: unknown) => e instanceof AttachError && e.code === 'NO_FREE_CPU');
  const pgalloc = (): number => Object.entries(mm.kernel.vmEvents()).filter(([k]) => k.startsWith('pgalloc_')).reduce((n, [, v]) => n + v, 0);
  const q = mm.allocPages(GFP_NOWAIT, 0);
  const before = pgalloc();
  const p = w.allocPages(GFP_NOWAIT, 0);
  w.bytes(p)[0] = 3;
  // Generations come from per-slot residue classes (step 2 for 2 slots): unique across threads.
  assert.equal(mm.kernel.pageGeneration(w.virt_to_page(p)) % 2, 1);
  assert.equal(mm.kernel.pageGeneration(mm.virt_to_page(q)) % 2, 0);
  assert.equal(mm.bytes(p)[0], 3, 'both attachments see the same bytes');
  w.freePages(p, 0);
  assert.equal(pgalloc(), before, 'a worker counts its events privately…');
  mm.freePages(q, 0);
  w.detach();
  assert.equal(pgalloc(), before + 1, '…and folds them into the shared counters when it detaches');
  assert.equal(attachAllocator(h).slot, 1, 'a detached slot can be claimed again');
  mm.verify();
});
