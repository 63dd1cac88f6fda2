/**
 * Scenarios are data: a machine, a duration and workload actors, each a JSON-serialisable object. Built-in
 * scenarios live in src/sim/scenarios.ts; users write their own as a JSON file of the same shape
 * (docs/scenarios.md documents every field).
 */
import { parseKernelVersion } from '../gfp/version.ts';
import { BadInputError } from '../errors.ts';
import { parseMemSize, type ZoneSizeInput } from '../zone/setup.ts';

/** When a scenario does not say: the embedded default machine (1 GiB, 2 CPUs, Debian 6.1 defaults). */
export const DEFAULT_MACHINE: MachineSpecInput = { mem: '1G', cpus: 2, kernel: '6.1', tunables: {} };

export interface MachineSpecInput {
  /** RAM size as users write it: `512M`, `1G`, `64G`. */
  mem: string;
  /** Allocation contexts ("CPUs"), each with its own per-CPU lists. */
  cpus: number;
  /** Kernel version whose rules apply (6.1 is the reference). */
  kernel: string;
  /** vm sysctls by their /proc/sys name: `vm.min_free_kbytes`, `vm.watermark_scale_factor`, … */
  tunables: Record<string, number>;
  /**
   * A real machine's zones as its /proc/zoneinfo prints them (start_pfn, spanned, present, managed), instead of
   * the qemu `pc` layout of `mem`; `managedAtBoot` sizes the boot watermarks. `--mem` drops them.
   */
  zones?: ZoneSizeInput[];
}

/**
 * Machine-speed parameters that the pressure machinery (kswapd, reclaim, writeback) reads. They are the only
 * knobs calibrated against a real machine; the mechanism (watermarks, reserves, boost, lowmem_reserve) is the kernel's.
 */
export interface MachineSpeed {
  /** Pages kswapd or direct reclaim can scan and free per second of virtual time. */
  reclaimPagesPerSec?: number;
  /** Latency of one writeback or swap I/O, microseconds. */
  ioLatencyUs?: number;
  /** Cost of migrating one page in compaction (unmap, TLB flush, copy, remap), microseconds. Default 1.5. */
  migrateUsPerPage?: number;
}

/** The execution context of an actor's requests. softirq = atomic (never sleeps); process = may sleep. */
export type ActorContext = 'softirq' | 'hardirq' | 'process';

export interface ActorSpec {
  /** Unique name; also the comm printed in its failure reports unless `comm` is given. */
  name: string;
  /** The task name printed as `<comm>: page allocation failure`. For softirq actors: the interrupted task. */
  comm?: string;
  /**
   * `tick`: every periodMs (while on) free pages older than holdMs, then make `burst` requests (a NAPI-style refill).
   * `stream`: requests at a rate (fixed spacing or Poisson), each page held holdMs / holdMeanMs / until reclaimed.
   */
  kind: 'tick' | 'stream';
  /** The gfp mask as the kernel prints or writes it: `GFP_ATOMIC`, `GFP_KERNEL|__GFP_COMP`, `0xa20`. */
  gfp: string;
  context: ActorContext;
  /** Allocation context index (0-based, < machine.cpus). Default 0. */
  cpu?: number;
  /** Order of every request, or weights per order (index = order) for a random order per request. */
  order: number | number[];
  /** Pages requested together and freed together (e.g. 256 for a 1 MiB anonymous chunk). Default 1. */
  chunk?: number;
  startMs?: number;
  stopMs?: number;
  /** Duty cycle from startMs: on for onMs, off for offMs, repeated. Requests are only made while on. */
  duty?: { onMs: number; offMs: number };
  /** tick: interval between ticks. */
  periodMs?: number;
  /** tick: requests per tick. */
  burst?: number;
  /** stream: requests (of `chunk` pages each) per second. Alternatively `mibPerSec` for a byte rate. */
  requestsPerSec?: number;
  mibPerSec?: number;
  /** stream: 'fixed' spacing (default) or 'poisson' arrivals. */
  arrival?: 'fixed' | 'poisson';
  /** Fixed lifetime of a page (FIFO). */
  holdMs?: number;
  /** Exponentially distributed lifetime with this mean. */
  holdMeanMs?: number;
  /** Without holdMs/holdMeanMs a page is held until the run ends, reclaim takes it, or its task is killed. */
  /** Cap on pages this actor holds, in pages or as a percentage of managed memory. */
  maxHeldPages?: number;
  maxHeldPercent?: number;
  /** At the cap: 'pause' (default) stops requesting; 'replace-random' frees random held pages first. */
  onFull?: 'pause' | 'replace-random' | 'replace-oldest';
  /** stream: request rate once the cap has been reached (e.g. anonymous churn after growth). */
  requestsPerSecWhenFull?: number;
  /** Pages go on this LRU when the pressure machinery exists (file: page cache; anon: anonymous memory). */
  lru?: 'file' | 'anon';
  /** file LRU: fraction of pages written (dirty, need writeback before reclaim). */
  dirtyFraction?: number;
  /** Latency budget of one request (render frames): a request slower than this counts as a missed deadline. */
  deadlineMs?: number;
  /** A task the OOM killer may choose (its held pages are its RSS). Default: process actors are tasks. */
  oomScoreAdj?: number;
  /**
   * __GFP_EXCL actors only: an exclusive mempool (src/labyrinth/mempool.ts) of this many blocks per order the
   * actor requests, preallocated at the start with GFP_KERNEL; a request the allocator refuses takes one.
   */
  mempool?: number;
}

