/**
 * Several worker_threads share one allocator: each attaches with the handle and gets its own CPU
 * slot (its own per-CPU lists). Run: node --import tsx examples/memory_workers.ts
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createAllocator, attachAllocator, GFP_KERNEL, type MemoryHandle } from '../src/index.ts';

if (isMainThread) {
  const mm = createAllocator({ memory: '256M', shared: true, cpus: 3 });
  const handle = mm.handle();
  const ready = new Int32Array(new SharedArrayBuffer(4)); // both workers attach before either detaches
  // Workers do not inherit tsx's loader: register it, then load this file.
  const boot = `const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(import.meta.url)});`;
  const results = await Promise.all([1, 2].map((id) => new Promise<string>((resolve, reject) => {
    const w = new Worker(boot, { eval: true, type: 'module', workerData: { handle, id, ready } } as ConstructorParameters<typeof Worker>[1]);
    w.once('message', resolve);
    w.once('error', reject);
  })));
  for (const r of results) console.log(r);
  mm.verify();
  console.log('verify: ok');
} else {
  const { handle, id, ready } = workerData as { handle: MemoryHandle; id: number; ready: Int32Array };
  const mm = attachAllocator(handle);
  Atomics.add(ready, 0, 1);
  while (Atomics.load(ready, 0) < 2) Atomics.wait(ready, 0, Atomics.load(ready, 0), 10);
  const pages: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const p = mm.allocPages(GFP_KERNEL, 0);
    mm.u32(p, 1)[0] = id;
    pages.push(p);
  }
  const mine = pages.every((p) => mm.u32(p, 1)[0] === id);
  for (const p of pages) mm.freePages(p, 0);
  const cpu = mm.slot;
  mm.detach();
  parentPort!.postMessage(`worker ${id} on CPU ${cpu}: 1000 pages, all still its own: ${mine}`);
}
