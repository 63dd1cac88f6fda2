/**
 * Worker of the cross-worker key tests (issue 6): attached to the same allocator and to the exclusive-page
 * manager's shared key table, it runs the steps it is given as one labyrinth and reports what each did.
 * Every refused import is checked to leave the state buffer and the key table byte-identical.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachAllocator, type MemoryHandle } from '../src/memory/memory_allocator.ts';
import { ExclusivePages, type ExclusiveKey, type ExclusiveKeyToken } from '../src/labyrinth/exclusive.ts';
import { BackingPageBytes } from '../src/labyrinth/page_bytes.ts';

export type Step =
  | { op: 'import'; token: unknown }
  | { op: 'read'; off: number; len: number }
  | { op: 'write'; off: number; data: number[] }
  | { op: 'bytes'; addr: number; len: number }
  | { op: 'setBytes'; addr: number; data: number[] }
  | { op: 'free' }
  | { op: 'wait' };

const { handle, keyTable, labyrinth, steps, flag } = workerData as {
  handle: MemoryHandle; keyTable: SharedArrayBuffer; labyrinth: number; steps: Step[]; flag?: Int32Array;
};
const mm = attachAllocator(handle);
const ex = new ExclusivePages(mm.kernel, new BackingPageBytes(mm.backing), { keyTable });
mm.setExclusiveGate(ex.gate());
let key: ExclusiveKey | null = null;
const out: unknown[] = [];
const codeOf = (e: unknown): string => (e as { code?: string }).code ?? String(e);

for (const s of steps) {
  try {
    switch (s.op) {
      case 'import': {
        const before = [new Uint8Array(mm.kernel.snapshot()), new Uint8Array(keyTable).slice()];
        try {
          key = ex.importKey(labyrinth, s.token as ExclusiveKeyToken);
          out.push('OK');
        } catch (e) {
          const after = [new Uint8Array(mm.kernel.snapshot()), new Uint8Array(keyTable).slice()];
          const same = before.every((b, i) => b.length === after[i]!.length && b.every((x, j) => x === after[i]![j]));
          out.push(same ? codeOf(e) : `${codeOf(e)}+CHANGED`);
        }
        break;
      }
      case 'read': out.push([...ex.read(labyrinth, key!, s.off, s.len)]); break;
      case 'write': ex.write(labyrinth, key!, s.off, Uint8Array.from(s.data)); out.push('OK'); break;
      case 'bytes': out.push([...mm.bytes(s.addr, s.len, key ?? undefined)]); break;
      case 'setBytes': mm.bytes(s.addr, s.data.length, key ?? undefined).set(s.data); out.push('OK'); break;
      case 'free': ex.free(labyrinth, key!, mm.cpu); out.push('OK'); break;
      case 'wait':
        parentPort!.postMessage({ phase: 'waiting' });
        Atomics.wait(flag!, 0, 0);
        out.push('WOKE');
        break;
    }
  } catch (e) {
    out.push(codeOf(e));
  }
}
mm.detach();
parentPort!.postMessage({ out });