export interface ScenarioSpec {
  name: string;
  /** One line. */
  title: string;
  /** The story: what it reproduces and what to look at. */
  story: string;
  machine: MachineSpecInput;
  speed?: MachineSpeed;
  durationMs: number;
  /** Sampling interval of the time series. */
  sampleMs: number;
  /** Moments (ms) at which the page map of each zone is captured. Default: ¼, ½ and the end. */
  pageMapAtMs?: number[];
  actors: ActorSpec[];
  /** What the scenario is expected to show, in words (asserted by tests on seeded runs where it holds). */
  headline?: string;
}

/**
 * `512M` → bytes, with the machine builder's reading (a bare number is MiB, as `--mem 4096`), so that a
 * scenario is validated with the size it is built with.
 */
export const parseSize = parseMemSize;

/** `10s`, `1500ms`, `2m`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new BadInputError('bad-duration', `Cannot read duration "${text}": because it is not a number with ms, s or m`);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? v : unit === 's' ? v * 1000 : v * 60_000;
}

/** The sysctls `--set` and `--sweep` accept, and their VmTunables field. */
export const TUNABLES: Record<string, string> = {
  'vm.min_free_kbytes': 'minFreeKbytes',
  'vm.watermark_scale_factor': 'watermarkScaleFactor',
  'vm.watermark_boost_factor': 'watermarkBoostFactor',
  'vm.percpu_pagelist_high_fraction': 'percpuPagelistHighFraction',
  // read by the pressure machinery (compaction_suitable), not by the machine builder; 1000 = no compaction above order 3
  'vm.extfrag_threshold': 'extfragThreshold',
};

/** `vm.min_free_kbytes=4096` → ['vm.min_free_kbytes', 4096]. */
export function parseSetting(text: string): [string, number] {
  const m = /^([a-z_.]+)=(\d+)$/.exec(text.trim());
  if (!m || !(m[1]! in TUNABLES)) {
    throw new BadInputError('bad-setting', `Cannot apply "${text}": because it is not NAME=INTEGER with NAME one of ${Object.keys(TUNABLES).join(', ')}`);
  }
  return [m[1]!, Number(m[2])];
}

/** `vm.min_free_kbytes=1024,4096` → name and values. */
export function parseSweep(text: string): { name: string; values: number[] } {
  const m = /^([a-z_.]+)=([\d,\s]+)$/.exec(text.trim());
  if (!m || !(m[1]! in TUNABLES)) {
    throw new BadInputError('bad-sweep', `Cannot sweep "${text}": because it is not NAME=V1,V2,… with NAME one of ${Object.keys(TUNABLES).join(', ')}`);
  }
  const values = m[2]!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (values.length === 0) throw new BadInputError('bad-sweep', `Cannot sweep "${text}": because it lists no values`);
  return { name: m[1]!, values };
}

