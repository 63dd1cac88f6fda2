/** `labyrinth gfp MASK [--kernel V] [--order N] [--context C] [--json]`: decode and check a GFP mask. */
import type { Command } from 'commander';
import { BadInputError } from '../../errors.ts';
import { explainGfp, type GfpExplanation } from '../../gfp/explain.ts';
import { allLayouts } from '../../gfp/layouts.ts';
import { formatMode, parseGfp } from '../../gfp/format.ts';
import type { GfpContext } from '../../gfp/alloc.ts';

const CONTEXTS: readonly GfpContext[] = ['process', 'softirq', 'hardirq', 'atomic'];

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

/** The text report: the kernel's string, then the bits with their meaning, then what the mask does. */
export function renderGfpText(e: GfpExplanation): string {
  const lines: string[] = [];
  const given = e.version === null ? 'default: newest layout' : `kernel ${e.version}`;
  lines.push(`${e.mode}    [${e.kernel}; ${given}]`);
  if (!e.reportNames) lines.push(`  (reports of this kernel print no names; its tracepoints print: ${e.trace})`);
  lines.push('');
  if (e.bits.length === 0) lines.push('  (no bits set)');
  const w = Math.max(4, ...e.bits.map((b) => b.name.length));
  for (const b of e.bits) {
    lines.push(`  ${b.mask.padStart(10)}  ${b.name.padEnd(w)}  ${b.meaning}${b.extension ? '  [extension]' : ''}`);
  }
  lines.push('');
  const row = (k: string, v: string): void => { lines.push(`  ${k.padEnd(16)} ${v}`); };
  row('zone', e.zone);
  row('migratetype', e.migratetype);
  row('may sleep', yesNo(e.mayBlock));
  row('wakes kswapd', yesNo(e.wakesKswapd));
  row('may start I/O', yesNo(e.mayStartIo));
  row('may enter FS', yesNo(e.mayEnterFs));
  row('uses reserves', e.reserves);
  row('fast path', `${e.fastPath.allocFlags.join('|')} (${e.fastPath.depth})`);
  row('slow path', `${e.slowPath.allocFlags.join('|')} (${e.slowPath.depth})`
    + (e.slowPath.beforeEscalation ? ` after escalation from ${e.slowPath.beforeEscalation.join('|')}` : ''));
  if (e.extension.length > 0) row('extension', e.extension.map((x) => `${x.name}: ${x.note}`).join('; '));
  lines.push('');
  if (e.problems.length === 0) lines.push('problems: none');
  else {
    lines.push('problems:');
    for (const p of e.problems) lines.push(`  ${p.severity.padEnd(7)} ${p.code}: ${p.message}`);
  }
  return lines.join('\n');
}

/**
 * The mask as each layout prints it. Hex input is taken as is; names are read with the layout of `--kernel`
 * (default: newest). `matches` marks layouts whose text equals what was given as `0x…(names)`.
 */
export function compareLayouts(text: string, kernel?: string): Array<{ layout: string; kernel: string; mode: string; matches: boolean }> {
  const mask = parseGfp(text, kernel);
  const given = /0x[0-9a-f]+\([^)]*\)/i.exec(text)?.[0] ?? null;
  return allLayouts().map((l) => {
    const mode = formatMode(mask, l);
    return { layout: l.id, kernel: l.name, mode, matches: given !== null && mode.toLowerCase() === given.toLowerCase() };
  });
}

export function register(program: Command): void {
  program
    .command('gfp')
    .description('decode a GFP mask exactly as a kernel version prints it, and check it')
    .argument('<mask>', 'hex (0x400cc0), names (GFP_KERNEL|__GFP_ZERO), both (0x400cc0(GFP_KERNEL_ACCOUNT)), or a whole report line')
    .option('--kernel <version>', 'kernel version as pasted (6.1, 5.10.0-21-amd64, 4.9.24-coreos); default: newest layout')
    .option('--order <n>', 'allocation order, for the checks (default: order:N of a pasted report line, else 0)')
    .option('--context <ctx>', `caller context: ${CONTEXTS.join(', ')}`, 'process')
    .option('--compare', 'print how every kernel layout prints the mask (for reports of unknown version)')
    .option('--json', 'print JSON')
    .action((mask: string, opts: { kernel?: string; order?: string; context: string; compare?: boolean; json?: boolean }) => {
      if (opts.compare) {
        const rows = compareLayouts(mask, opts.kernel);
        if (opts.json) console.log(JSON.stringify({ layouts: rows }));
        else for (const r of rows) console.log(`${r.layout.padEnd(6)} ${r.kernel.padEnd(24)} ${r.mode}${r.matches ? '   <- as given' : ''}`);
        return;
      }
      const order = opts.order ?? /\border:(\d+)/.exec(mask)?.[1] ?? '0';
      if (!/^\d+$/.test(order)) throw new BadInputError('ORDER_SYNTAX', `Cannot use order "${order}": because it is not a non-negative integer`);
      if (!CONTEXTS.includes(opts.context as GfpContext)) {
        throw new BadInputError('CONTEXT_UNKNOWN', `Cannot use context "${opts.context}": because it is not one of ${CONTEXTS.join(', ')}`);
      }
      const e = explainGfp(mask, { kernel: opts.kernel, order: Number(order), context: opts.context as GfpContext });
      if (e.warning !== undefined) process.stderr.write(`labyrinth: warning: ${e.warning}\n`);
      if (opts.json) console.log(JSON.stringify(e));
      else console.log(renderGfpText(e));
      if (e.problems.some((p) => p.severity === 'error')) process.exitCode = 1;
    });
}
