/** Paths to the read-only real-kernel fixtures in ../shared (never edited; our own fixtures live in test/fixtures). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** ../shared from /work/main; ../../shared from a helper worktree under /work/wt/<name>. */
export const SHARED = existsSync(path.resolve(ROOT, '..', 'shared')) ? path.resolve(ROOT, '..', 'shared') : path.resolve(ROOT, '..', '..', 'shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const QEMU = path.join(FIXTURES, 'linux-6.1-qemu');
