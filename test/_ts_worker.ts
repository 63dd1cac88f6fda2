/** Start a worker_thread running a TypeScript file (workers do not inherit tsx's loader: register it first). */
import { Worker } from 'node:worker_threads';

export function tsWorker(file: URL, workerData: unknown): Worker {
  const boot = `const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(file.href)});`;
  return new Worker(boot, { eval: true, workerData, type: 'module' } as ConstructorParameters<typeof Worker>[1]);
}

/** Run a TypeScript worker to its end; resolves with the last message it posted. */
export function runTsWorker(file: URL, workerData: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const w = tsWorker(file, workerData);
    let msg: unknown = null;
    w.on('message', (m) => { msg = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 ? resolve(msg) : reject(new Error(`worker exited with ${code}`))));
  });
}
