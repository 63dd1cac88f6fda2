/**
 * The command registry: each command lives in its own file and exports `register(program)`.
 * Add one import and one entry per command; main.ts wires them in this order.
 */
import type { Command } from 'commander';
import { register as start } from './start.ts';
import { register as gfp } from './gfp.ts';
import { register as simulate } from './simulate.ts';
import { register as proc } from './proc.ts';
import { register as explain } from './explain.ts';
import { register as fragmentation } from './fragmentation.ts';
import { register as replay } from './replay.ts';
import { register as labyrinth } from './labyrinth.ts';

export const COMMANDS: ReadonlyArray<(program: Command) => void> = [
  start,
  gfp,
  simulate,
  proc,
  explain,
  fragmentation,
  replay,
  labyrinth,
];
