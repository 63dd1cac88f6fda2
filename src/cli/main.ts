/** CLI entry: `npx labyrinth <command>`; each command has --help and --json. */
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.ts';
import { LabyrinthError } from '../errors.ts';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('labyrinth')
    .description('The Linux page allocator, rebuilt in TypeScript: allocator, simulator, kernel diagnostics.')
    .version('0.1.0')
    .showHelpAfterError();
  for (const reg of COMMANDS) reg(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof LabyrinthError) {
      process.stderr.write(`labyrinth: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

const isEntry = process.argv[1] !== undefined && /(?:main\.ts|labyrinth(?:\.mjs)?)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
