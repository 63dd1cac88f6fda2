/** `labyrinth fragmentation FILE`: the kernel's unusable-free and extfrag indices from buddyinfo, pagetypeinfo or a report. */
import type { Command } from 'commander';
import { fragmentationFromText } from '../../report/fragmentation.ts';
import { renderFragmentation } from '../../report/render.ts';
import { readInput } from './explain.ts';

export function register(program: Command): void {
  program
    .command('fragmentation')
    .description('unusable-free index and extfrag index per zone and order (debugfs extfrag/* formulas)')
    .argument('<file>', '/proc/buddyinfo, /proc/pagetypeinfo or a warn_alloc report ("-" for stdin)')
    .option('--kernel <version>', 'kernel release for the print format (default 6.1)')
    .option('--json', 'print JSON')
    .action((file: string, opts: { kernel?: string; json?: boolean }) => {
      const f = fragmentationFromText(readInput(file), opts.kernel === undefined ? {} : { kernel: opts.kernel });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({
          source: f.source,
          zones: f.zones.map((z) => ({ node: z.node, zone: z.zone, nrFree: z.nrFree, freePages: z.freePages, unusableIndex: z.unusable, extfragIndex: z.extfrag })),
          unusableIndex: f.unusableIndexText, extfragIndex: f.extfragIndexText, notes: f.notes,
        })}\n`);
        return;
      }
      process.stdout.write(`${renderFragmentation(f)}\n`);
    });
}
