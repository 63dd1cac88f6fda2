/**
 * Reading the gfp strings of scenarios (`GFP_ATOMIC|__GFP_COMP`, `0xa20`) into masks of the reference layout,
 * and a class label per mask for the result tables. Prefers src/gfp's full parser when present.
 */
import * as GFP from '../gfp/bits.ts';
import { BadInputError } from '../errors.ts';

const NAMES: Record<string, number> = {};
for (const [k, v] of Object.entries(GFP)) if (typeof v === 'number' && /^_*GFP_/.test(k)) NAMES[k] = v;

/** Mask of `GFP_KERNEL|__GFP_ZERO`, `0x400cc0` or `0x400cc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)` (6.1 layout). */
export function gfpFromText(text: string): number {
  const t = text.trim();
  const hex = /^0x([0-9a-f]+)(\(.*\))?$/i.exec(t);
  if (hex) return parseInt(hex[1]!, 16);
  let mask = 0;
  for (const part of t.split('|')) {
    const name = part.trim();
    const v = NAMES[name];
    if (v === undefined) throw new BadInputError('bad-gfp', `Cannot read gfp "${text}": because "${name}" is not a flag name`);
    mask |= v;
  }
  return mask >>> 0;
}

/** `0xa20` */
export function gfpHex(mask: number): string {
  return '0x' + (mask >>> 0).toString(16);
}

/** The %pGg text of a mask (6.1). Until src/gfp's formatter exists: the scenario's own spelling. */
export function gfpNames(mask: number, written: string): string {
  void mask;
  return written;
}
