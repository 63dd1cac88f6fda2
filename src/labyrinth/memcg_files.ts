/**
 * A labyrinth's files, in memory cgroup v2's own text: memory.current, memory.min, memory.low, memory.high,
 * memory.max, memory.peak, memory.events, memory.oom.group and a memory.stat subset (values in bytes, events
 * as counts, the kernel's line order).
 * @kernel mm/memcontrol.c memory_current_read, seq_puts_memcg_tunable, memory_{min,low,high,max}_write,
 *   __memory_events_show, memory_stat_format (6.1); mm/page_counter.c page_counter_memparse; lib/cmdline.c memparse
 */
import { PAGE_SIZE } from '../mm/constants.ts';
import { BadInputError } from '../errors.ts';
import { MEMCG_EVENT_NAMES, type Labyrinth } from './domain.ts';

export const MEMCG_FILES = [
  'memory.current', 'memory.min', 'memory.low', 'memory.high', 'memory.max', 'memory.peak', 'memory.events',
  'memory.oom.group', 'memory.stat',
] as const;
export type MemcgFile = typeof MEMCG_FILES[number];

/** seq_puts_memcg_tunable: "max" for PAGE_COUNTER_MAX, else bytes. */
function tunable(pages: number): string {
  return Number.isFinite(pages) ? `${pages * PAGE_SIZE}\n` : 'max\n';
}

/** The memory.stat lines Labyrinth keeps, in 6.1's memory_stats[] order, then the reclaim events. */
export function memoryStat(lab: Labyrinth): Array<[string, number]> {
  const b = (p: number): number => p * PAGE_SIZE;
  return [
    ['anon', 0],
    // page cache plus exclusive pages (memfd_secret pages live in their inode's page cache)
    ['file', b(lab.cachePages + lab.exclusivePages)],
    ['kernel', b(lab.kernelPages)],
    ['shmem', 0],
    ['inactive_anon', 0],
    ['active_anon', 0],
    ['inactive_file', b(lab.cachePages)],
    ['active_file', 0],
    // exclusive pages are unevictable (never on a reclaimable LRU)
    ['unevictable', b(lab.exclusivePages)],
    ['pgscan', lab.pgscan],
    ['pgsteal', lab.pgsteal],
  ];
}

/** Read one file, exactly as the kernel prints it. */
export function readMemcgFile(lab: Labyrinth, file: string): string {
  switch (file) {
    case 'memory.current': return `${lab.current * PAGE_SIZE}\n`;
    case 'memory.min': return tunable(lab.min);
    case 'memory.low': return tunable(lab.low);
    case 'memory.high': return tunable(lab.high);
    case 'memory.max': return tunable(lab.max);
    case 'memory.peak': return `${lab.peakPages * PAGE_SIZE}\n`;
    case 'memory.oom.group': return `${lab.oomGroup ? 1 : 0}\n`;
    case 'memory.events': {
      const ev = lab.eventCounts();
      return MEMCG_EVENT_NAMES.map((n) => `${n} ${ev[n]}\n`).join('');
    }
    case 'memory.stat': return memoryStat(lab).map(([n, v]) => `${n} ${v}\n`).join('');
    default: throw new BadInputError('MEMCG_NO_FILE', `Cannot read ${file}: because a labyrinth has ${MEMCG_FILES.join(', ')}`);
  }
}

/**
 * memparse: a number with an optional K/M/G/T/P/E suffix (powers of 1024, either case). Returns bytes.
 * @kernel lib/cmdline.c memparse
 */
export function memparse(text: string): number {
  const m = /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)([kmgtpe]?)$/i.exec(text);
  if (m === null) return NaN;
  const n = m[1]!.toLowerCase().startsWith('0x') ? parseInt(m[1]!.slice(2), 16) : m[1]!.length > 1 && m[1]![0] === '0' ? parseInt(m[1]!, 8) : parseInt(m[1]!, 10);
  const shift = ' kmgtpe'.indexOf((m[2] || ' ').toLowerCase()) * 10;
  return n * 2 ** shift;
}

/**
 * page_counter_memparse(buf, "max"): "max" is PAGE_COUNTER_MAX (Infinity), else bytes rounded down to pages.
 * @kernel mm/page_counter.c page_counter_memparse
 */
export function parseMemcgLimit(text: string): number {
  const s = text.trim();
  if (s === 'max') return Infinity;
  const bytes = memparse(s);
  if (!Number.isFinite(bytes)) throw new BadInputError('MEMCG_EINVAL', `Cannot parse "${text}": because a limit is "max" or bytes with an optional K/M/G/T/P/E suffix (-EINVAL)`);
  return Math.floor(bytes / PAGE_SIZE);
}

/** Write one file as `echo VALUE > memory.X` would. */
export function writeMemcgFile(lab: Labyrinth, file: string, value: string): void {
  switch (file) {
    case 'memory.min': lab.setMin(parseMemcgLimit(value)); return;
    case 'memory.low': lab.setLow(parseMemcgLimit(value)); return;
    case 'memory.high': lab.setHigh(parseMemcgLimit(value)); return;
    case 'memory.max': lab.setMax(parseMemcgLimit(value)); return;
    case 'memory.oom.group': {
      const v = value.trim();
      if (v !== '0' && v !== '1') throw new BadInputError('MEMCG_EINVAL', `Cannot write "${value}" to memory.oom.group: because it takes 0 or 1 (-EINVAL)`);
      lab.oomGroup = v === '1';
      return;
    }
    default: throw new BadInputError('MEMCG_NOT_WRITABLE', `Cannot write ${file}: because only memory.min, memory.low, memory.high, memory.max and memory.oom.group are writable`);
  }
}
