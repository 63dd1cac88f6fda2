/** Everything `labyrinth gfp` says about one mask, as one object (also the --json output). */
import { gfpToAllocFlags, type GfpContext } from './alloc.ts';
import { formatGfp, formatMode, parseGfp, showGfpFlags } from './format.ts';
import { GFP_EXCL_BIT, GFP_EXCL_NAME, type GfpLayoutOptions } from './layouts.ts';
import { FLAG_MEANING } from './meaning.ts';
import { resolveLayout } from './resolve.ts';
import { validateGfp, type GfpProblem } from './validate.ts';
import { gfpflagsAllowBlocking, gfpMigratetype, gfpZoneInfo, MIGRATETYPE_BY_GFP } from './zone.ts';

export interface GfpBitRow {
  mask: string;
  name: string;
  meaning: string;
  extension: boolean;
}

export interface GfpExplanation {
  mask: string;
  /** Exactly the kernel's %pGg text for the mask in that version. */
  names: string;
  /** The layout used, e.g. "Linux 5.18–6.2". */
  kernel: string;
  zone: string;
  migratetype: string;
  mayBlock: boolean;
  /** ALLOC_* of the slow path (after the reserve escalation), in that version's vocabulary. */
  allocFlags: string[];
  problems: GfpProblem[];
  /** Labyrinth extension flags set in the mask (not kernel flags). */
  extension: Array<{ name: string; mask: string; note: string }>;
  /** The version as given (null: default, the newest layout). */
  version: string | null;
  layout: string;
  /** warn_alloc's `mode:` text (names only from 4.6). */
  mode: string;
  /** Whether this kernel's reports print names (4.6+); before, `names` is the tracepoints' text. */
  reportNames: boolean;
  /** show_gfp_flags() text (tracepoints). */
  trace: string;
  warning?: string;
  bits: GfpBitRow[];
  wakesKswapd: boolean;
  mayStartIo: boolean;
  mayEnterFs: boolean;
  fastPath: { allocFlags: string[]; depth: string };
  slowPath: { allocFlags: string[]; depth: string; fraction: [number, number]; beforeEscalation?: string[] };
  reserves: string;
}

export interface ExplainOptions {
  kernel?: string;
  order?: number;
  context?: GfpContext;
  options?: Partial<GfpLayoutOptions>;
}

/** Parse (if text) and explain a mask for a kernel version. Throws BadInputError for bad input. */
export function explainGfp(input: string | number, o: ExplainOptions = {}): GfpExplanation {
  const resolved = resolveLayout(o.kernel, o.options);
  const l = resolved.layout;
  const mask = typeof input === 'number' ? input >>> 0 : parseGfp(input, l);
  const order = o.order ?? 0;
  const context = o.context ?? 'process';
  const names = typeof input === 'string' ? writtenNames(input) : [];
  const problems = validateGfp(mask, order, context, l, { names });
  const fast = gfpToAllocFlags(mask, { version: o.kernel, order, context, slowPath: false });
  const slow = gfpToAllocFlags(mask, { version: o.kernel, order, context, slowPath: true });
  const bits: GfpBitRow[] = [];
  for (let b = 0; b < 32; b++) {
    const bit = 2 ** b;
    if ((mask & bit) === 0) continue;
    const name = Object.entries(l.bits).find(([, v]) => v === bit)?.[0] ?? (bit === GFP_EXCL_BIT ? GFP_EXCL_NAME : `0x${bit.toString(16)}`);
    const isExt = bit === GFP_EXCL_BIT;
    const absentNote = name.startsWith('0x') ? 'no flag in this kernel' : undefined;
    bits.push({ mask: `0x${bit.toString(16)}`, name, meaning: absentNote ?? FLAG_MEANING[name] ?? '', extension: isExt });
  }
  const zone = gfpZoneInfo(mask);
  const mt = gfpMigratetype(mask, l);
  const f = l.flags;
  const mayBlock = gfpflagsAllowBlocking(mask, l);
  const wakesKswapd = f.__GFP_KSWAPD_RECLAIM !== undefined
    ? (mask & f.__GFP_KSWAPD_RECLAIM) !== 0
    : (mask & (f.__GFP_NO_KSWAPD ?? 0)) === 0;
  const reserves = slow.watermark === 'none'
    ? 'all of them: no watermark (ALLOC_NO_WATERMARKS)'
    : slow.fraction[0] === slow.fraction[1]
      ? 'none: must stay above the min watermark'
      : `down to ${slow.fraction[0]}/${slow.fraction[1]} of the min watermark`;
  const out: GfpExplanation = {
    mask: `0x${mask.toString(16)}`,
    names: formatGfp(mask, l),
    kernel: l.name,
    zone: zone.bad ? `${zone.name} (GFP_ZONE_BAD)` : zone.name,
    migratetype: MIGRATETYPE_BY_GFP[mt] ?? String(mt),
    mayBlock,
    allocFlags: slow.names,
    problems,
    extension: (mask & GFP_EXCL_BIT) !== 0
      ? [{ name: GFP_EXCL_NAME, mask: `0x${GFP_EXCL_BIT.toString(16)}`, note: 'Labyrinth extension, not a kernel flag: exclusive page (one owner, one key, never shared or aliased, wiped, unmovable)' }]
      : [],
    version: resolved.version === null ? null : resolved.version.raw,
    layout: l.id,
    mode: formatMode(mask, l),
    reportNames: l.reportNames,
    trace: showGfpFlags(mask, l),
    bits,
    wakesKswapd,
    mayStartIo: mayBlock && (mask & (f.__GFP_IO ?? 0)) !== 0,
    mayEnterFs: mayBlock && (mask & (f.__GFP_FS ?? 0)) !== 0,
    fastPath: { allocFlags: fast.names, depth: fast.depth },
    slowPath: { allocFlags: slow.names, depth: slow.depth, fraction: slow.fraction },
    reserves,
  };
  if (slow.beforeEscalation !== undefined) out.slowPath.beforeEscalation = slow.beforeEscalation.names;
  if (resolved.warning !== undefined) out.warning = resolved.warning;
  return out;
}

/** The flag names a user wrote (inside `0x…(…)` when present). */
function writtenNames(text: string): string[] {
  const m = /(?:mode:|gfp_mask=|gfp_flags=)\s*(0x[0-9a-f]+(?:\([^)]*\))?|[A-Za-z0-9_|]+)/i.exec(text);
  const s = m !== null ? m[1]! : text;
  const inner = /\(([^)]*)\)/.exec(s);
  return (inner !== null ? inner[1]! : s).split('|').map((x) => x.trim()).filter((x) => /^_*GFP_/.test(x));
}
