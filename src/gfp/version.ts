/**
 * Kernel versions as users paste them, read in one place for every caller (GFP layouts, report replay, print
 * formats). Accepted, with or without surrounding white space:
 * - a release: `6.1`, `5.10.0-21-amd64`, `6.8.0-rc6-PMacG4`, `4.9.24-coreos`, `5.13.x`, `5.7.0-rc3+`,
 *   `2.6.31+frans2+mel-00002-g90702f9-dirty`, `6.18.0-next-20251203-b2c27842ba85`, `v6.1`;
 * - followed by the rest of a `uname -rv`/`uname -a` or `/proc/version` line:
 *   `6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)`;
 * - preceded by `Linux `, `Linux version ` (the boot line, optionally with its dmesg `[    0.000000] ` stamp),
 *   or `Linux HOSTNAME ` (`uname -a`).
 * The release is MAJOR.MINOR with an optional third number (or `x`), ended by the end of the text, white space
 * or one of `- + _ ~ . ( #`. Anything else (`banana`, `6`, `x.1`, `6.1abc`, `unknown`, `CentOS 7.6`) is a
 * BadInputError with code KERNEL_VERSION_SYNTAX.
 */
import { BadInputError } from '../errors.ts';

export interface KernelVersion {
  major: number;
  minor: number;
  /** Third number (the release of 2.6.x, or the stable patch level); 0 when absent or `x`. */
  patch: number;
  /** The release itself, up to the first white space: `6.1.0-56-amd64`. */
  release: string;
  /** What the user wrote, trimmed. */
  raw: string;
}

/** `[    0.000000] ` dmesg stamp, then `Linux version `, `Linux HOSTNAME ` or `Linux `, or `v`. */
const PREFIX_RE = /^(?:\[\s*\d+\.\d+\]\s*)?(?:linux\s+version\s+|linux\s+(?:[^\s\d][^\s]*\s+(?=\d))?|v(?=\d))?/i;
const RELEASE_RE = /^(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}|x))?(?=$|[-+_~.\s(#])\S*/i;

/** Parse a pasted kernel version; throws BadInputError (code KERNEL_VERSION_SYNTAX) when it has no `X.Y` release. */
export function parseKernelVersion(text: string): KernelVersion {
  const raw = text.trim();
  const prefix = PREFIX_RE.exec(raw)![0];
  const m = RELEASE_RE.exec(raw.slice(prefix.length));
  if (m === null) {
    throw new BadInputError('KERNEL_VERSION_SYNTAX',
      `Cannot read kernel version "${raw}": because it does not start with a release MAJOR.MINOR (e.g. 6.1, 5.10.0-21-amd64, Linux version 6.1.0-56-amd64)`);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined || m[3].toLowerCase() === 'x' ? 0 : Number(m[3]);
  return { major, minor, patch, release: m[0], raw };
}

/** v ≥ major.minor */
export function atLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
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
