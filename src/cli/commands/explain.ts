/** `labyrinth explain FILE|-`: why each "page allocation failure" in the input failed, and what to change. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BadInputError } from '../../errors.ts';
import { explainAll } from '../../report/explain.ts';
import { parseReports } from '../../report/parse.ts';
import { renderExplanation } from '../../report/render.ts';

/** Read FILE or stdin ('-') as text; unreadable input is a BadInputError. */
export function readInput(file: string): string {
  try {
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (e) {
    throw new BadInputError('unreadable-input', `Cannot read ${file === '-' ? 'stdin' : file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command('explain')
    .description('explain real "page allocation failure" reports: replay the watermark decision, give a verdict and remedies')
    .argument('<file>', 'dmesg, syslog or a pasted report ("-" for stdin)')
    .option('--kernel <version>', 'kernel release whose rules to apply (default: from the report\'s CPU line)')
    .option('--json', 'print JSON')
    .action((file: string, opts: { kernel?: string; json?: boolean }) => {
      const text = readInput(file);
      const reps = parseReports(text);
      const exps = explainAll(reps, opts.kernel === undefined ? {} : { kernel: opts.kernel });
      if (opts.json) {
        const reports = exps.map((e) => ({
          kernel: e.kernel, comm: e.comm, order: e.order, mode: e.mode, modeNames: e.modeNames,
          zones: e.zones, verdict: e.verdict, remedies: e.remedies,
          kernelSource: e.kernelSource, rules: e.rules, context: e.context, mayBlock: e.mayBlock,
          allocFlags: `0x${e.allocFlags.toString(16)}`, allocFlagNames: e.allocFlagNames, watermarkFraction: e.watermarkFraction,
          highestZone: e.highestZone, notes: e.notes, line: e.startLine,
        }));
        process.stdout.write(`${JSON.stringify({ reports })}\n`);
        return;
      }
      process.stdout.write(`${exps.map((e, i) => renderExplanation(e, i, exps.length)).join('\n\n')}\n`);
    });
}

