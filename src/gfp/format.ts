/**
 * GFP masks as the kernel prints them, and back.
 * @kernel lib/vsprintf.c format_flags (%pGg), kernel/trace/trace_output.c trace_print_flags_seq (show_gfp_flags)
 */
import { BadInputError } from '../errors.ts';
import { everyFlagName, GFP_EXCL_BIT, GFP_EXCL_NAME, type GfpLayout, type GfpName } from './layouts.ts';
import { resolveLayout } from './resolve.ts';

function layoutOf(v: string | GfpLayout | undefined): GfpLayout {
  return typeof v === 'object' ? v : resolveLayout(v).layout;
}

/**
 * Walk the ordered table while bits remain: print every entry whose bits are all still set (an entry
 * whose mask is 0 always matches), clear them, then print what is left as lowercase hex.
 */
function formatWith(mask: number, table: readonly GfpName[]): string {
  // The extension bit is kept out of the kernel's walk (so 0-mask entries behave as for the kernel's own
  // bits), then printed by its name before any hex leftover.
  const excl = (mask & GFP_EXCL_BIT) !== 0;
  let remaining = (mask & ~GFP_EXCL_BIT) >>> 0;
  let out = '';
  for (let i = 0; i < table.length && remaining !== 0; i++) {
    const e = table[i]!;
    if (e.mask === GFP_EXCL_BIT) continue;
    if (((remaining & e.mask) >>> 0) !== e.mask) continue;
    out += out === '' ? e.name : `|${e.name}`;
    remaining = (remaining & ~e.mask) >>> 0;
  }
  if (excl) out += out === '' ? GFP_EXCL_NAME : `|${GFP_EXCL_NAME}`;
  if (remaining !== 0) out += `${out === '' ? '' : '|'}0x${remaining.toString(16)}`;
  return out;
}

/**
 * Exactly what `%pGg` prints for `mask` in that kernel version (the text inside `mode:0x…(…)`):
 * composites first, leftover bits as lowercase hex, the empty string for 0.
 * Kernels ≤4.5 printed no names in reports; for them this gives the tracepoint names (see `layout.reportNames`).
 *
 * @example formatGfp(0x400dc0, '6.1') // 'GFP_KERNEL_ACCOUNT|__GFP_ZERO'
 */
export function formatGfp(mask: number, version?: string | GfpLayout): string {
  const l = layoutOf(version);
  return memo(l.table, mask);
}

/** Masks repeat: remember the text per (table, mask), a bounded number of them. */
const memos = new WeakMap<readonly GfpName[], Map<number, string>>();
function memo(table: readonly GfpName[], mask: number): string {
  let m = memos.get(table);
  if (m === undefined) {
    m = new Map();
    memos.set(table, m);
  }
  const key = mask >>> 0;
  let text = m.get(key);
  if (text === undefined) {
    text = formatWith(key, table);
    if (m.size >= 4096) m.clear();
    m.set(key, text);
  }
  return text;
}

/**
 * What the tracepoints print with show_gfp_flags(): like `%pGg` but `none` for 0 (`GFP_NOWAIT` before 4.4),
 * and with the config-dependent extra names of that version.
 *
 * @example showGfpFlags(0, '6.1') // 'none'
 */
export function showGfpFlags(mask: number, version?: string | GfpLayout): string {
  const l = layoutOf(version);
  if ((mask >>> 0) === 0) return l.traceZero;
  return memo(l.traceTable, mask);
}

/** The kernel's `mode:%#x(%pGg)` text, as warn_alloc prints it (`0x0()` for 0; no names before 4.6). */
export function formatMode(mask: number, version?: string | GfpLayout): string {
  const l = layoutOf(version);
  const hex = `0x${(mask >>> 0).toString(16)}`;
  return l.reportNames ? `${hex}(${formatWith(mask, l.table)})` : hex;
}

/** Value of a named flag or composite in a layout; 0 when the layout does not have it (or it is configured out). */
export function flagValue(name: string, version?: string | GfpLayout): number {
  const l = layoutOf(version);
  return l.flags[name.trim()] ?? 0;
}

const HEX = /^0x[0-9a-f]{1,8}$/i;
const DEC = /^[0-9]{1,10}$/;

function lookup(name: string, l: GfpLayout): number {
  const v = l.flags[name];
  if (v !== undefined) return v;
  for (const e of l.table) if (e.name === name) return e.mask;
  for (const e of l.traceTable) if (e.name === name) return e.mask;
  if (l.zeroNames.includes(name)) return 0;
  // ≤4.3 tables print single bits as GFP_X; accept __GFP_X there too, and GFP_X for __GFP_X everywhere it is unambiguous.
  if (name.startsWith('GFP_') && l.flags[`__${name}`] !== undefined) return l.flags[`__${name}`]!;
  const absent = l.absent[name];
  if (absent !== undefined) {
    throw new BadInputError('GFP_FLAG_ABSENT', `Cannot use ${name} with ${l.name}: because it was ${absent}`);
  }
  if (everyFlagName().has(name) || everyFlagName().has(`__${name}`)) {
    throw new BadInputError('GFP_FLAG_ABSENT', `Cannot use ${name} with ${l.name}: because that kernel has no such flag`);
  }
  throw new BadInputError('GFP_UNKNOWN_FLAG', `Cannot parse GFP flag "${name}": because no kernel layout has a flag of that name`);
}

