/**
 * GFP decoding cost: `node --import tsx bench/gfp_format.ts` (mitata). Masks repeat in traces and reports,
 * so the per-(table, mask) memo and the per-version cache are what is measured here.
 */
import { run, bench, summary } from 'mitata';
import { parseGfp, resolveLayout, showGfpFlags, formatGfp } from '../src/gfp/index.ts';

const MASKS = [0x140cca, 0xcc0, 0xa20, 0x2800, 0x40dc0, 0x100cca, 0x820];
const layout = resolveLayout('6.1').layout;
let i = 0;
let sink = 0;

function showWithLayout(): void { sink += showGfpFlags(MASKS[i++ % 7]!, layout).length; }
function showWithVersion(): void { sink += showGfpFlags(MASKS[i++ % 7]!, '6.1.0-13-amd64').length; }
function formatFresh(): void { sink += formatGfp((i++ * 2654435761) >>> 0, layout).length; }
function parseNames(): void { sink += parseGfp('GFP_HIGHUSER_MOVABLE|__GFP_COMP', layout); }

summary(() => {
  bench('showGfpFlags(mask, layout)', showWithLayout);
  bench('showGfpFlags(mask, "6.1.0-13-amd64")', showWithVersion);
  bench('formatGfp(random mask, layout)', formatFresh);
  bench('parseGfp("GFP_HIGHUSER_MOVABLE|__GFP_COMP", layout)', parseNames);
});
await run();
if (sink === 42) console.log('');
