/**
 * Builds the allocator a simulation runs on, from a scenario's machine (size, CPUs, kernel, vm tunables): the
 * zone layout of src/zone/setup.ts and the core PageAllocator (src/alloc/page_alloc.ts), behind SimAllocator.
 */
import { computeZoneSetup, machineFromMem, machineFromZoneSizes, type MachineOptions } from '../zone/setup.ts';
import { MAX_ORDER, MIGRATE_TYPES, PAGE_SIZE, pageblock_nr_pages, pageblock_order } from '../mm/constants.ts';
import { renderWarnAlloc, type MemInfoZone, type ShowMemInput } from '../report/warn_alloc.ts';
import type { FailedRequest, SimAllocator, SimZoneInfo } from './machinery.ts';
import type { MachineSpecInput } from './scenario.ts';
import type { MachineSpec } from '../zone/types.ts';
import { formatGfp } from '../gfp/index.ts';
import { Labyrinths } from '../labyrinth/domain.ts';
import { PageAllocator } from '../alloc/page_alloc.ts';
import { PG_buddy, orderOf } from '../mm/page_flags.ts';

/** The core allocator seen through the simulator's seam. Zone index i of the seam = populated zone slot slots[i]. */
export class CoreSimAllocator implements SimAllocator {
  readonly zones: SimZoneInfo[];
  readonly nrCpus: number;
  readonly minFreeKbytes: number;
  private readonly slots: number[];

  constructor(readonly pa: PageAllocator, readonly spec: MachineSpec) {
    this.nrCpus = pa.nrCpus;
    this.minFreeKbytes = spec.tunables.minFreeKbytes;
    this.slots = [];
    this.zones = [];
    for (let z = 0; z < pa.nrZones; z++) {
      const info = pa.zone(z);
      if (info.managed === 0) continue;
      this.slots.push(z);
      this.zones.push({ zoneIdx: info.type, name: info.name, node: info.node, startPfn: info.startPfn, spanned: info.spanned, managed: info.managed });
    }
  }

  allocPages(gfp: number, order: number, cpu: number): number {
    return this.pa.alloc_pages(gfp, order, cpu);
  }

  freePages(pfn: number, order: number, cpu: number): void {
    this.pa.__free_pages(pfn, order, cpu);
  }

  zoneFreePages(i: number): number {
    return this.pa.nrFreePages(this.slots[i]!);
  }

  zoneWatermarks(i: number, out: Float64Array): void {
    const w = this.pa.watermarks(this.slots[i]!);
    out[0] = w.min; out[1] = w.low; out[2] = w.high; out[3] = w.boost;
  }

  zoneFreeBlocks(i: number, order: number): number {
    return this.pa.nrFree(this.slots[i]!, order);
  }

  pageblockMap(i: number): { migratetype: Uint8Array; freePages: Uint16Array } {
    const z = this.zones[i]!;
    const m = this.pa.mm;
    const firstPb = z.startPfn >>> pageblock_order;
    const endPfn = z.startPfn + z.spanned;
    const nPb = Math.ceil(endPfn / pageblock_nr_pages) - firstPb;
    const mt = new Uint8Array(nPb);
    const fp = new Uint16Array(nPb);
    for (let b = 0; b < nPb; b++) mt[b] = m.pbmt[firstPb + b]!;
    let p = z.startPfn;
    while (p < endPfn) {
      if ((m.flags[p]! & PG_buddy) !== 0) {
        const n = 1 << orderOf(m.order[p]!);
        for (let q = p; q < p + n; q += Math.min(n, pageblock_nr_pages)) {
          fp[(q >>> pageblock_order) - firstPb]! += Math.min(n, pageblock_nr_pages);
        }
        p += n;
      } else p++;
    }
    return { migratetype: mt, freePages: fp };
  }

  buddyinfo(): string {
    let s = '';
    for (let i = 0; i < this.zones.length; i++) {
      const z = this.zones[i]!;
      s += `Node ${z.node}, zone ${z.name.padStart(8)} `;
      for (let o = 0; o < MAX_ORDER; o++) s += String(this.pa.nrFree(this.slots[i]!, o)).padStart(6) + ' ';
      s += '\n';
    }
    return s;
  }

  warnAllocReport(r: FailedRequest): string {
    return renderWarnAlloc({
      comm: r.comm, pid: r.pid, cpu: r.cpu, order: r.order, gfp: r.gfp, gfpNames: formatGfp(r.gfp, '6.1'),
      nodemask: null, cpuset: '/', memsAllowed: '0', inInterrupt: r.inInterrupt,
    }, this.showMemInput()).join('\n');
  }

