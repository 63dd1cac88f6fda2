/**
 * Kernel version strings as users paste them: `6.1`, `5.10.0-21-amd64`, `6.8.0-rc6-PMacG4`,
 * `4.9.24-coreos`, `2.6.31+frans2+mel-00002-g90702f9-dirty`, `5.13.x`, `Linux 6.19.0-rc5-00027-g40fd0acc45d0`.
 */
import { BadInputError } from '../errors.ts';

export interface KernelVersion {
  major: number;
  minor: number;
  /** Third number (the release of 2.6.x, or the stable patch level); 0 when absent or `x`. */
  patch: number;
  /** What the user wrote, trimmed. */
  raw: string;
}

const VERSION_RE = /^(?:linux\s+|v)?(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}|x))?(?:$|[-+_~.\s(])/i;

/** Parse a pasted kernel version; throws BadInputError (code KERNEL_VERSION_SYNTAX) when it has no `X.Y` start. */
export function parseKernelVersion(text: string): KernelVersion {
  const raw = text.trim();
  const m = VERSION_RE.exec(raw);
  if (m === null) {
    throw new BadInputError('KERNEL_VERSION_SYNTAX',
      `Cannot read kernel version "${raw}": because it does not start with MAJOR.MINOR (e.g. 6.1, 5.10.0-21-amd64)`);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined || m[3].toLowerCase() === 'x' ? 0 : Number(m[3]);
  return { major, minor, patch, raw };
}

/** Orders versions; 2.6.x is distinguished by its third number. */
export function compareVersion(a: readonly [number, number, number?], b: readonly [number, number, number?]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  if (a[1] !== b[1]) return a[1] - b[1];
  return (a[2] ?? 0) - (b[2] ?? 0);
}

export function versionTuple(v: KernelVersion): [number, number, number] {
  return [v.major, v.minor, v.patch];
}
