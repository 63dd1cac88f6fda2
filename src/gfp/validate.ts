/**
 * What is wrong with a (mask, order, context): the kernel's WARN_ON sites and documented misuse, as problems
 * with a severity, a stable code and one sentence of why.
 * @kernel mm/page_alloc.c __alloc_pages, prepare_alloc_pages, __alloc_pages_slowpath, rmqueue (6.1; other versions noted)
 *
 * Severity: `error` — the kernel refuses, BUGs, or cannot honour the mask as written;
 * `warning` — the kernel WARNs (or documents it as wrong) but serves the request; `info` — worth knowing.
 */
import { PAGE_ALLOC_COSTLY_ORDER } from '../mm/constants.ts';
import type { GfpContext } from './alloc.ts';
import { GFP_EXCL_BIT, type GfpLayout } from './layouts.ts';
import { resolveLayout } from './resolve.ts';
import { gfpflagsAllowBlocking, gfpZoneInfo } from './zone.ts';

export type Severity = 'error' | 'warning' | 'info';

export interface GfpProblem {
  severity: Severity;
  code: string;
  message: string;
}

/** Stable problem codes (also listed in docs/gfp.md). */
export const GFP_PROBLEM_CODES = [
  'ATOMIC_WITH_DIRECT_RECLAIM', 'ZONE_BAD', 'MOVABLE_AND_RECLAIMABLE', 'NOFAIL_WITHOUT_DIRECT_RECLAIM',
  'NOFAIL_ORDER_ABOVE_1', 'NOFAIL_COSTLY_ORDER', 'NORETRY_WITH_NOFAIL', 'RETRY_MAYFAIL_WITH_NOFAIL',
  'SLEEP_IN_ATOMIC_CONTEXT', 'ORDER_TOO_LARGE', 'ORDER_INVALID', 'UNKNOWN_BITS', 'MEMALLOC_WITH_NOMEMALLOC',
  'COMP_AT_ORDER_0', 'RECLAIM_MODIFIERS_IGNORED', 'NO_HIGHMEM_ZONE', 'COSTLY_ORDER', 'EXCL_EXTENSION',
  'EXCL_MOVABLE', 'EXCL_ATOMIC',
] as const;

export interface ValidateOptions {
  /**
   * The flag names the user wrote, when the mask came from text. From 6.3 on `GFP_ATOMIC|GFP_KERNEL` is the
   * same number as `GFP_KERNEL|__GFP_HIGH`; only the names show the incoherence.
   */
  names?: readonly string[];
  /** Architecture of the zones (default x86_64). */
  arch?: 'x86_64' | 'x86_32';
}

function maxOrderExclusive(version: readonly [number, number, number] | null): number {
  // MAX_ORDER 11 exclusive (≤6.3) and MAX_ORDER 10 inclusive (6.4+, MAX_PAGE_ORDER 6.8+) reject the same orders on x86.
  void version;
  return 11;
}

/**
 * Check a request. `context` is where the caller runs; `version` selects the layout (default: newest).
 *
 * @example validateGfp(GFP_KERNEL | __GFP_ATOMIC, 0, 'process', '6.1')[0].code // 'ATOMIC_WITH_DIRECT_RECLAIM'
 */
