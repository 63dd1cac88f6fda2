/**
 * Worker of the exclusive-page test: attached to the same allocator, it holds no key and no gate of the
 * labyrinth that owns the page, so every way to its bytes through this layer must fail.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachAllocator, type MemoryHandle } from '../src/memory/memory_allocator.ts';

const { handle, addr, clonedKey } = workerData as { handle: MemoryHandle; addr: number; clonedKey: unknown };
const mm = attachAllocator(handle);
const codes: string[] = [];
for (const attempt of [() => mm.bytes(addr, 1), () => mm.bytes(addr, 1, clonedKey), () => mm.dataView(addr, 8, clonedKey), () => mm.u32(addr + 4096)]) {
  try {
    attempt();
    codes.push('OPENED');
  } catch (e) {
    codes.push((e as { code?: string }).code ?? String(e));
  }
}
mm.detach();
parentPort!.postMessage({ codes });
