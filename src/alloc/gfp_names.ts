/**
 * %pGg text of a mask as the reference kernel (6.1) prints it, for the reports this layer prints.
 * @kernel lib/vsprintf.c format_flags with include/trace/events/mmflags.h (6.1), via src/gfp/format.ts
 */
import { formatGfp } from '../gfp/format.ts';

export function formatGfp61(mask: number): string {
  return formatGfp(mask >>> 0, '6.1');
}
