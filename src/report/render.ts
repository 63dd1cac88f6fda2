/**
 * Human-readable text for `labyrinth explain` and `labyrinth fragmentation` (cold path: templates allowed).
 */
import type { Explanation, ZoneReplay } from './explain.ts';
import type { FragmentationResult } from './fragmentation.ts';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function zoneRow(z: ZoneReplay): string[] {
  const name = `${z.node === null ? '' : `${z.node}:`}${z.name}`;
  const c = z.check;
  if (c === null) return [name, String(z.freePages ?? '-'), String(z.minPages ?? '-'), '-', '-', '-', '-', '-', '-', z.outcome + (z.whyIneligible ? ` (${z.whyIneligible})` : '')];
  const eff = c.boostBypass?.effectiveMin ?? c.effectiveMin;
  const markText = c.boostBypass ? `${c.mark}→${c.boostBypass.mark}` : String(c.mark);
  const block = c.blockOk === null ? '-' : c.blockOk ? `yes@${c.blockOrder}` : 'no';
  return [name, String(z.freePages), markText, String(eff), String(c.lowmemReserve), String(c.unusable), String(c.usableFree), String(eff + c.lowmemReserve), block, z.outcome];
}

export function renderExplanation(e: Explanation, index: number, total: number): string {
  const out: string[] = [];
  out.push(`Report ${index + 1}/${total} (line ${e.startLine}): ${e.comm}: order ${e.order}, mode ${e.mode}${e.modeNames !== null ? `(${e.modeNames})` : ''}`);
  out.push(`  kernel     ${e.kernel ?? 'unknown'}${e.kernelSource === 'option' ? ' (--kernel)' : e.kernelSource === 'unknown' ? ' (assumed rules)' : ''}; watermark rules ${e.rules}`);
  out.push(`  context    ${e.context}; ${e.mayBlock ? 'may sleep (direct reclaim)' : 'cannot sleep'}; highest zone ${e.highestZone ?? 'invalid'}`);
  out.push(`  alloc      ${e.allocFlagNames.join('|')} (0x${e.allocFlags.toString(16)}): must stay above ${e.watermarkFraction === '1' ? 'the full' : e.watermarkFraction + ' of'} min`);
  if (e.zones.length > 0) {
    out.push('');
    out.push('  Replayed watermark check, zonelist order (pages):');
    const rows = [['zone', 'free', 'min', 'floor', 'lowmem_res', 'unusable', 'usable', 'need >', 'block', 'outcome'], ...e.zones.map(zoneRow)];
    out.push(table(rows).split('\n').map((l) => `    ${l}`).join('\n'));
  }
  out.push('');
  out.push(`  Verdict: ${e.verdict.kind}`);
  out.push(`    ${e.verdict.text}`);
  if (e.verdict.reasons && e.verdict.reasons.length > 1) {
    out.push('    Other possible reasons:');
    for (const r of e.verdict.reasons.slice(1)) out.push(`      - ${r}`);
  }
  if (e.remedies.length > 0) {
    out.push('');
    out.push('  Remedies:');
    for (const r of e.remedies) out.push(`    - [${r.kind}] ${r.text}`);
  }
  if (e.notes.length > 0) {
    out.push('');
    out.push('  Notes:');
    for (const n of e.notes) out.push(`    - ${n}`);
  }
  return out.join('\n');
}

export function renderFragmentation(f: FragmentationResult): string {
  const out: string[] = [];
  out.push(`# source: ${f.source}`);
  out.push('# /sys/kernel/debug/extfrag/unusable_index');
  out.push(f.unusableIndexText.trimEnd());
  out.push('# /sys/kernel/debug/extfrag/extfrag_index');
  out.push(f.extfragIndexText.trimEnd());
  for (const n of f.notes) out.push(`# note: ${n}`);
  return out.join('\n');
}
