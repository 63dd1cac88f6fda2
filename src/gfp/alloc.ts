/**
 * gfp mask → internal ALLOC_* flags, for the fast path (first attempt) and the slow path, per kernel version,
 * with the fraction of the watermark the request may dig down to.
 * @kernel mm/page_alloc.c prepare_alloc_pages, alloc_flags_nofragment, gfp_to_alloc_flags, __gfp_pfmemalloc_flags
 */
import {
  ALLOC_CMA, ALLOC_CPUSET, ALLOC_HARDER, ALLOC_HIGH, ALLOC_HIGHATOMIC, ALLOC_KSWAPD, ALLOC_MIN_RESERVE,
  ALLOC_NOFRAGMENT, ALLOC_NON_BLOCK, ALLOC_NO_WATERMARKS, ALLOC_OOM, ALLOC_WMARK_LOW, ALLOC_WMARK_MASK,
  ALLOC_WMARK_MIN,
} from './alloc_flags.ts';
import { effectiveMin, type WatermarkRules } from '../zone/watermark.ts';
import { ZONE_MOVABLE, ZONE_NORMAL } from '../mm/constants.ts';
import type { AllocRules, GfpLayout } from './layouts.ts';
import { resolveLayout } from './resolve.ts';
import { gfpMigratetype, gfpZoneInfo } from './zone.ts';

/** Where the caller runs. `atomic` is process context holding a spinlock or with preemption off. */
export type GfpContext = 'process' | 'softirq' | 'hardirq' | 'atomic';

export interface AllocFlagsOptions {
  /** Kernel version (default: newest layout). */
  version?: string;
  order?: number;
  /** false: the first attempt (fast path); true: gfp_to_alloc_flags of the slow path, then the reserve escalation. */
  slowPath?: boolean;
  context?: GfpContext;
  /** The task is a realtime task (6.12+: or a deadline task). */
  rtTask?: boolean;
  /** The task has PF_MEMALLOC (it is reclaiming on behalf of others). */
  pfMemalloc?: boolean;
  /** The task was chosen by the OOM killer. */
  oomVictim?: boolean;
  /** cpusets_enabled(): only when cpusets other than the root exist. Default false. */
  cpusetsEnabled?: boolean;
  /** CONFIG_CMA. Default false, as the captured Debian 6.1 kernel. */
  cma?: boolean;
  /** A populated ZONE_DMA32 below the preferred Normal zone (5.0+ ALLOC_NOFRAGMENT). Default true. */
  dma32Populated?: boolean;
}

export interface AllocFlagsResult {
  /** The ALLOC_* bits. */
  flags: number;
  /** Their names in that version's vocabulary (ALLOC_HARDER ≤6.2, ALLOC_NON_BLOCK 6.3+ …). */
  names: string[];
  /** Which watermark the check uses: 'min' | 'low' | 'high', or 'none' with ALLOC_NO_WATERMARKS. */
  watermark: 'min' | 'low' | 'high' | 'none';
  /** The fraction of that watermark the request must stay above, e.g. [3, 8]; [0, 1] without watermarks. */
  fraction: [number, number];
  /** "3/8 of min", "min", "no watermark" … */
  depth: string;
  /** The slow path's flags before the reserve escalation, when the escalation replaced them. */
  beforeEscalation?: { flags: number; names: string[] };
  /** The gfp_to_alloc_flags generation used. */
  rules: AllocRules;
  /** The arithmetic of __zone_watermark_ok that applies. */
  watermarkRules: WatermarkRules;
}

function inInterrupt(c: GfpContext): boolean {
  return c === 'softirq' || c === 'hardirq';
}

/** ALLOC_KSWAPD's value: 0x200 in 5.0–5.9, equal to __GFP_KSWAPD_RECLAIM (0x800) from 5.10. */
function allocKswapd(rules: AllocRules): number {
  if (rules === '5.0') return 0x200;
  if (rules === '2.6' || rules === '4.4' || rules === '4.16') return 0;
  return ALLOC_KSWAPD;
}

