/** Paths to the read-only real-kernel fixtures in ../shared (never edited; our own fixtures live in test/fixtures). */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** ../shared next to the checkout, or next to an ancestor (worktrees live one level deeper), or $LABYRINTH_SHARED. */
function findShared(): string {
  if (process.env.LABYRINTH_SHARED) return path.resolve(process.env.LABYRINTH_SHARED);
  for (let dir = ROOT; ; dir = path.dirname(dir)) {
    const cand = path.join(path.dirname(dir), 'shared');
    if (fs.existsSync(path.join(cand, 'fixtures'))) return cand;
    if (path.dirname(dir) === dir) return path.resolve(ROOT, '..', 'shared');
  }
}

export const SHARED = findShared();
export const FIXTURES = path.join(SHARED, 'fixtures');
export const QEMU = path.join(FIXTURES, 'linux-6.1-qemu');
