/**
 * Builds the allocator a simulation runs on, from a scenario's machine (size, CPUs, kernel, vm tunables),
 * through the core allocator (issue 3) behind the SimAllocator seam.
 */
import { LabyrinthError } from '../errors.ts';
import type { SimAllocator } from './machinery.ts';
import type { MachineSpecInput } from './scenario.ts';

export function createSimAllocator(machine: MachineSpecInput): SimAllocator {
  void machine;
  throw new LabyrinthError('no-core-allocator', 'Cannot simulate: because the core allocator (issue 3) has not landed yet');
}