/** Names of ALLOC_* bits in the vocabulary of that generation. */
export function allocFlagNames(flags: number, rules: AllocRules): string[] {
  const names: string[] = [];
  const wm = flags & ALLOC_WMARK_MASK;
  names.push(wm === ALLOC_WMARK_MIN ? 'ALLOC_WMARK_MIN' : wm === ALLOC_WMARK_LOW ? 'ALLOC_WMARK_LOW' : 'ALLOC_WMARK_HIGH');
  const new63 = rules === '6.3' || rules === '6.12';
  if (flags & ALLOC_NO_WATERMARKS) names.push('ALLOC_NO_WATERMARKS');
  if (flags & ALLOC_OOM) names.push('ALLOC_OOM');
  if (flags & ALLOC_HARDER) names.push(new63 ? 'ALLOC_NON_BLOCK' : 'ALLOC_HARDER');
  if (flags & ALLOC_HIGH) names.push(new63 ? 'ALLOC_MIN_RESERVE' : 'ALLOC_HIGH');
  if (flags & ALLOC_CPUSET) names.push('ALLOC_CPUSET');
  if (flags & ALLOC_CMA) names.push('ALLOC_CMA');
  if (flags & ALLOC_NOFRAGMENT) names.push('ALLOC_NOFRAGMENT');
  const kswapd = allocKswapd(rules);
  if (new63 && (flags & ALLOC_HIGHATOMIC)) names.push('ALLOC_HIGHATOMIC');
  if (kswapd !== 0 && (flags & kswapd)) names.push('ALLOC_KSWAPD');
  return names;
}

interface Bits { high: number; atomic: number; wait: number; kswapd: number; noKswapd: number; memalloc: number; nomemalloc: number; direct: number }

function bitsOf(l: GfpLayout): Bits {
  const f = l.flags;
  return {
    high: f.__GFP_HIGH ?? 0,
    atomic: f.__GFP_ATOMIC ?? 0,
    wait: f.__GFP_WAIT ?? 0,
    kswapd: f.__GFP_KSWAPD_RECLAIM ?? 0,
    noKswapd: f.__GFP_NO_KSWAPD ?? 0,
    memalloc: f.__GFP_MEMALLOC ?? 0,
    nomemalloc: f.__GFP_NOMEMALLOC ?? 0,
    direct: f.__GFP_DIRECT_RECLAIM ?? f.__GFP_WAIT ?? 0,
  };
}

/** @kernel mm/page_alloc.c __gfp_pfmemalloc_flags: the reserves a request may take when everything else failed. */
export function pfmemallocFlags(mask: number, l: GfpLayout, rules: AllocRules, o: AllocFlagsOptions): number {
  const b = bitsOf(l);
  const ctx = o.context ?? 'process';
  if (mask & b.nomemalloc) return 0;
  if (mask & b.memalloc) return ALLOC_NO_WATERMARKS;
  if (o.pfMemalloc && ctx === 'softirq') return ALLOC_NO_WATERMARKS;
  if (!inInterrupt(ctx)) {
    if (o.pfMemalloc) return ALLOC_NO_WATERMARKS;
    if (o.oomVictim) return rules === '2.6' || rules === '4.4' ? ALLOC_NO_WATERMARKS : ALLOC_OOM;
  }
  return 0;
}

function fractionOf(flags: number, wr: WatermarkRules): [number, number] {
  if (flags & ALLOC_NO_WATERMARKS) return [0, 1];
  const M = 1 << 16;
  let num = effectiveMin(M, flags, wr);
  let den = M;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(num, den);
  num /= g; den /= g;
  return [num, den];
}

/**
 * Translate a gfp mask into the ALLOC_* flags of the fast path or the slow path of that kernel version.
 * Accepts `(mask, opts)` or `(mask, version, opts)`.
 *
 * @example gfpToAllocFlags(GFP_ATOMIC, { version: '6.1', slowPath: true }).depth // '3/8 of min'
 */