/** Check a scenario object (e.g. read from a user's JSON file) and fill defaults. Throws BadInputError. */
export function validateScenario(input: unknown): ScenarioSpec {
  const bad = (why: string): never => {
    throw new BadInputError('bad-scenario', `Cannot use the scenario: because ${why}`);
  };
  if (typeof input !== 'object' || input === null) bad('it is not a JSON object');
  const s = input as Partial<ScenarioSpec>;
  if (typeof s.name !== 'string' || s.name === '') bad('"name" is missing');
  if (typeof s.durationMs !== 'number' || !(s.durationMs > 0)) bad('"durationMs" must be a positive number');
  if (!Array.isArray(s.actors) || s.actors.length === 0) bad('"actors" must be a non-empty array');
  for (const k of ['title', 'story', 'headline'] as const) if (s[k] !== undefined && typeof s[k] !== 'string') bad(`"${k}" must be a string`);
  const machine = { ...DEFAULT_MACHINE, ...(s.machine ?? {}) };
  machine.tunables = { ...(s.machine?.tunables ?? {}) };
  parseSize(machine.mem);
  if (typeof machine.kernel !== 'string') bad('"machine.kernel" must be a version string such as "6.1"');
  parseKernelVersion(machine.kernel);
  if (machine.zones !== undefined && (!Array.isArray(machine.zones) || machine.zones.length === 0)) bad('"machine.zones" must be a non-empty array of zones');
  if (!Number.isInteger(machine.cpus) || machine.cpus < 1 || machine.cpus > 256) bad('"machine.cpus" must be an integer 1..256');
  for (const k of Object.keys(machine.tunables)) if (!(k in TUNABLES)) bad(`tunable "${k}" is not one of ${Object.keys(TUNABLES).join(', ')}`);
  const extfrag = machine.tunables['vm.extfrag_threshold'];
  if (extfrag !== undefined && !(Number.isInteger(extfrag) && extfrag >= 0 && extfrag <= 1000)) bad(`vm.extfrag_threshold is ${String(extfrag)} (the kernel accepts 0..1000)`);
  const names = new Set<string>();
  for (const a of s.actors!) {
    if (typeof a !== 'object' || a === null || typeof a.name !== 'string') bad('every actor needs a "name"');
    if (names.has(a.name)) bad(`actor name "${a.name}" is used twice`);
    names.add(a.name);
    if (a.kind !== 'tick' && a.kind !== 'stream') bad(`actor "${a.name}" has kind "${String(a.kind)}" (tick or stream)`);
    if (typeof a.gfp !== 'string') bad(`actor "${a.name}" needs a "gfp" string`);
    if (a.context !== 'softirq' && a.context !== 'hardirq' && a.context !== 'process') bad(`actor "${a.name}" has context "${String(a.context)}" (softirq, hardirq or process)`);
    const orders = typeof a.order === 'number' ? [a.order] : a.order;
    if (!Array.isArray(orders) || orders.length === 0 || orders.length > 11) bad(`actor "${a.name}" needs "order" 0..10 or weights for orders 0..10`);
    if (typeof a.order === 'number' && (!Number.isInteger(a.order) || a.order < 0 || a.order > 10)) bad(`actor "${a.name}" has order ${a.order} (0..10)`);
    if ((a.cpu ?? 0) >= machine.cpus) bad(`actor "${a.name}" uses cpu ${a.cpu} of ${machine.cpus}`);
    if (a.kind === 'tick' && (!(a.periodMs! > 0) || !(a.burst! > 0))) bad(`tick actor "${a.name}" needs periodMs > 0 and burst > 0`);
    if (a.kind === 'stream' && !(a.requestsPerSec! > 0) && !(a.mibPerSec! > 0)) bad(`stream actor "${a.name}" needs requestsPerSec or mibPerSec > 0`);
    if (a.holdMs !== undefined && a.holdMeanMs !== undefined) bad(`actor "${a.name}" gives both holdMs and holdMeanMs`);
    if (a.holdMeanMs !== undefined && !(typeof a.holdMeanMs === 'number' && a.holdMeanMs > 0 && a.holdMeanMs < Infinity)) {
      bad(`actor "${a.name}" has holdMeanMs ${String(a.holdMeanMs)} (a mean lifetime in ms, > 0)`);
    }
    if (a.mempool !== undefined && !(Number.isInteger(a.mempool) && a.mempool >= 0)) bad(`actor "${a.name}" has mempool ${String(a.mempool)} (a whole number ≥ 0)`);
    if (a.duty && (!(a.duty.onMs > 0) || !(a.duty.offMs >= 0))) bad(`actor "${a.name}" needs duty.onMs > 0 and duty.offMs ≥ 0`);
  }
  return {
    title: s.name!,
    story: '',
    sampleMs: Math.max(1, Math.min(1000, s.durationMs! / 200)),
    ...s,
    machine,
  } as ScenarioSpec;
}
