/**
 * Labyrinth's public API. Each section is owned by one layer; add your exports, keep others'.
 */

// --- core allocator (src/alloc, src/buddy, src/mm, src/debug) ---
export { createPageAllocator, attachPageAllocator, Allocator, type CreatePageAllocatorOptions } from './alloc/allocator.ts';
export {
  PageAllocator, gfpZone, gfpToAllocFlags, FAIL_NONE, FAIL_ORDER, FAIL_NO_ZONE, FAIL_WATERMARK, FAIL_NO_BLOCK,
  FAIL_MAY_SLEEP, type PageAllocatorOptions, type SlowPathHooks, type AllocFailure, type PfnRun,
} from './alloc/page_alloc.ts';
export { MemMap, computeLayout, type KmemTracepoints, type MemMapLayout } from './mm/memmap.ts';
export { verify, InvariantError } from './debug/verify.ts';
export { KmemTracer, showGfpFlags61, type KmemTracerOptions } from './trace/kmem_out.ts';
export { BadPageStateError, LabyrinthError, BadInputError } from './errors.ts';
export * from './gfp/bits.ts';
export * from './gfp/alloc_flags.ts';

// --- GFP masks per kernel version (src/gfp) ---
// The core's gfpZone/gfpToAllocFlags above are the 6.1 hot-path versions; the per-version ones live in the `gfp` namespace.
export * as gfp from './gfp/index.ts';
export {
  formatGfp, showGfpFlags, formatMode, parseGfp, flagValue, resolveLayout, validateGfp, explainGfp, gfpMigratetype,
  gfpflagsAllowBlocking, gfpZoneInfo, type GfpLayout, type GfpProblem, type GfpExplanation,
} from './gfp/index.ts';

// --- real memory (src/memory): backing stores, void* addresses, views, workers ---
export {
  createAllocator, attachAllocator, MemoryAllocator, orderForBytes, type CreateAllocatorOptions, type MemoryHandle,
  type AttachOptions, type ExclusiveGate, type TypedArrayConstructor,
} from './memory/memory_allocator.ts';
export { Backing, CHUNK_SHIFT, CHUNK_PAGES, newWasmMemory, type BackingKind, type BackingHandle, type WasmMemory } from './memory/backing.ts';
export { ZoneLock } from './memory/zone_lock.ts';
export { PAGE_POISON, checkPoisonMem, printHexDump, type PageCorruption } from './memory/page_poison.ts';
export { MemoryAccessError, ExclusiveAccessError, AttachError } from './memory/errors.ts';

// --- labyrinths and exclusive pages (src/labyrinth; a Labyrinth extension, docs/labyrinths.md) ---
export {
  Labyrinths, Labyrinth, LabyrinthTask, calculateOverage, calculateHighDelay, MEMCG_EVENT_NAMES, type GlobalMemoryUser,
  type LabyrinthLimits, type LabyrinthsOptions, type TaskAllocOptions, type MemcgEvent, type LabyrinthOomReport,
} from './labyrinth/domain.ts';
export { ExclusiveKey, ExclusivePages, type ExclusiveAllocFailure, type ExclusiveInfo } from './labyrinth/exclusive.ts';
export { Mempool, exclusiveMempool } from './labyrinth/mempool.ts';
export { readMemcgFile, writeMemcgFile, parseMemcgLimit, memparse, memoryStat, MEMCG_FILES } from './labyrinth/memcg_files.ts';
export { SimPageBytes, ArrayBufferPageBytes, BackingPageBytes, type PageBytes, type BackingLike } from './labyrinth/page_bytes.ts';
export { ExclusivePageError } from './errors.ts';