export function gfpToAllocFlags(mask: number, versionOrOpts?: string | AllocFlagsOptions, maybeOpts?: AllocFlagsOptions): AllocFlagsResult {
  const o: AllocFlagsOptions = typeof versionOrOpts === 'string'
    ? { ...maybeOpts, version: versionOrOpts } : { ...versionOrOpts };
  const { layout: l, allocRules: rules } = resolveLayout(o.version);
  const b = bitsOf(l);
  const ctx = o.context ?? 'process';
  const order = o.order ?? 0;
  const new63 = rules === '6.3' || rules === '6.12';
  const wr: WatermarkRules = new63 ? 'v6.3' : rules === '2.6' ? 'v2.6' : 'v6.1';
  const kswapdFlag = allocKswapd(rules);
  const movable = gfpMigratetype(mask, l) === 1;
  const cma = (o.cma ?? false) && movable && rules !== '2.6' && rules !== '4.4' ? ALLOC_CMA : 0;

  let flags: number;
  let beforeEscalation: { flags: number; names: string[] } | undefined;
  if (!o.slowPath) {
    flags = ALLOC_WMARK_LOW | cma;
    // ≤4.3 always checked cpusets on the first attempt (3.12–4.7 also ALLOC_FAIR, not modelled); later only when
    // cpusets other than the root exist.
    if (o.cpusetsEnabled || rules === '2.6') flags |= ALLOC_CPUSET;
    if (kswapdFlag !== 0) {
      // alloc_flags_nofragment(): the kswapd bit always; NOFRAGMENT when the preferred zone is Normal above a populated DMA32.
      if (mask & b.kswapd) flags |= kswapdFlag;
      const z = gfpZoneInfo(mask).zoneIdx;
      if ((o.dma32Populated ?? true) && (z === ZONE_NORMAL || z === ZONE_MOVABLE)) flags |= ALLOC_NOFRAGMENT;
    }
  } else {
    flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
    if (!new63) {
      flags |= mask & b.high ? ALLOC_HIGH : 0;
      const atomic = rules === '2.6' ? (mask & b.wait) === 0 : (mask & b.atomic) !== 0;
      if (atomic) {
        if (!(mask & b.nomemalloc)) flags |= ALLOC_HARDER;
        flags &= ~ALLOC_CPUSET;
      } else if (o.rtTask && !inInterrupt(ctx)) {
        flags |= ALLOC_HARDER;
      }
      if (kswapdFlag !== 0 && (mask & b.kswapd)) flags |= kswapdFlag;
    } else {
      flags |= mask & b.high ? ALLOC_MIN_RESERVE : 0;
      if (mask & b.kswapd) flags |= ALLOC_KSWAPD;
      if (!(mask & b.direct)) {
        if (!(mask & b.nomemalloc)) {
          flags |= ALLOC_NON_BLOCK;
          if (order > 0) flags |= ALLOC_HIGHATOMIC;
        }
        if (flags & ALLOC_MIN_RESERVE) flags &= ~ALLOC_CPUSET;
      } else if (o.rtTask && !inInterrupt(ctx)) {
        flags |= ALLOC_MIN_RESERVE;
      }
    }
    flags |= cma;
    const reserve = pfmemallocFlags(mask, l, rules, o);
    if (reserve !== 0) {
      beforeEscalation = { flags, names: allocFlagNames(flags, rules) };
      flags = reserve | cma | (flags & kswapdFlag);
    }
  }
  const fraction = fractionOf(flags, wr);
  const wm = flags & ALLOC_WMARK_MASK;
  const watermark = flags & ALLOC_NO_WATERMARKS ? 'none' : wm === ALLOC_WMARK_MIN ? 'min' : wm === ALLOC_WMARK_LOW ? 'low' : 'high';
  const depth = watermark === 'none' ? 'no watermark'
    : fraction[0] === fraction[1] ? watermark : `${fraction[0]}/${fraction[1]} of ${watermark}`;
  const result: AllocFlagsResult = {
    flags, names: allocFlagNames(flags, rules), watermark, fraction, depth, rules, watermarkRules: wr,
  };
  if (beforeEscalation !== undefined) result.beforeEscalation = beforeEscalation;
  return result;
}
