/**
 * Labyrinth extension costs (mitata p50 per pair, each contender in its own function): an order-0 core
 * alloc+free pair beside the same pair through a labyrinth task with __GFP_ACCOUNT (charge + uncharge) and an
 * exclusive order-0 block (key minted and revoked, page zeroed in and out of a real ArrayBuffer, charged).
 * Run: node --import tsx bench/labyrinth.ts
 */
import { measure } from 'mitata';
import { createPageAllocator } from '../src/alloc/allocator.ts';
import { Labyrinths, type LabyrinthTask } from '../src/labyrinth/domain.ts';
import { ArrayBufferPageBytes } from '../src/labyrinth/page_bytes.ts';
import { ExclusiveKey } from '../src/labyrinth/exclusive.ts';
import type { PageAllocator } from '../src/alloc/page_alloc.ts';
import { GFP_ATOMIC, GFP_KERNEL, GFP_KERNEL_ACCOUNT, __GFP_EXCL } from '../src/gfp/bits.ts';

function setup(): { a: PageAllocator; t: LabyrinthTask } {
  const a = createPageAllocator({ mem: '1G' }).kernel;
  const labs = new Labyrinths(a, { bytes: new ArrayBufferPageBytes(a.mm.nrPfn) });
  return { a, t: labs.create('bench').spawn('bench') };
}

async function corePair(): Promise<number> {
  const { a } = setup();
  return (await measure(() => { const p = a.alloc_pages(GFP_KERNEL, 0, 0); a.__free_pages(p, 0, 0); })).p50;
}

async function accountedPair(): Promise<number> {
  const { t } = setup();
  return (await measure(() => { const p = t.allocPages(GFP_KERNEL_ACCOUNT, 0); t.freePages(p, 0); })).p50;
}

async function exclusivePair(): Promise<number> {
  const { t } = setup();
  return (await measure(() => { const k = t.allocExclusive(GFP_ATOMIC | __GFP_EXCL, 0); if (k instanceof ExclusiveKey) t.freeExclusive(k); })).p50;
}

const r = { corePairNs: await corePair(), accountedPairNs: await accountedPair(), exclusivePairNs: await exclusivePair() };
console.log(`order-0 core alloc+free                 ${r.corePairNs.toFixed(0).padStart(7)} ns`);
console.log(`order-0 GFP_KERNEL_ACCOUNT via a task    ${r.accountedPairNs.toFixed(0).padStart(7)} ns`);
console.log(`order-0 exclusive (key, wipe x2, charge) ${r.exclusivePairNs.toFixed(0).padStart(7)} ns`);
console.log(JSON.stringify(r));
