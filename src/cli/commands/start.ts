/** `labyrinth start`: the main job on an embedded default (what `npm start` runs). */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('start')
    .description('run the main job on the embedded default')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const out = { name: 'labyrinth', commands: program.commands.map((c) => c.name()) };
      if (opts.json) console.log(JSON.stringify(out));
      else console.log(`Labyrinth — the Linux page allocator in TypeScript.\nCommands: ${out.commands.join(', ')}`);
    });
}
