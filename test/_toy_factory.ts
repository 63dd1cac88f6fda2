/** createSimAllocator over the toy allocator, for sweep workers in tests. */
import type { MachineSpecInput } from '../src/sim/scenario.ts';
import { parseSize } from '../src/sim/scenario.ts';
import { ToyAllocator } from './_toy_allocator.ts';

export function createSimAllocator(m: MachineSpecInput): ToyAllocator {
  return new ToyAllocator(parseSize(m.mem) / 4096, m.tunables['vm.min_free_kbytes'] ?? 4096);
}
