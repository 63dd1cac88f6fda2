/** The 6.1 slow-path reserve flags of a mask, reduced to what the toy allocator needs. */
import { ALLOC_HARDER, ALLOC_HIGH } from '../src/gfp/alloc_flags.ts';
import { __GFP_ATOMIC, __GFP_HIGH, __GFP_NOMEMALLOC } from '../src/gfp/bits.ts';

export function gfpToFastFlags(gfp: number): number {
  let f = 0;
  if (gfp & __GFP_HIGH) f |= ALLOC_HIGH;
  if ((gfp & __GFP_ATOMIC) && !(gfp & __GFP_NOMEMALLOC)) f |= ALLOC_HARDER;
  return f;
}
