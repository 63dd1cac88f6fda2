/**
 * `labyrinth labyrinth [--mem SIZE] [--max SIZE] [--high SIZE] [--min SIZE] [--kernel-pages N] [--cache-pages N]
 * [--exclusive N] [--json]`: a labyrinth (a Labyrinth extension, docs/labyrinths.md) on a fresh machine — one task
 * charges accounted kernel pages, page cache and exclusive pages — then its memcg files, and every way of reaching
 * an exclusive page without its key, each with the error it gets.
 */
import type { Command } from 'commander';
import { BadInputError, ExclusivePageError } from '../../errors.ts';
import { createPageAllocator } from '../../alloc/allocator.ts';
import { Labyrinths } from '../../labyrinth/domain.ts';
import { ExclusiveKey } from '../../labyrinth/exclusive.ts';
import { ArrayBufferPageBytes } from '../../labyrinth/page_bytes.ts';
import { MEMCG_FILES, parseMemcgLimit, readMemcgFile } from '../../labyrinth/memcg_files.ts';
import { GFP_KERNEL, GFP_KERNEL_ACCOUNT, GFP_ATOMIC, __GFP_EXCL } from '../../gfp/bits.ts';
import { PAGE_SIZE } from '../../mm/constants.ts';

interface Opts { mem: string; max: string; high: string; min: string; kernelPages: string; cachePages: string; exclusive: string; json?: boolean }

function count(name: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new BadInputError('COUNT_SYNTAX', `Cannot use --${name} "${v}": because it is not a whole number`);
  return Number(v);
}

function limit(name: string, v: string): number {
  try {
    return parseMemcgLimit(v);
  } catch {
    throw new BadInputError('LIMIT_SYNTAX', `Cannot use --${name} "${v}": because a limit is "max" or bytes with an optional K/M/G suffix`);
  }
}

export interface LabyrinthDemo {
  extension: true;
  labyrinth: string;
  files: Record<string, string>;
  refusals: Array<{ attempt: string; code: string }>;
  wipedAfterFree: boolean;
  oom: string[];
}

export function runDemo(o: Opts): LabyrinthDemo {
  const kernelPages = count('kernel-pages', o.kernelPages);
  const cachePages = count('cache-pages', o.cachePages);
  const exclusive = count('exclusive', o.exclusive);
  const limits = { max: limit('max', o.max), high: limit('high', o.high), min: limit('min', o.min) };
  let a;
  try {
    a = createPageAllocator({ mem: o.mem }).kernel;
  } catch (e) {
    throw new BadInputError('MEM_SYNTAX', `Cannot build a machine of "${o.mem}": because ${(e as Error).message}`);
  }
  if (a.mm.nrPfn > (1 << 20)) throw new BadInputError('MEM_TOO_BIG', `Cannot back "${o.mem}" with real bytes here: because the demo keeps exclusive pages in an ArrayBuffer (≤ 4G)`);
  const bytes = new ArrayBufferPageBytes(a.mm.nrPfn);
  const labs = new Labyrinths(a, { bytes });
  const lab = labs.create('demo', limits);
  const other = labs.create('other').spawn('intruder');
  const t = lab.spawn('worker');
  for (let i = 0; i < kernelPages && t.alive; i++) t.allocPages(GFP_KERNEL_ACCOUNT, 0);
  for (let i = 0; i < cachePages && t.alive; i++) t.allocCache(GFP_KERNEL);
  const keys: ExclusiveKey[] = [];
  for (let i = 0; i < exclusive && t.alive; i++) {
    const k = t.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0);
    if (k instanceof ExclusiveKey) keys.push(k);
  }
  const files: Record<string, string> = {};
  for (const f of MEMCG_FILES) files[f] = readMemcgFile(lab, f);
  const refusals: Array<{ attempt: string; code: string }> = [];
  let wipedAfterFree = false;
  if (keys.length > 0 && t.alive) {
    const k = keys[0]!;
    t.write(k, 0, new TextEncoder().encode('secret'));
    const { pfn } = t.info(k);
    const attempt = (what: string, fn: () => unknown): void => {
      try {
        fn();
        refusals.push({ attempt: what, code: 'NOT REFUSED' });
      } catch (e) {
        refusals.push({ attempt: what, code: (e as ExclusivePageError).code });
      }
    };
    attempt(`page_address(0x${pfn.toString(16)})`, () => a.page_address(pfn));
    const addr = a.pageOffset + pfn * PAGE_SIZE;
    attempt(`virt_to_page(0x${addr.toString(16)})`, () => a.virt_to_page(addr));
    attempt('get_page', () => a.get_page(pfn));
    attempt('split_page', () => a.split_page(pfn, 0));
    attempt('__free_pages without the key', () => a.__free_pages(pfn, 0));
    attempt('read by another labyrinth', () => other.read(k, 0, 6));
    attempt('read with a forged key', () => t.read(Object.create(ExclusiveKey.prototype) as ExclusiveKey, 0, 6));
    const moved = t.transfer(k, t);
    attempt('read with the key revoked by a transfer', () => t.read(k, 0, 6));
    t.freeExclusive(moved);
    attempt('read after free', () => t.read(moved, 0, 6));
    wipedAfterFree = bytes.physRead(pfn * PAGE_SIZE, PAGE_SIZE).every((b) => b === 0);
  }
  labs.verify();
  return { extension: true, labyrinth: 'demo', files, refusals, wipedAfterFree, oom: labs.oomReports.flatMap((r) => r.lines) };
}

export function register(program: Command): void {
  program
    .command('labyrinth')
    .description('Labyrinth extension: a labyrinth (memcg v2 domain) with accounted, cached and exclusive pages — its memory.* files and the key checks')
    .option('--mem <size>', 'RAM of the machine', '64M')
    .option('--max <size>', 'memory.max ("max" or bytes with K/M/G)', 'max')
    .option('--high <size>', 'memory.high', 'max')
    .option('--min <size>', 'memory.min', '0')
    .option('--kernel-pages <n>', 'GFP_KERNEL_ACCOUNT order-0 pages the task allocates', '64')
    .option('--cache-pages <n>', 'page-cache pages the task allocates', '64')
    .option('--exclusive <n>', 'GFP_ATOMIC|__GFP_EXCL pages the task allocates', '4')
    .option('--json', 'print JSON')
    .action((opts: Opts) => {
      const d = runDemo(opts);
      if (opts.json) {
        console.log(JSON.stringify(d));
        return;
      }
      const out: string[] = ['labyrinth /demo  (Labyrinth extension: a memory cgroup v2 with a secure owner)', ''];
      for (const [f, text] of Object.entries(d.files)) {
        const lines = text.trimEnd().split('\n');
        if (lines.length === 1) out.push(`${f.padEnd(18)} ${lines[0]}`);
        else { out.push(`${f}:`); for (const l of lines) out.push(`  ${l}`); }
      }
      out.push('', 'exclusive page without its key:');
      for (const r of d.refusals) out.push(`  ${r.attempt.padEnd(42)} ${r.code}`);
      if (d.refusals.length > 0) out.push(`  ${'memory after free'.padEnd(42)} ${d.wipedAfterFree ? 'zeros' : 'NOT WIPED'}`);
      if (d.oom.length > 0) out.push('', 'OOM inside the labyrinth:', ...d.oom.map((l) => `  ${l}`));
      console.log(out.join('\n'));
    });
}
