/** Web Worker of the browser example: attach to the shared allocator and churn pages of orders 0..3. */
import { attachAllocator, GFP_ATOMIC, GFP_KERNEL, type MemoryHandle } from '../../src/index.ts';

self.onmessage = (e: MessageEvent<{ handle: MemoryHandle; id: number; ops: number; ready: Int32Array }>) => {
  const { handle, id, ops, ready } = e.data;
  const mm = attachAllocator(handle);
  // Both workers attach before either runs (and detaches), so that they really share the allocator.
  Atomics.add(ready, 0, 1);
  while (Atomics.load(ready, 0) < 2) Atomics.wait(ready, 0, Atomics.load(ready, 0), 10);
  const live: number[] = [];
  const orders: number[] = [];
  const errors: string[] = [];
  let allocs = 0, frees = 0, checksum = 0, s = id * 2654435761 >>> 0;
  for (let i = 0; i < ops; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    if (live.length < 64 && (s & 1) === 1) {
      const order = (s >>> 4) & 3;
      const addr = mm.allocPages((s & 2) !== 0 ? GFP_ATOMIC : GFP_KERNEL, order);
      if (addr === 0) continue;
      const v = mm.u32(addr, 2);
      v[0] = id; v[1] = i;
      live.push(addr); orders.push(order); allocs++;
    } else if (live.length > 0) {
      const k = (s >>> 8) % live.length;
      const addr = live[k]!, order = orders[k]!;
      const v = mm.u32(addr, 2);
      if (v[0] !== id) errors.push(`page 0x${addr.toString(16)} was overwritten by another owner`);
      checksum = (checksum + v[1]!) >>> 0;
      mm.freePages(addr, order);
      live[k] = live[live.length - 1]!; live.pop();
      orders[k] = orders[orders.length - 1]!; orders.pop();
      frees++;
    }
  }
  for (let k = 0; k < live.length; k++) { mm.freePages(live[k]!, orders[k]!); frees++; }
  const cpu = mm.slot;
  mm.detach();
  (self as unknown as { postMessage(m: unknown): void }).postMessage({ cpu, allocs, frees, checksum, errors });
};
