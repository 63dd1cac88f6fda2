/**
 * Shared helpers of the /proc readers and writers: line splitting that tolerates CRLF, trailing blanks and
 * stray bytes, integer parsing that refuses anything but digits, and the typed error they throw.
 */
import { BadInputError } from '../errors.ts';

/** One input line: its 1-based number and its text without the line ending and trailing blanks. */
export interface Line {
  no: number;
  text: string;
}

/** Split text into lines (LF, CRLF or CR), dropping trailing whitespace; blank lines are kept as ''. */
export function splitLines(text: string): Line[] {
  if (typeof text !== 'string') throw new BadInputError('PROC_NOT_TEXT', 'Cannot parse: the input is not text');
  const raw = text.split(/\r\n|\r|\n/);
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((t, i) => ({ no: i + 1, text: t.replace(/[\s\u0000]+$/u, '') }));
}

/** A non-negative decimal integer that fits a double exactly, else a typed error naming the line. */
export function parseUInt(s: string, line: number, what: string): number {
  if (!/^\d+$/.test(s)) throw new BadInputError('PROC_BAD_NUMBER', `Cannot parse ${what}: "${s}" is not a number`, line);
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new BadInputError('PROC_BAD_NUMBER', `Cannot parse ${what}: ${s} is too large`, line);
  return v;
}

/** A signed decimal integer (protection values and pcp counts are signed in the kernel). */
export function parseInt10(s: string, line: number, what: string): number {
  if (!/^-?\d+$/.test(s)) throw new BadInputError('PROC_BAD_NUMBER', `Cannot parse ${what}: "${s}" is not a number`, line);
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new BadInputError('PROC_BAD_NUMBER', `Cannot parse ${what}: ${s} is too large`, line);
  return v;
}

/** "%Ns": right-align in N columns (longer strings are not cut). */
export function padLeft(s: string | number, n: number): string {
  return String(s).padStart(n, ' ');
}

/** "%-Ns": left-align in N columns. */
export function padRight(s: string | number, n: number): string {
  return String(s).padEnd(n, ' ');
}
