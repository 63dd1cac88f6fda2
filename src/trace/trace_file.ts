/**
 * Reading traces and kpageflags from files (Node only): plain, .xz (through the `xz` program) or .gz.
 * Traces are streamed into the parser chunk by chunk, so a 600 MB trace never sits in memory as text.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';
import { BadInputError } from '../errors.ts';
import { FtraceParser, type ParseOptions, type ParsedTrace } from './ftrace.ts';

function openStream(path: string): { stream: Readable; done: Promise<void> } {
  try { statSync(path); } catch {
    throw new BadInputError('FILE_NOT_FOUND', `Cannot read ${path}: no such file`);
  }
  if (path.endsWith('.xz')) {
    const child = spawn('xz', ['-dc', path], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (e) => reject(new BadInputError('XZ_MISSING', `Cannot decompress ${path}: ${e.message} (install xz-utils)`)));
      child.on('close', (code) => {
        if (code === 0) resolve();
        else reject(new BadInputError('XZ_FAILED', `Cannot decompress ${path}: xz exited ${code}: ${err.trim()}`));
      });
    });
    return { stream: child.stdout, done };
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  if (path.endsWith('.gz')) {
    const gz = createGunzip();
    file.pipe(gz);
    return { stream: gz, done: Promise.resolve() };
  }
  return { stream: file, done: Promise.resolve() };
}

/** Parse a trace file (plain, .xz or .gz) by streaming it through the parser. */
export async function parseTraceFile(path: string, options: ParseOptions = {}): Promise<ParsedTrace> {
  const { stream, done } = openStream(path);
  const parser = new FtraceParser(options, path.endsWith('.xz') ? statSync(path).size * 50 : statSync(path).size);
  for await (const chunk of stream) parser.push(chunk as Buffer);
  await done;
  return parser.end();
}

/** Whole file contents, decompressed when it ends in .xz or .gz. */
export function readMaybeCompressed(path: string): Uint8Array {
  try { statSync(path); } catch {
    throw new BadInputError('FILE_NOT_FOUND', `Cannot read ${path}: no such file`);
  }
  if (path.endsWith('.xz')) {
    const r = spawnSync('xz', ['-dc', path], { maxBuffer: 2 ** 31 });
    if (r.error) throw new BadInputError('XZ_MISSING', `Cannot decompress ${path}: ${r.error.message} (install xz-utils)`);
    if (r.status !== 0) throw new BadInputError('XZ_FAILED', `Cannot decompress ${path}: ${r.stderr.toString().trim()}`);
    return r.stdout;
  }
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw) : raw;
}
