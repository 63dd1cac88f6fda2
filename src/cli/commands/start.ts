/**
 * `labyrinth start`: the main job on the embedded default (what `npm start` runs): the default scenario on the
 * default machine (1 GiB, 2 CPUs, Debian 6.1 defaults), its summary on stdout and the HTML report in a file.
 * Until the core allocator lands it decodes real GFP masks from the fixtures instead.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { runSimulateCommand } from './simulate.ts';
import { DEFAULT_SCENARIO } from '../../sim/scenarios.ts';
import { loadCore } from '../../sim/machine.ts';
import { LabyrinthError } from '../../errors.ts';
import { formatMode } from '../../gfp/format.ts';
import { resolveLayout } from '../../gfp/resolve.ts';
import { gfpToAllocFlags } from '../../gfp/alloc.ts';

export const DEFAULT_REPORT_FILE = 'labyrinth-report.html';

/** Masks from real "page allocation failure" reports (../shared/fixtures/reports), with the kernel that printed them. */
const REAL_MASKS: ReadonlyArray<{ kernel: string; mask: number; order: number; report: string }> = [
  { kernel: '2.6.31+frans2+mel-00002-g90702f9-dirty', mask: 0x8020, order: 5, report: '058' },
  { kernel: '4.9.24-coreos', mask: 0x2084120, order: 0, report: '049' },
  { kernel: '4.12.0-rc3-android-x86+', mask: 0x14210d2, order: 0, report: '053' },
  { kernel: '5.10.2', mask: 0x40dc0, order: 5, report: '010' },
  { kernel: '6.1.43-android14-11-abS921BXXU1AWLB', mask: 0xa20, order: 0, report: '029' },
  { kernel: '6.8.0-rc6-PMacG4', mask: 0x820, order: 0, report: '037' },
  { kernel: '6.19.0-rc5-00027-g40fd0acc45d0', mask: 0xc0c40, order: 0, report: '001' },
];

/** Each real mask decoded for its own kernel: warn_alloc's mode text and how deep its slow path may dig. */
export function decodeRealMasks(): Array<{ report: string; kernel: string; layout: string; order: number; mode: string; slowPath: string }> {
  return REAL_MASKS.map((r) => {
    const { layout } = resolveLayout(r.kernel);
    const slow = gfpToAllocFlags(r.mask, { version: r.kernel, order: r.order, slowPath: true });
    return { report: r.report, kernel: r.kernel, layout: layout.name, order: r.order, mode: formatMode(r.mask, layout), slowPath: slow.depth };
  });
}

function realMasksText(): string {
  const lines = ['GFP masks from real allocation-failure reports, decoded for the kernel that printed them:'];
  for (const d of decodeRealMasks()) lines.push(`  ${d.kernel.padEnd(40)} order:${d.order} mode:${d.mode}   slow path: ${d.slowPath}`);
  lines.push('Try: npx labyrinth gfp \'GFP_ATOMIC|__GFP_EXCL\'   or   npx labyrinth gfp 0x2084120 --kernel 4.9');
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('start')
    .description(`run the main job on the embedded default: simulate ${DEFAULT_SCENARIO} and write ${DEFAULT_REPORT_FILE}`)
    .option('--html <file>', 'where to write the HTML report', DEFAULT_REPORT_FILE)
    .option('--seed <n>', 'random seed', '1')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { html: string; seed: string; json?: boolean }) => {
      const file = path.resolve(opts.html);
      if (!opts.json) {
        process.stdout.write(`Labyrinth — the Linux page allocator in TypeScript. Commands: ${program.commands.map((c) => c.name()).join(', ')}\n\n`);
      }
      try {
        await loadCore();
      } catch (e) {
        if (!(e instanceof LabyrinthError)) throw e;
        // Until the core allocator lands there is nothing to simulate on: say so, show what exists, and succeed.
        if (opts.json) process.stdout.write(JSON.stringify({ name: 'labyrinth', commands: program.commands.map((c) => c.name()), simulation: null, reason: e.message, realMasks: decodeRealMasks() }) + '\n');
        else process.stdout.write(`${e.message}\n\n${realMasksText()}\nTry: npx labyrinth simulate --help\n`);
        return;
      }
      await runSimulateCommand(DEFAULT_SCENARIO, { seed: opts.seed, html: file, json: opts.json });
    });
}
