/**
 * A tiny static server for the browser example: bundles main.ts and worker.ts with esbuild (which
 * tsx ships) and serves them from 127.0.0.1 with the two headers that make a page cross-origin
 * isolated (so that SharedArrayBuffer exists): COOP same-origin and COEP require-corp.
 *
 *   node --import tsx examples/browser/serve.ts [port]     then open the printed URL
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const HERE = import.meta.dirname;

/** Bundle the example for browsers (ESM, no Node built-ins: the build fails if the core imports one). */
export async function bundleExample(): Promise<Map<string, string>> {
  const r = await build({
    entryPoints: { main: path.join(HERE, 'main.ts'), worker: path.join(HERE, 'worker.ts') },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, outdir: '/out', logLevel: 'silent',
  });
  const files = new Map<string, string>();
  for (const f of r.outputFiles) files.set('/' + path.basename(f.path), f.text);
  files.set('/', readFileSync(path.join(HERE, 'index.html'), 'utf8'));
  files.set('/index.html', files.get('/')!);
  return files;
}

/** Start the server; resolves with its URL and a close function. */
export async function serveExample(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const files = await bundleExample();
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    if (url === '/favicon.ico') { res.writeHead(204).end(); return; }
    const body = files.get(url);
    if (body === undefined) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, {
      'Content-Type': (req.url ?? '').endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(HERE, 'serve.ts')) {
  const { url } = await serveExample(Number(process.argv[2] ?? 8080));
  console.log(`Labyrinth browser example: ${url}`);
}
