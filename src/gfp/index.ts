/**
 * GFP masks per kernel version: layouts as data, `%pGg` formatting and parsing, zone / migratetype /
 * blocking, gfp → ALLOC_* for the fast and slow path, and validation. The hot-path constants of the
 * reference kernel (6.1) stay in bits.ts and alloc_flags.ts.
 */
export {
  allLayouts, DEFAULT_GFP_OPTIONS, GFP_EXCL_BIT, GFP_EXCL_NAME,
  type AllocRules, type GfpLayout, type GfpLayoutOptions, type GfpName,
} from './layouts.ts';
export { resolveLayout, layoutFor, NEWEST_VERIFIED, type ResolvedLayout } from './resolve.ts';
export { parseKernelVersion, type KernelVersion } from './version.ts';
export { formatGfp, showGfpFlags, formatMode, parseGfp, flagValue } from './format.ts';
export {
  gfpZone, gfpZoneInfo, gfpMigratetype, gfpflagsAllowBlocking, GFP_ZONE_BAD, MIGRATETYPE_BY_GFP,
  type GfpZoneInfo, type ZoneArch,
} from './zone.ts';
export {
  gfpToAllocFlags, allocFlagNames, pfmemallocFlags,
  type AllocFlagsOptions, type AllocFlagsResult, type GfpContext,
} from './alloc.ts';
export { validateGfp, GFP_PROBLEM_CODES, type GfpProblem, type Severity, type ValidateOptions } from './validate.ts';
export { FLAG_MEANING } from './meaning.ts';
export { explainGfp, type GfpExplanation } from './explain.ts';
