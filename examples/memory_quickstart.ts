/**
 * Quick start: real pages with the idiomatic API. Run: node --import tsx examples/memory_quickstart.ts
 */
import { createAllocator, GFP_ATOMIC, GFP_KERNEL, __GFP_ZERO, MemoryAccessError } from '../src/index.ts';

const mm = createAllocator({ memory: '256M', shared: true });

// One page for an atomic context (never sleeps; may dig into reserves), as a byte view.
const p = mm.allocPages(GFP_ATOMIC, 0);          // an address (void *), 0 on failure
const view = mm.bytes(p, 4096);                  // Uint8Array over exactly that page
view[0] = 42;
console.log(`page at 0x${p.toString(16)}: first byte ${mm.bytes(p, 1)[0]}`);

// 16 KiB, zeroed, seen as float64s and through a DataView.
const q = mm.alloc(16384, GFP_KERNEL | __GFP_ZERO);
const f = mm.f64(q);
f[1] = Math.PI;
console.log(`order-2 block at 0x${q.toString(16)}: ${f.length} doubles, f[1] = ${mm.dataView(q).getFloat64(8, true).toFixed(5)}`);

// Every access is checked against its allocation.
try {
  mm.bytes(q, 16385);
} catch (e) {
  if (e instanceof MemoryAccessError) console.log(`${e.code}: ${e.message}`);
}

mm.freePages(p, 0);
mm.free(q);                                      // the order comes from the page descriptor
try {
  mm.bytes(p, 1);
} catch (e) {
  if (e instanceof MemoryAccessError) console.log(`${e.code}: ${e.message}`);
}
mm.verify();
console.log('verify: ok');