export function validateGfp(
  mask: number, order: number, context: GfpContext = 'process', version?: string | GfpLayout, opts: ValidateOptions = {},
): GfpProblem[] {
  const resolved = typeof version === 'object' ? { layout: version, version: null } : resolveLayout(version);
  const l = resolved.layout;
  const vt = resolved.version === null ? null : [resolved.version.major, resolved.version.minor, resolved.version.patch] as const;
  const f = l.flags;
  const has = (name: string): boolean => {
    const v = f[name];
    return v !== undefined && v !== 0 && ((mask & v) >>> 0) === v;
  };
  const p: GfpProblem[] = [];
  const add = (severity: Severity, code: string, message: string): void => { p.push({ severity, code, message }); };
  const mayBlock = gfpflagsAllowBlocking(mask, l);
  const directName = f.__GFP_DIRECT_RECLAIM !== undefined ? '__GFP_DIRECT_RECLAIM' : '__GFP_WAIT';
  const names = opts.names ?? [];

  // Atomic together with direct reclaim.
  const atomicBit = f.__GFP_ATOMIC ?? 0;
  const namedAtomic = names.some((n) => n === 'GFP_ATOMIC' || n === '__GFP_ATOMIC' || n === 'GFP_NOWAIT');
  if ((atomicBit !== 0 && (mask & atomicBit) !== 0 && mayBlock) || (namedAtomic && mayBlock)) {
    const a = names.includes('GFP_NOWAIT') && !names.includes('GFP_ATOMIC') ? 'GFP_NOWAIT'
      : has('GFP_ATOMIC') || names.includes('GFP_ATOMIC') ? 'GFP_ATOMIC' : '__GFP_ATOMIC';
    const k = ['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO'].find((n) => names.includes(n))
      ?? (['GFP_KERNEL', 'GFP_NOFS', 'GFP_NOIO'].find((n) => has(n)) ?? directName);
    const consequence = atomicBit !== 0
      ? 'the kernel WARNs once and drops __GFP_ATOMIC, so it sleeps'
      : `in ${l.name} it is just ${k}|__GFP_HIGH, a sleeping request`;
    add('error', 'ATOMIC_WITH_DIRECT_RECLAIM',
      `${a}|${k} is incoherent: a request cannot both forbid and allow sleeping (${consequence}).`);
  }

  const zone = gfpZoneInfo(mask, opts.arch ?? 'x86_64');
  if (zone.bad) {
    add('error', 'ZONE_BAD', `The zone modifiers 0x${(mask & 0xf).toString(16)} select no zone (GFP_ZONE_BAD): only one of __GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM may be set, and __GFP_MOVABLE combines only with one of them; CONFIG_DEBUG_VM kernels BUG here.`);
  }
  const movable = f.__GFP_MOVABLE ?? 0;
  const reclaimable = f.__GFP_RECLAIMABLE ?? 0;
  if ((mask & movable) !== 0 && (mask & reclaimable) !== 0) {
    add('error', 'MOVABLE_AND_RECLAIMABLE', '__GFP_MOVABLE|__GFP_RECLAIMABLE names two migratetypes at once; the kernel VM_WARNs and the index points past the allocatable lists.');
  }

  const nofail = f.__GFP_NOFAIL ?? 0;
  if ((mask & nofail) !== 0) {
    if (!mayBlock) {
      add('error', 'NOFAIL_WITHOUT_DIRECT_RECLAIM', `__GFP_NOFAIL without ${directName} cannot be honoured: the kernel WARNs and lets the request fail, because only a request that may sleep can wait for memory.`);
    }
    if (order > 1) {
      add('warning', 'NOFAIL_ORDER_ABOVE_1', `__GFP_NOFAIL at order ${order} > 1: the kernel WARNs (rmqueue) because it cannot promise blocks larger than two pages.`);
    }
    if (order > PAGE_ALLOC_COSTLY_ORDER) {
      add('warning', 'NOFAIL_COSTLY_ORDER', `__GFP_NOFAIL at costly order ${order} > ${PAGE_ALLOC_COSTLY_ORDER}: the slow path WARNs; retrying forever for such a block can stall the system.`);
    }
    if ((mask & (f.__GFP_NORETRY ?? 0)) !== 0) {
      add('warning', 'NORETRY_WITH_NOFAIL', '__GFP_NORETRY|__GFP_NOFAIL contradict each other (fail early vs never fail); __GFP_NOFAIL wins and the request retries forever.');
    }
    const mayfail = f.__GFP_RETRY_MAYFAIL ?? f.__GFP_REPEAT ?? 0;
    if (f.__GFP_RETRY_MAYFAIL !== undefined && (mask & mayfail) !== 0) {
      add('warning', 'RETRY_MAYFAIL_WITH_NOFAIL', '__GFP_RETRY_MAYFAIL|__GFP_NOFAIL contradict each other (may fail vs never fail); __GFP_NOFAIL wins.');
    }
  }

  if (mayBlock && context !== 'process') {
    add('error', 'SLEEP_IN_ATOMIC_CONTEXT', `A mask with ${directName} may sleep, but the caller runs in ${context} context: the kernel reports "BUG: sleeping function called from invalid context"; use GFP_ATOMIC or GFP_NOWAIT there.`);
  }

  if (!Number.isInteger(order) || order < 0) {
    add('error', 'ORDER_INVALID', `Order ${order} is not a block size: orders are integers from 0.`);
  } else if (order >= maxOrderExclusive(vt)) {
    add('error', 'ORDER_TOO_LARGE', `Order ${order} is beyond the largest buddy block (order ${maxOrderExclusive(vt) - 1}): __alloc_pages WARNs (unless __GFP_NOWARN) and returns NULL.`);
  } else if (order > PAGE_ALLOC_COSTLY_ORDER && mayBlock) {
    add('info', 'COSTLY_ORDER', `Order ${order} is costly (> ${PAGE_ALLOC_COSTLY_ORDER}): the slow path compacts but never calls the OOM killer for it, and gives up early.`);
  }

  const unknown = (mask & ~l.kernelMask & ~GFP_EXCL_BIT) >>> 0;
  if (unknown !== 0) {
    const was = unknown === 0x200 && l.absent.__GFP_ATOMIC !== undefined && atomicBit === 0 ? ' (0x200 was __GFP_ATOMIC until 6.2)' : '';
    add('warning', 'UNKNOWN_BITS', `Bits 0x${unknown.toString(16)} are no flag in ${l.name}${was}; the kernel ignores them and prints them as hex.`);
  }
  if ((mask & (f.__GFP_MEMALLOC ?? 0)) !== 0 && (mask & (f.__GFP_NOMEMALLOC ?? 0)) !== 0) {
    add('warning', 'MEMALLOC_WITH_NOMEMALLOC', '__GFP_MEMALLOC|__GFP_NOMEMALLOC: __GFP_NOMEMALLOC takes precedence, so the request gets no emergency reserves.');
  }
  if ((mask & (f.__GFP_COMP ?? 0)) !== 0 && order === 0) {
    add('info', 'COMP_AT_ORDER_0', '__GFP_COMP at order 0 has no effect: a single page is not a compound page.');
  }
  if (!mayBlock) {
    const mods = ['__GFP_IO', '__GFP_FS', '__GFP_NORETRY', '__GFP_RETRY_MAYFAIL', '__GFP_REPEAT'].filter((n) => (mask & (f[n] ?? 0)) !== 0);
    if (mods.length > 0) {
      add('info', 'RECLAIM_MODIFIERS_IGNORED', `${mods.join(', ')} only shape direct reclaim, which this request never enters.`);
    }
  }
  if ((mask & 0x2) !== 0 && !zone.bad && (opts.arch ?? 'x86_64') === 'x86_64') {
    add('info', 'NO_HIGHMEM_ZONE', '__GFP_HIGHMEM: x86_64 has no ZONE_HIGHMEM, so the request is served from Normal (or Movable with __GFP_MOVABLE).');
  }

  if ((mask & GFP_EXCL_BIT) !== 0) {
    add('info', 'EXCL_EXTENSION', '__GFP_EXCL is a Labyrinth extension, not a kernel flag: the page has one owner and one key, is never shared or aliased, is zeroed when handed out and when freed, and is unmovable.');
    if ((mask & (movable | reclaimable)) !== 0) {
      add('error', 'EXCL_MOVABLE', '__GFP_EXCL with __GFP_MOVABLE or __GFP_RECLAIMABLE is contradictory: exclusive pages are never migrated or reclaimed, so they are allocated as MIGRATE_UNMOVABLE.');
    }
    if (!mayBlock) {
      add('info', 'EXCL_ATOMIC', 'Atomic exclusive request: it never sleeps, takes its page from MIGRATE_UNMOVABLE pageblocks within the reserves its flags allow, and fails fast under pressure — pair it with a mempool when failure is not an option.');
    }
  }
  return p;
}