  /** What show_mem prints, from the core's gauges (LRU, slab and the like are 0 until reclaim tracks them). */
  showMemInput(): ShowMemInput {
    const pa = this.pa;
    let free = 0, freePcp = 0;
    const zones: MemInfoZone[] = [];
    for (let z = 0; z < pa.nrZones; z++) {
      const info = pa.zone(z);
      if (info.managed === 0) continue;
      const w = pa.watermarks(z);
      const g = pa.zoneGauges(z);
      const pcp = pa.freePcp(z);
      free += g.nrFreePages;
      freePcp += pcp;
      const nrFree: number[] = [];
      const typesMask: number[] = [];
      for (let o = 0; o < MAX_ORDER; o++) {
        nrFree.push(pa.nrFree(z, o));
        let mask = 0;
        for (let mt = 0; mt < MIGRATE_TYPES; mt++) if (pa.nrFreeMt(z, o, mt) > 0) mask |= 1 << mt;
        typesMask.push(mask);
      }
      zones.push({
        node: info.node, zoneIdx: info.type, free: g.nrFreePages, boost: g.watermarkBoost,
        wmarkMin: w.min, wmarkLow: w.low, wmarkHigh: w.high, reservedHighatomic: g.nrReservedHighatomic,
        activeAnon: 0, inactiveAnon: 0, activeFile: 0, inactiveFile: 0, unevictable: 0, writePending: 0,
        present: info.present, managed: info.managed, mlocked: 0, bounce: 0, freePcp: pcp, localPcp: pa.pcp(z, 0).count, freeCma: 0,
        lowmemReserve: w.lowmemReserve, nrFree, typesMask,
      });
    }
    const pagesRam = this.spec.zones.reduce((s, z) => s + z.present, 0);
    const managed = this.spec.zones.reduce((s, z) => s + z.managed, 0);
    return {
      global: {
        activeAnon: 0, inactiveAnon: 0, isolatedAnon: 0, activeFile: 0, inactiveFile: 0, isolatedFile: 0,
        unevictable: 0, dirty: 0, writeback: 0, slabReclaimable: 0, slabUnreclaimable: 0, mapped: 0, shmem: 0,
        pagetables: 0, secPagetables: 0, bounce: 0, kernelMiscReclaimable: 0, free, freePcp, freeCma: 0,
      },
      nodes: [{
        node: 0, activeAnon: 0, inactiveAnon: 0, activeFile: 0, inactiveFile: 0, unevictable: 0, isolatedAnon: 0,
        isolatedFile: 0, mapped: 0, dirty: 0, writeback: 0, shmem: 0, shmemThp: 0, shmemPmdmapped: 0, anonThp: 0,
        writebackTmp: 0, kernelStackKb: 0, pagetables: 0, secPagetables: 0, allUnreclaimable: false,
      }],
      zones,
      totals: {
        hugepages: [{ node: 0, total: 0, free: 0, surp: 0, sizeKb: 2048 }], totalPagecache: 0, swapCache: 0,
        freeSwapKb: 0, totalSwapKb: 0, pagesRam, pagesHighMemMovableOnly: 0, pagesReserved: pagesRam - managed, pagesHwpoisoned: 0,
      },
    } as ShowMemInput;
  }

  vmstat(): Record<string, number> {
    return this.pa.vmEvents();
  }

  createLabyrinths(): Labyrinths {
    return new Labyrinths(this.pa);
  }

  keylessReachable(pfn: number, order: number): boolean {
    const pa = this.pa;
    // The refusals' own test, without building the error they would throw: page_address(p) refuses exactly when
    // pageOffDirectMap(p), and virt_to_page(addr) exactly when pageOffDirectMap(__virt_to_pfn(addr))
    // (test/labyrinth_security.test.ts checks the two agree on every pfn).
    for (let p = pfn; p < pfn + (1 << order); p++) {
      if (!pa.pageOffDirectMap(p)) return true; // page_address would hand out its direct-map address
      if (!pa.pageOffDirectMap(pa.__virt_to_pfn(pa.pageOffset + p * PAGE_SIZE))) return true; // virt_to_page would resolve it
    }
    return false;
  }
}

/** The machine of a scenario on the core allocator. */
export function createSimAllocator(machine: MachineSpecInput): CoreSimAllocator {
  const t = machine.tunables;
  const o: MachineOptions = { nrCpus: machine.cpus };
  if (t['vm.min_free_kbytes'] !== undefined) o.minFreeKbytes = t['vm.min_free_kbytes'];
  if (t['vm.watermark_scale_factor'] !== undefined) o.watermarkScaleFactor = t['vm.watermark_scale_factor'];
  if (t['vm.watermark_boost_factor'] !== undefined) o.watermarkBoostFactor = t['vm.watermark_boost_factor'];
  if (t['vm.percpu_pagelist_high_fraction'] !== undefined) o.percpuPagelistHighFraction = t['vm.percpu_pagelist_high_fraction'];
  const spec = machine.zones ? machineFromZoneSizes(machine.zones, o) : machineFromMem(machine.mem, o);
  // Untouched min_free_kbytes: the watermarks a freshly booted kernel has (sized before init memory was freed);
  // a written value recomputes them from the final managed counts (linux-6.1-qemu and -atomic READMEs).
  const setup = computeZoneSetup(spec, { boot: t['vm.min_free_kbytes'] === undefined });
  const pa = PageAllocator.create({ spec, watermarks: setup.zones });
  return new CoreSimAllocator(pa, spec);
}
