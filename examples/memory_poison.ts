/**
 * Page poisoning catches a use after free, and reports it as the kernel does.
 * Run: node --import tsx examples/memory_poison.ts
 */
import { createAllocator, GFP_KERNEL } from '../src/index.ts';

const mm = createAllocator({
  memory: '128M',
  pagePoisoning: true,                 // like booting with page_poison=1
  onCorruption: (c) => console.log(c.lines.join('\n')),
});
const p = mm.allocPages(GFP_KERNEL, 0);
const stale = mm.bytes(p);             // a view kept past the free
mm.freePages(p, 0);                    // the page is filled with PAGE_POISON (0xaa)
stale[8] = 0x4c;                       // use after free
const again = mm.allocPages(GFP_KERNEL, 0);   // the same page comes back: the poison check fires
console.log(`reallocated the same page: ${again === p}; corruptions found: ${mm.corruptions()}`);
