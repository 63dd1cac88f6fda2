/**
 * `labyrinth start`: the main job on the embedded default (what `npm start` runs): the default scenario on the
 * default machine (1 GiB, 2 CPUs, Debian 6.1 defaults), its summary on stdout and the HTML report in a file.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { runSimulateCommand } from './simulate.ts';
import { DEFAULT_SCENARIO } from '../../sim/scenarios.ts';

export const DEFAULT_REPORT_FILE = 'labyrinth-report.html';

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
      await runSimulateCommand(DEFAULT_SCENARIO, { seed: opts.seed, html: file, json: opts.json });
    });
}
