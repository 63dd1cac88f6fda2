/**
 * `labyrinth proc buddyinfo|pagetypeinfo|zoneinfo|vmstat`: the /proc file of a freshly booted machine,
 * in Linux 6.1's exact text (or as JSON).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { BadInputError } from '../../errors.ts';
import { renderBuddyinfo } from '../../stats/buddyinfo.ts';
import { renderPagetypeinfo } from '../../stats/pagetypeinfo.ts';
import { renderVmstat } from '../../stats/vmstat.ts';
import { renderZoneinfo } from '../../stats/zoneinfo.ts';
import {
  buddyinfoView, freeStateFromAllocator, pagetypeinfoView, vmstatView, zoneinfoView,
} from '../../zone/proc_view.ts';
import { createPageAllocator } from '../../alloc/allocator.ts';
import {
  computeZoneSetup, machineFromMem, machineFromZoneinfo, parseLowmemReserveRatio, type MachineOptions,
} from '../../zone/setup.ts';

const FILES = ['buddyinfo', 'pagetypeinfo', 'zoneinfo', 'vmstat'] as const;
type ProcFile = typeof FILES[number];

interface ProcOpts {
  mem?: string;
  like?: string;
  minFreeKbytes?: string;
  watermarkScaleFactor?: string;
  lowmemReserveRatio?: string;
  cpus?: string;
  json?: boolean;
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new BadInputError('BAD_OPTION', `Cannot use ${name} "${v}": expected a non-negative integer`);
  return Number(v.trim());
}

/** Build the machine and print one /proc file; returns the text (or JSON) to print. */
export function procOutput(file: string, opts: ProcOpts): string {
  if (!(FILES as readonly string[]).includes(file)) {
    throw new BadInputError('BAD_PROC_FILE', `Cannot print /proc/${file}: expected one of ${FILES.join(', ')}`);
  }
  if (opts.mem !== undefined && opts.like !== undefined) {
    throw new BadInputError('BAD_OPTION', 'Cannot use --mem and --like together: the machine comes from one of them');
  }
  const mo: MachineOptions = {};
  const mfk = intOption(opts.minFreeKbytes, '--min-free-kbytes');
  const wsf = intOption(opts.watermarkScaleFactor, '--watermark-scale-factor');
  const cpus = intOption(opts.cpus, '--cpus');
  if (mfk !== undefined) mo.minFreeKbytes = mfk;
  if (wsf !== undefined) mo.watermarkScaleFactor = wsf;
  if (cpus !== undefined) mo.nrCpus = cpus;
  if (opts.lowmemReserveRatio !== undefined) mo.lowmemReserveRatio = parseLowmemReserveRatio(opts.lowmemReserveRatio);
  let source: string;
  let spec;
  if (opts.like !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(opts.like === '-' ? 0 : opts.like, 'utf8');
    } catch (e) {
      throw new BadInputError('BAD_FILE', `Cannot read ${opts.like}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
    spec = machineFromZoneinfo(text, mo);
    source = `like ${opts.like}`;
  } else {
    const mem = opts.mem ?? '1G';
    spec = machineFromMem(mem, mo);
    source = `mem ${mem}`;
  }
  // Untouched tunables: the watermarks the kernel sized at boot; a written sysctl recomputes them from today's managed.
  const setup = computeZoneSetup(spec, { boot: mfk === undefined && wsf === undefined });
  // A freshly booted machine is a real allocator nobody has allocated from yet: its free lists, pageblock
  // types and per-CPU lists are read through the core's inspection hooks.
  const allocator = createPageAllocator({ mem: spec, watermarks: setup.zones });
  const state = freeStateFromAllocator(spec, allocator.kernel);
  const f = file as ProcFile;
  const data = f === 'buddyinfo' ? buddyinfoView(spec, state)
    : f === 'pagetypeinfo' ? pagetypeinfoView(spec, state)
      : f === 'zoneinfo' ? zoneinfoView(spec, setup, state)
        : vmstatView(state);
  if (opts.json === true) {
    return `${JSON.stringify({
      file: f, kernel: '6.1', source, thp: spec.thp, nrCpus: spec.nrCpus, tunables: spec.tunables,
      totalreservePages: setup.totalreservePages, [f]: data,
    })}\n`;
  }
  return f === 'buddyinfo' ? renderBuddyinfo(data as ReturnType<typeof buddyinfoView>)
    : f === 'pagetypeinfo' ? renderPagetypeinfo(data as ReturnType<typeof pagetypeinfoView>)
      : f === 'zoneinfo' ? renderZoneinfo(data as ReturnType<typeof zoneinfoView>)
        : renderVmstat(data as ReturnType<typeof vmstatView>);
}

export function register(program: Command): void {
  program
    .command('proc')
    .description('print /proc/buddyinfo, pagetypeinfo, zoneinfo or vmstat of a freshly booted machine (Linux 6.1 text)')
    .argument('<file>', FILES.join('|'))
    .option('--mem <size>', 'RAM of a qemu pc machine like the captured Debian 6.1 boots (512M, 1G, 64G); default 1G')
    .option('--like <zoneinfo>', 'take nodes and zones (spanned/present/managed/start_pfn) from a real /proc/zoneinfo ("-" for stdin)')
    .option('--min-free-kbytes <n>', 'vm.min_free_kbytes (default: the kernel\'s boot value)')
    .option('--watermark-scale-factor <n>', 'vm.watermark_scale_factor (default 10)')
    .option('--lowmem-reserve-ratio <list>', 'vm.lowmem_reserve_ratio, e.g. "256 256 32 0 0"')
    .option('--cpus <n>', 'CPUs (one pageset per CPU per zone; default 1 as in the captures)')
    .option('--json', 'print JSON')
    .action((file: string, opts: ProcOpts) => {
      process.stdout.write(procOutput(file, opts));
    });
}
