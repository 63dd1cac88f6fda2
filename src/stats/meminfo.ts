/**
 * /proc/meminfo: "Name:   value kB" lines.
 * @kernel fs/proc/meminfo.c meminfo_proc_show, show_val_kb (6.1)
 */
import { BadInputError } from '../errors.ts';
import { padLeft, parseUInt, splitLines } from './_text.ts';

export interface MeminfoEntry {
  /** the label without its colon: MemTotal, Active(anon), HugePages_Total … */
  name: string;
  value: number;
  /** 'kB' for sizes; absent for counts (HugePages_*) */
  unit?: 'kB';
}

export interface Meminfo {
  entries: MeminfoEntry[];
}

/**
 * Print as the kernel: the label padded to 16 columns and the value right-aligned to end at column 24
 * (longer labels keep one space before a value right-aligned to the same column; longer values overflow).
 */
export function renderMeminfo(m: Meminfo): string {
  let out = '';
  for (const e of m.entries) {
    const label = `${e.name}:`.padEnd(16, ' ');
    const v = String(e.value);
    const width = Math.max(24 - label.length, label.length > 16 ? v.length + 1 : 0);
    out += `${label}${padLeft(v, width)}${e.unit === 'kB' ? ' kB' : ''}\n`;
  }
  return out;
}

/** Read /proc/meminfo (or a node's meminfo with its "Node N " prefix stripped by the caller). */
export function parseMeminfo(text: string): Meminfo {
  const entries: MeminfoEntry[] = [];
  for (const { no, text: t } of splitLines(text)) {
    const s = t.trim();
    if (s === '') continue;
    const m = /^([A-Za-z_][\w()]*):\s*(\S+)(?:\s+(kB))?$/.exec(s);
    if (!m) throw new BadInputError('MEMINFO_BAD_LINE', `Cannot parse meminfo: expected "Name: value [kB]", got "${s.slice(0, 60)}"`, no);
    const e: MeminfoEntry = { name: m[1]!, value: parseUInt(m[2]!, no, m[1]!) };
    if (m[3] === 'kB') e.unit = 'kB';
    entries.push(e);
  }
  if (entries.length === 0) throw new BadInputError('MEMINFO_EMPTY', 'Cannot parse meminfo: no entries found');
  return { entries };
}

/** Value of one entry (kB for sizes), or undefined. */
export function meminfoGet(m: Meminfo, name: string): number | undefined {
  return m.entries.find((e) => e.name === name)?.value;
}