/**
 * Names are matched against the kernel's table in order, as the printer emitted them, so a name the table
 * holds twice (4.4's GFP_ATOMIC: the composite and __GFP_ATOMIC alone) reads back as what was printed.
 * Names out of table order (typed by hand) fall back to a plain lookup.
 */
function parseNames(text: string, l: GfpLayout): number {
  if (text === '' || text === 'none') return 0;
  const parts = text.split('|').map((p) => p.trim());
  if (parts.some((p) => p === '')) {
    throw new BadInputError('GFP_SYNTAX', `Cannot parse GFP mask "${text}": because it has an empty name between "|"`);
  }
  const table = l.traceTable.length > l.table.length ? l.traceTable : l.table;
  const greedy = walk(parts, 0, 0, 0, table, l, null) ?? 0;
  if (l.ambiguousNames.length === 0 || !parts.some((p) => l.ambiguousNames.includes(p))) return greedy;
  // A name the table holds twice: take the reading that prints back exactly as given, if there is one.
  const canonical = parts.join('|');
  const exact = walk(parts, 0, 0, 0, table, l, (m) => formatWith(m, table) === canonical || formatWith(m, l.table) === canonical);
  return exact ?? greedy;
}

/**
 * Names are matched against the kernel's table in order, as the printer emitted them; names out of table order
 * (typed by hand) fall back to a plain lookup. With `accept`, every table position of a repeated name is tried
 * until the result passes (null when none does).
 */
function walk(
  parts: readonly string[], i: number, cursor: number, mask: number, table: readonly GfpName[], l: GfpLayout,
  accept: ((m: number) => boolean) | null,
): number | null {
  if (i === parts.length) return accept === null || accept(mask >>> 0) ? mask >>> 0 : null;
  const part = parts[i]!;
  if (HEX.test(part)) return walk(parts, i + 1, cursor, mask | Number.parseInt(part.slice(2), 16), table, l, accept);
  let tried = false;
  for (let j = cursor; j < table.length; j++) {
    if (table[j]!.name !== part) continue;
    tried = true;
    const r = walk(parts, i + 1, j + 1, mask | table[j]!.mask, table, l, accept);
    if (accept === null || r !== null) return r;
  }
  if (tried && accept !== null) return null;
  return walk(parts, i + 1, cursor, mask | lookup(part, l), table, l, accept);
}

/**
 * Read a GFP mask as users paste it: `GFP_KERNEL|__GFP_ZERO`, `0x400cc0`, `0x400cc0(GFP_KERNEL_ACCOUNT|__GFP_ZERO)`,
 * `mode:0x…(…)`, `gfp_flags=…` (also inside a whole report or trace line), trace text (`none`), decimal,
 * `__GFP_EXCL`. When hex and names are both given
 * they must agree. Unknown names, bad syntax and disagreement throw BadInputError with a stable code.
 *
 * @example parseGfp('GFP_KERNEL|__GFP_ZERO', '6.1') // 0xdc0
 */
export function parseGfp(text: string, version?: string | GfpLayout): number {
  const l = layoutOf(version);
  // A whole report or trace line: take the mask after `mode:` / `gfp_mask=` / `gfp_flags=`.
  const embedded = /(?:^|[^A-Za-z0-9_])(?:mode:|gfp_mask=|gfp_flags=)\s*(0x[0-9a-f]+(?:\([^)]*\))?|[A-Za-z0-9_|]+)/i.exec(text);
  let s = (embedded !== null ? embedded[1]! : text).trim().replace(/^gfp=\s*/i, '').replace(/,$/, '').trim();
  const withNames = /^(0x[0-9a-f]+)\s*\((.*)\)$/i.exec(s);
  if (withNames !== null) {
    const hexText = withNames[1]!;
    if (!HEX.test(hexText)) throw new BadInputError('GFP_SYNTAX', `Cannot parse GFP mask "${text}": because ${hexText} is wider than 32 bits`);
    const hex = Number.parseInt(hexText.slice(2), 16) >>> 0;
    const names = parseNames(withNames[2]!.trim(), l);
    if (names !== hex) {
      throw new BadInputError('GFP_MISMATCH',
        `Cannot accept "${text}": because ${hexText} and the names (0x${names.toString(16)} in ${l.name}) disagree`);
    }
    return hex;
  }
  if (HEX.test(s)) return Number.parseInt(s.slice(2), 16) >>> 0;
  if (/^0x/i.test(s)) throw new BadInputError('GFP_SYNTAX', `Cannot parse GFP mask "${text}": because it is not a 32-bit hex number`);
  if (DEC.test(s)) {
    const n = Number(s);
    if (n > 0xffffffff) throw new BadInputError('GFP_SYNTAX', `Cannot parse GFP mask "${text}": because it is wider than 32 bits`);
    return n >>> 0;
  }
  if (/^[A-Za-z0-9_|\s]*$/.test(s) || /0x/i.test(s)) return parseNames(s, l);
  throw new BadInputError('GFP_SYNTAX', `Cannot parse GFP mask "${text}": because it is neither hex nor flag names joined by "|"`);
}
