/**
 * Browser example: one allocator in a SharedArrayBuffer (needs cross-origin isolation: COOP
 * same-origin + COEP require-corp), two Web Workers attached to it, each with its own per-CPU
 * lists. The page prints what happened and exposes it as `window.labyrinthResult`.
 */
import { createAllocator, GFP_KERNEL, __GFP_ZERO } from '../../src/index.ts';

interface WorkerReport { cpu: number; allocs: number; frees: number; checksum: number; errors: string[] }

const out = document.getElementById('result')!;
function show(result: unknown): void {
  (window as unknown as { labyrinthResult: unknown }).labyrinthResult = result;
  out.textContent = JSON.stringify(result, null, 2);
}

async function main(): Promise<void> {
  if (!crossOriginIsolated) {
    show({ ok: false, crossOriginIsolated, error: 'SharedArrayBuffer needs cross-origin isolation (COOP/COEP headers)' });
    return;
  }
  const mm = createAllocator({ memory: '128M', shared: true, cpus: 4, pagePoisoning: true });
  // The main thread allocates too (a browser's main thread may not block: its zone lock only spins).
  const page = mm.allocPages(GFP_KERNEL | __GFP_ZERO, 0);
  const view = mm.bytes(page, 4096);
  view.set([76, 97, 98, 121]); // "Laby"
  const handle = mm.handle();
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const reports = await Promise.all([1, 2].map((id) => new Promise<WorkerReport>((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<WorkerReport>) => { resolve(e.data); w.terminate(); };
    w.onerror = (e) => reject(new Error(e.message));
    w.postMessage({ handle, id, ops: 20000, ready });
  })));
  mm.freePages(page, 0);
  mm.drainLocalPages();
  let verified = true;
  let verifyError = '';
  try { mm.verify(); } catch (e) { verified = false; verifyError = String(e); }
  let free = 0;
  for (let z = 0; z < mm.mm.nrZones; z++) free += mm.kernel.nrFreePages(z);
  show({
    ok: verified && reports.every((r) => r.errors.length === 0),
    crossOriginIsolated, verified, verifyError, firstPage: page.toString(16),
    stateIsShared: mm.mm.buffer instanceof SharedArrayBuffer, freePages: free, corruptions: mm.corruptions(), reports,
  });
}

main().catch((e) => show({ ok: false, error: String(e) }));
