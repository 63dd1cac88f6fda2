/** `labyrinth start`: the main job on an embedded default (what `npm start` runs). */
import type { Command } from 'commander';
import { formatMode } from '../../gfp/format.ts';
import { resolveLayout } from '../../gfp/resolve.ts';
import { gfpToAllocFlags } from '../../gfp/alloc.ts';

/**
 * Masks from real "page allocation failure" reports (../shared/fixtures/reports), decoded for the kernel that
 * printed them — shown until the simulator takes over `start`.
 */
const REAL_MASKS: ReadonlyArray<{ kernel: string; mask: number; order: number; report: string }> = [
  { kernel: '2.6.31+frans2+mel-00002-g90702f9-dirty', mask: 0x8020, order: 5, report: '058' },
  { kernel: '4.9.24-coreos', mask: 0x2084120, order: 0, report: '049' },
  { kernel: '4.12.0-rc3-android-x86+', mask: 0x14210d2, order: 0, report: '053' },
  { kernel: '5.10.2', mask: 0x40dc0, order: 5, report: '010' },
  { kernel: '6.1.43-android14-11-abS921BXXU1AWLB', mask: 0xa20, order: 0, report: '029' },
  { kernel: '6.8.0-rc6-PMacG4', mask: 0x820, order: 0, report: '037' },
  { kernel: '6.19.0-rc5-00027-g40fd0acc45d0', mask: 0xc0c40, order: 0, report: '001' },
];

export function register(program: Command): void {
  program
    .command('start')
    .description('run the main job on the embedded default')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const decoded = REAL_MASKS.map((r) => {
        const { layout } = resolveLayout(r.kernel);
        const slow = gfpToAllocFlags(r.mask, { version: r.kernel, order: r.order, slowPath: true });
        return { report: r.report, kernel: r.kernel, layout: layout.name, order: r.order, mode: formatMode(r.mask, layout), slowPath: slow.depth };
      });
      const out = { name: 'labyrinth', commands: program.commands.map((c) => c.name()), realMasks: decoded };
      if (opts.json) {
        console.log(JSON.stringify(out));
        return;
      }
      const lines = [
        'Labyrinth — the Linux page allocator in TypeScript.',
        `Commands: ${out.commands.join(', ')}`,
        '',
        'GFP masks from real allocation-failure reports, decoded for the kernel that printed them:',
      ];
      for (const d of decoded) {
        lines.push(`  ${d.kernel.padEnd(40)} order:${d.order} mode:${d.mode}   slow path: ${d.slowPath}`);
      }
      lines.push('', 'Try: npx labyrinth gfp \'GFP_ATOMIC|__GFP_EXCL\'   or   npx labyrinth gfp 0x2084120 --kernel 4.9');
      console.log(lines.join('\n'));
    });
}
