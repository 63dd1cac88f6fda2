/** Version string → GFP layout (and the gfp_to_alloc_flags rules of that exact release). */
import { BadInputError } from '../errors.ts';
import {
  allLayouts, allocRulesFor, type AllocRules, type GfpLayout, type GfpLayoutOptions,
} from './layouts.ts';
import { compareVersion, parseKernelVersion, type KernelVersion } from './version.ts';

/** The newest release checked against real output (reports 001 and 036 of the fixtures: 6.19-rc5, 6.18-next). */
export const NEWEST_VERIFIED: readonly [number, number, number] = [6, 19, 0];

export interface ResolvedLayout {
  layout: GfpLayout;
  /** Set when the version is newer than anything verified, so the nearest older layout was used. */
  warning?: string;
  /** The parsed version, or null when none was given (the default: the newest layout). */
  version: KernelVersion | null;
  /** gfp_to_alloc_flags generation of that exact release (a layout may span several). */
  allocRules: AllocRules;
}

function sinceTuple(l: GfpLayout): [number, number, number] {
  const [a, b, c] = l.since.split('.').map(Number);
  return [a!, b!, c ?? 0];
}

/** A layout's since/until as the `[major, minor, patch]` key of its first release. */
export function layoutSince(l: GfpLayout): [number, number, number] {
  return sinceTuple(l);
}

/**
 * Pick the layout for a version as users paste it. No version → the newest layout. A version newer than the
 * newest verified release uses the newest layout with a warning; one older than 2.6 or without MAJOR.MINOR
 * is a BadInputError.
 */
export function resolveLayout(version?: string, options?: Partial<GfpLayoutOptions>): ResolvedLayout {
  const key = options === undefined ? version ?? ''
    : `${version ?? ''}\u0000${options.lockdep ?? ''},${options.kasanHwTags ?? ''},${options.slabObjExt ?? ''},${options.kmemcheck ?? ''}`;
  const hit = resolved.get(key);
  if (hit !== undefined) return hit;
  const r = resolveUncached(version, options ?? {});
  if (resolved.size >= 1024) resolved.clear();
  resolved.set(key, r);
  return r;
}

/** Version strings repeat (every event of a trace, every line of a report): resolve each once. */
const resolved = new Map<string, ResolvedLayout>();

function resolveUncached(version: string | undefined, options: Partial<GfpLayoutOptions>): ResolvedLayout {
  const layouts = allLayouts(options);
  const newest = layouts[layouts.length - 1]!;
  if (version === undefined || version.trim() === '') {
    return { layout: newest, version: null, allocRules: allocRulesFor(newest.id, NEWEST_VERIFIED) };
  }
  const v = parseKernelVersion(version);
  const t: [number, number, number] = [v.major, v.minor, v.patch];
  if (compareVersion(t, [2, 6, 0]) < 0 || v.major > 99) {
    throw new BadInputError('KERNEL_VERSION_UNSUPPORTED',
      `Cannot decode GFP masks of Linux ${v.major}.${v.minor}: because the oldest layout Labyrinth knows is 2.6`);
  }
  let chosen = layouts[0]!;
  for (const l of layouts) if (compareVersion(sinceTuple(l), t) <= 0) chosen = l;
  const result: ResolvedLayout = { layout: chosen, version: v, allocRules: allocRulesFor(chosen.id, t) };
  if (compareVersion([v.major, v.minor], [NEWEST_VERIFIED[0], NEWEST_VERIFIED[1]]) > 0) {
    result.warning = `Linux ${v.major}.${v.minor} is newer than the newest verified release `
      + `(${NEWEST_VERIFIED[0]}.${NEWEST_VERIFIED[1]}); using the nearest older layout, ${chosen.name}`;
  }
  return result;
}

/** The layout for a version (no warning); convenience for callers that only need the table. */
export function layoutFor(version?: string, options?: Partial<GfpLayoutOptions>): GfpLayout {
  return resolveLayout(version, options).layout;
}
