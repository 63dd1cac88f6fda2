/**
 * Kernel releases as people paste them (`6.1.0-56-amd64`, `5.13.x`, `2.6.31+frans2+…`, `6.8.0-rc6-PMacG4`)
 * reduced to the numbers that select a generation of the allocator's rules.
 */
import { BadInputError } from '../errors.ts';

export interface KernelVersion {
  /** As given. */
  text: string;
  major: number;
  minor: number;
  patch: number;
}

export function parseKernelVersion(text: string): KernelVersion {
  const m = /^\s*v?(\d+)\.(\d+)(?:\.(\d+|x))?/.exec(text);
  if (m === null) throw new BadInputError('bad-kernel-version', `Cannot read kernel version "${text}": expected MAJOR.MINOR[.PATCH][-suffix]`);
  const major = Number(m[1]), minor = Number(m[2]);
  const patch = m[3] === undefined || m[3] === 'x' ? 0 : Number(m[3]);
  if (major < 2 || major > 99 || minor > 999) throw new BadInputError('bad-kernel-version', `Cannot read kernel version "${text}": ${major}.${minor} is not a Linux release`);
  return { text: text.trim(), major, minor, patch };
}

/** v ≥ major.minor */
export function atLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}
