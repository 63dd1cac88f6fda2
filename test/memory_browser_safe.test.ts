/**
 * The library core runs in browsers: nothing reachable from src/index.ts imports a Node built-in or
 * touches Node-only globals (process, Buffer, require), and the rest of src/ keeps Node to the files
 * that read files or spawn threads for the CLI and the simulator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');
const BUILTIN = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Node-only files outside src/cli: file readers and thread spawners of the CLI, simulator and trace replay. */
const NODE_ONLY = new Set([
  'src/sim/run.ts', 'src/sim/sweep.ts', 'src/sim/sweep_worker.ts',
  'src/trace/replay_run.ts', 'src/trace/trace_file.ts',
]);

function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g)) out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s+'([^']+)'/g)) out.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('library_core_reachable_from_index_uses_no_node_builtins', () => {
  const seen = new Set<string>();
  const todo = [path.join(SRC, 'index.ts')];
  const problems: string[] = [];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const rel = path.relative(ROOT, f);
    for (const s of specifiers(f)) {
      if (s.startsWith('.')) todo.push(path.resolve(path.dirname(f), s));
      else if (BUILTIN.has(s) || BUILTIN.has(s.split('/')[0]!)) problems.push(`${rel} imports ${s}`);
      else problems.push(`${rel} imports the package ${s} (the core has no runtime dependencies)`);
    }
    const code = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    if (/\bprocess\.|\bBuffer\.|\brequire\(/.test(code)) problems.push(`${rel} uses a Node-only global`);
  }
  assert.ok(seen.size > 20, 'the walk followed the imports');
  assert.ok([...seen].some((f) => f.endsWith(path.join('memory', 'memory_allocator.ts'))));
  assert.deepEqual(problems, []);
});

test('node_builtins_stay_in_the_cli_and_the_named_node_only_files', () => {
  const offenders = walk(SRC)
    .map((f) => path.relative(ROOT, f).split(path.sep).join('/'))
    .filter((rel) => !rel.startsWith('src/cli/') && !rel.endsWith('.test.ts') && !NODE_ONLY.has(rel))
    .filter((rel) => specifiers(path.join(ROOT, rel)).some((s) => BUILTIN.has(s) || BUILTIN.has(s.split('/')[0]!)));
  assert.deepEqual(offenders, []);
});
