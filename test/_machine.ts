/** Small machines for core tests: a MachineSpec by hand, watermarks from src/zone/setup.ts. */
import { computeZoneSetup } from '../src/zone/setup.ts';
import type { MachineSpec, ZoneSpec } from '../src/zone/types.ts';
import { PageAllocator, type SlowPathHooks } from '../src/alloc/page_alloc.ts';
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from '../src/mm/constants.ts';

export interface SmallMachineOptions {
  /** Pages of DMA (pfn 1 .. 1+dma); default 4095 (16 MiB). */
  dmaPages?: number;
  /** Pages of DMA32 after pfn 4096; default 0. */
  dma32Pages?: number;
  /** Pages of Normal after pfn 1M; default 0. */
  normalPages?: number;
  nrCpus?: number;
  minFreeKbytes?: number;
  watermarkBoostFactor?: number;
  lowmemReserveRatio?: number[];
  shared?: boolean;
  hooks?: SlowPathHooks;
  /** Reserved pages at the start of each zone (present - managed). */
  reservedPages?: number;
}

export function smallSpec(o: SmallMachineOptions = {}): MachineSpec {
  const zones: ZoneSpec[] = [];
  const reserved = o.reservedPages ?? 0;
  const dma = o.dmaPages ?? 4095;
  zones.push({ node: 0, zoneIdx: ZONE_DMA, startPfn: 1, spanned: dma, present: dma, managed: dma - reserved });
  if (o.dma32Pages) {
    zones.push({ node: 0, zoneIdx: ZONE_DMA32, startPfn: 4096, spanned: o.dma32Pages, present: o.dma32Pages, managed: o.dma32Pages - reserved });
  }
  if (o.normalPages) {
    zones.push({ node: 0, zoneIdx: ZONE_NORMAL, startPfn: 1 << 20, spanned: o.normalPages, present: o.normalPages, managed: o.normalPages - reserved });
  }
  return {
    nrNodes: 1,
    nrCpus: o.nrCpus ?? 1,
    thp: false,
    zones,
    tunables: {
      minFreeKbytes: o.minFreeKbytes ?? 1024,
      watermarkScaleFactor: 10,
      watermarkBoostFactor: o.watermarkBoostFactor ?? 15000,
      lowmemReserveRatio: o.lowmemReserveRatio ?? [256, 256, 32, 0, 0],
      percpuPagelistHighFraction: 0,
    },
  };
}

export function smallMachine(o: SmallMachineOptions = {}): PageAllocator {
  const spec = smallSpec(o);
  return PageAllocator.create({ spec, watermarks: computeZoneSetup(spec).zones, shared: o.shared, hooks: o.hooks });
}
