/** Paths to the read-only real-kernel fixtures in ../shared (never edited; our own fixtures live in test/fixtures). */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const QEMU = path.join(FIXTURES, 'linux-6.1-qemu');
