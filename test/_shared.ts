/** Paths to the read-only real-kernel fixtures in ../shared (never edited; our own fixtures live in test/fixtures). */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readMaybeCompressed } from '../src/trace/trace_file.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** ../shared beside the checkout; from a worktree (/work/wt/<name>) the nearest ancestor's `shared`. */
function findShared(): string {
  if (process.env['LABYRINTH_SHARED']) return process.env['LABYRINTH_SHARED'];
  for (let dir = path.resolve(ROOT, '..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared');
    if (existsSync(path.join(candidate, 'fixtures'))) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(ROOT, '..', 'shared');
  }
}

export const SHARED = findShared();
export const FIXTURES = path.join(SHARED, 'fixtures');
export const QEMU = path.join(FIXTURES, 'linux-6.1-qemu');

/** A fixture file's text (UTF-8), decompressed when it ends in .xz or .gz (src/trace/trace_file.ts does the reading). */
export function fixtureText(file: string): string {
  return Buffer.from(readMaybeCompressed(file)).toString('utf8');
}
