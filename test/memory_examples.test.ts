/** The runnable examples of docs/memory.md run and print what the docs say they print. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
function run(file: string): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join('examples', file)], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('example_memory_quickstart', () => {
  const out = run('memory_quickstart.ts').split('\n');
  assert.match(out[0]!, /^page at 0x[0-9a-f]+: first byte 42$/);
  assert.match(out[1]!, /^order-2 block at 0x[0-9a-f]+: 2048 doubles, f\[1\] = 3\.14159$/);
  assert.match(out[2]!, /^PAST_ALLOCATION: Cannot access 16385 bytes at 0x[0-9a-f]+: because the allocation at 0x[0-9a-f]+ ends at 0x[0-9a-f]+$/);
  assert.match(out[3]!, /^NOT_ALLOCATED: .* because the page is free/);
  assert.equal(out[4], 'verify: ok');
});

test('example_memory_workers', () => {
  const out = run('memory_workers.ts').trim().split('\n');
  assert.equal(out.length, 3);
  assert.match(out[0]!, /^worker 1 on CPU [12]: 1000 pages, all still its own: true$/);
  assert.match(out[1]!, /^worker 2 on CPU [12]: 1000 pages, all still its own: true$/);
  assert.notEqual(out[0]!.match(/CPU (\d)/)![1], out[1]!.match(/CPU (\d)/)![1]);
  assert.equal(out[2], 'verify: ok');
});

test('example_memory_poison', () => {
  const out = run('memory_poison.ts').trim().split('\n');
  assert.equal(out[0], 'pagealloc: memory corruption');
  assert.match(out[1]!, /^[0-9a-f]{16}: 4c {47}L$/);
  assert.match(out[2]!, /^page:\(____ptrval____\) refcount:1 mapcount:0 mapping:0{16} index:0x0 pfn:0x[0-9a-f]+$/);
  assert.equal(out[4], 'page dumped because: pagealloc: corrupted page details');
  assert.equal(out[5], 'reallocated the same page: true; corruptions found: 1');
});
