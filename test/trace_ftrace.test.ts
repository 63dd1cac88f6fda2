import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FtraceParser, parseTrace } from '../src/trace/ftrace.ts';
import {
  EVENT_NAMES, EV_ALLOC_EXTFRAG, EV_ALLOC_ZONE_LOCKED, EV_COMPACTION_BEGIN, EV_KSWAPD_WAKE, EV_MARKER,
  EV_PAGE_ALLOC, EV_PAGE_FREE, EV_PAGE_FREE_BATCHED, EV_PCPU_DRAIN, TF_IRQS_OFF, TF_SOFTIRQ, type TraceEvents,
} from '../src/trace/events.ts';
import { BadInputError } from '../src/errors.ts';
import { FIXTURES, QEMU, ROOT } from './_shared.ts';

const OWN = path.join(ROOT, 'test', 'fixtures', 'trace');

/** The first `bytes` of the real 512M trace (whole lines only). */
function qemuSample(bytes: number): string {
  const text = execSync(`xz -dc ${path.join(QEMU, '512M', 'trace.txt.xz')} | head -c ${bytes}`, { maxBuffer: bytes * 2 }).toString('latin1');
  return text.slice(0, text.lastIndexOf('\n') + 1);
}

/** A slow, independent reading of one event line with regular expressions: the oracle for the byte scanner. */
function reference(line: string): { name: string; pid: number; cpu: number; ts: number; fields: Record<string, string> } | null {
  const m = /^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(?:\S{4,6}\s+)?(\d+\.\d+):\s+(\w+):\s*(.*)$/.exec(line);
  if (m === null) return null;
  const fields: Record<string, string> = {};
  for (const kv of m[6]!.split(/\s+/)) {
    const k = kv.indexOf('=');
    if (k > 0) fields[kv.slice(0, k)] = kv.slice(k + 1).replace(/,$/, '');
  }
  return { name: m[5]!, pid: Number(m[2]), cpu: Number(m[3]), ts: Number(m[4]), fields };
}

const sample = qemuSample(600_000);

test('ftrace_text_columns_match_an_independent_regex_reading (real 6.1 trace, hex pfn)', () => {
  const { events: e, stats } = parseTrace(sample);
  assert.equal(stats.format, 'ftrace');
  assert.equal(stats.malformed, 0);
  const lines = sample.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(e.length, lines.length);
  assert.ok(e.length > 3000, `only ${e.length} events`);
  for (let i = 0; i < lines.length; i++) {
    const r = reference(lines[i]!)!;
    assert.ok(r, lines[i]);
    assert.equal(EVENT_NAMES[e.type[i]!], r.name, lines[i]);
    assert.equal(e.pid[i], r.pid);
    assert.equal(e.cpu[i], r.cpu);
    assert.ok(Math.abs(e.ts[i]! - r.ts) < 1e-9);
    if (r.fields['pfn'] !== undefined) assert.equal(e.pfn[i], Number(r.fields['pfn']), lines[i]);
    const order = r.fields['order'] ?? r.fields['alloc_order'];
    if (order !== undefined) assert.equal(e.order[i], Number(order));
    const mt = r.fields['migratetype'] ?? r.fields['alloc_migratetype'];
    if (mt !== undefined) assert.equal(e.mt[i], Number(mt));
    if (r.fields['gfp_flags'] !== undefined) assert.equal(e.gfps[e.gfp[i]!], r.fields['gfp_flags']);
    if (r.name === 'mm_page_alloc_zone_locked') assert.equal(e.aux[i], Number(r.fields['percpu_refill']));
    const task = /^\s*(.*?)-\d+\s+\[/.exec(lines[i]!)![1]!;
    assert.equal(e.comms[e.comm[i]!], task);
  }
  const marker = [...e.markers.values()][0];
  assert.equal(marker, 'ORACLE phase mixed begin');
});

test('chunking_does_not_change_the_result: any split of the input into chunks parses the same', () => {
  const bytes = new TextEncoder().encode(sample.slice(0, sample.indexOf('\n', 60_000) + 1));
  const whole = parseTrace(bytes).events;
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }), (cuts) => {
    const at = [0, ...[...new Set(cuts)].sort((a, b) => a - b), bytes.length];
    const p = new FtraceParser();
    for (let k = 0; k + 1 < at.length; k++) p.push(bytes.subarray(at[k]!, at[k + 1]!));
    const e = p.end().events;
    assert.equal(e.length, whole.length);
    assert.deepEqual(e.pfn, whole.pfn);
    assert.deepEqual(e.line, whole.line);
    assert.deepEqual(e.ts, whole.ts);
  }), { numRuns: 30 });
});

test('latency_flags_are_decoded (irqs-off, softirq, preempt depth)', () => {
  const { events: e } = parseTrace(sample);
  const i = e.type.findIndex((t) => t === EV_ALLOC_ZONE_LOCKED);
  assert.equal(e.flags[i]! & TF_IRQS_OFF, TF_IRQS_OFF); // "d..3."
  assert.equal(e.flags[i]! & 0x0f, 3);
  const one = parseTrace('  sh-9 [000] .Ns3. 1.000001: mm_page_free: page=(____ptrval____) pfn=0x10 order=0\n').events;
  assert.equal(one.flags[0]! & TF_SOFTIRQ, TF_SOFTIRQ);
  assert.equal(one.flags[0]! & 0x0f, 3);
});

test('trace_cmd_report_output_parses', () => {
  const { events: e, stats } = parseTrace(readFileSync(path.join(OWN, 'trace-cmd.txt')));
  assert.equal(stats.format, 'trace-cmd');
  assert.equal(stats.malformed, 0);
  assert.deepEqual(Array.from(e.type), [EV_PAGE_ALLOC, EV_ALLOC_ZONE_LOCKED, EV_PAGE_FREE, EV_PCPU_DRAIN, EV_KSWAPD_WAKE, EV_MARKER]);
  assert.deepEqual(Array.from(e.pfn.subarray(0, 4)), [1266868, 1266872, 1266868, 1266872]); // decimal pfn
  assert.equal(e.comms[e.comm[0]!], '<idle>');
  assert.equal(e.comms[e.comm[3]!], 'kworker/0:1');
  assert.equal(e.order[4], 3);
  assert.equal(e.markers.get(5), 'phase one end');
});

test('perf_script_output_parses (comm pid, pid/tid, subsystem prefix, hex pfn)', () => {
  const { events: e, stats } = parseTrace(readFileSync(path.join(OWN, 'perf-script.txt')));
  assert.equal(stats.format, 'perf');
  assert.deepEqual(Array.from(e.type), [EV_PAGE_ALLOC, EV_PAGE_FREE, EV_ALLOC_ZONE_LOCKED, EV_PCPU_DRAIN]);
  assert.deepEqual(Array.from(e.pid), [4120, 4121, 811, 0]);
  assert.equal(e.comms[e.comm[2]!], 'kworker/u16:3-ev');
  assert.equal(e.pfn[0], 0x16e294);
  assert.equal(e.order[2], 3);
  assert.equal(e.mt[3], 2);
});

test('perf_callchains_give_the_first_frame_outside_the_allocator_as_callsite', () => {
  const { events: e } = parseTrace(readFileSync(path.join(OWN, 'perf-callchain.txt')));
  assert.equal(e.length, 2);
  assert.equal(e.callsites.get(0), 'kmalloc_large_node');
  assert.equal(e.callsites.get(1), 'do_anonymous_page');
});

test('old_kernels_decimal_pfn_4_char_flags_old_event_names_null_page_crlf_lost_events', () => {
  const { events: e, stats } = parseTrace(readFileSync(path.join(OWN, 'old-decimal-crlf.txt')));
  assert.equal(stats.malformed, 0);
  assert.equal(stats.lostEvents, 17);
  assert.deepEqual(Array.from(e.type), [EV_PAGE_FREE, EV_PAGE_ALLOC, EV_ALLOC_ZONE_LOCKED, EV_PAGE_FREE, EV_PAGE_FREE_BATCHED, EV_PAGE_ALLOC, EV_COMPACTION_BEGIN]);
  assert.deepEqual(Array.from(e.pfn.subarray(0, 5)), [475945, 475946, 475947, 475946, 475947]);
  assert.equal(e.pfn[5], -1); // page=(null): a failed order-4 allocation
  assert.equal(e.order[5], 4);
  assert.equal(e.flags[0]! & TF_SOFTIRQ, TF_SOFTIRQ);
  assert.equal(e.flags[0]! & 0x0f, 2);
  assert.equal(e.extra.get(6)!['free_pfn'], '0x1fe00');
  assert.equal(e.extra.get(6)!['zone_end'], '0x1ffdd');
  assert.equal(e.extra.get(6)!['mode'], 'sync');
});

test('shared_trace_excerpts: a mail excerpt with an elision line, and bare commit-message lines', () => {
  const t1 = readFileSync(path.join(FIXTURES, 'traces', '001.txt'));
  assert.throws(() => parseTrace(t1), (err: unknown) => err instanceof BadInputError && err.line === 2 && err.code === 'TRACE_NO_CPU');
  const r1 = parseTrace(t1, { tolerant: true });
  assert.equal(r1.stats.malformed, 1);
  assert.equal(r1.stats.otherEvents['iomap_finish_ioend'], 2);
  assert.equal(r1.events.length, 1);
  assert.equal(r1.events.pfn[0], 0x182190);
  assert.equal(r1.events.order[0], 2);
  const r2 = parseTrace(readFileSync(path.join(FIXTURES, 'traces', '002.txt')));
  assert.deepEqual(Array.from(r2.events.pfn), [0x1d1ac1, 0x122233]);
  assert.deepEqual(r2.events.gfps, ['0x140cca', 'GFP_HIGHUSER_MOVABLE|__GFP_COMP']);
});

test('extfrag_fields_are_packed_into_aux', () => {
  const line = '  dd-607 [000] d..3. 4.181345: mm_page_alloc_extfrag: page=(____ptrval____) pfn=0xb400 alloc_order=0 fallback_order=10 pageblock_order=9 alloc_migratetype=0 fallback_migratetype=1 fragmenting=0 change_ownership=1\n';
  const e = parseTrace(line).events;
  assert.equal(e.type[0], EV_ALLOC_EXTFRAG);
  assert.equal(e.order[0], 0);
  assert.equal(e.mt[0], 0);
  assert.equal(e.aux[0]! & 0xff, 10);
  assert.equal((e.aux[0]! >> 8) & 0xff, 1);
  assert.equal((e.aux[0]! >> 16) & 1, 1);
});

test('malformed_lines_are_typed_errors_with_line_numbers; tolerant mode counts them', () => {
  const good = '  sh-9 [000] ..... 1.000001: mm_page_free: page=(____ptrval____) pfn=0x10 order=0\n';
  const cases: Array<[string, string]> = [
    ['  sh-9 [000] ..... 1.000002: mm_page_free: page=(____ptrval____) pfn=0xZZ order=0\n', 'TRACE_BAD_FIELD'],
    ['  sh-9 [000] ..... 1.000002: mm_page_free: page=(____ptrval____) order=0\n', 'TRACE_MISSING_FIELD'],
    ['  sh-9 [000] ..... 1.000002: mm_page_alloc: pfn=0x10 migratetype=1\n', 'TRACE_MISSING_FIELD'],
    ['  sh-9 [000] ..... nonsense: mm_page_free: pfn=0x10 order=0\n', 'TRACE_BAD_TIMESTAMP'],
    ['  sh-9 [000] ..... 1.000002 mm_page_free pfn=0x10 order=0\n', 'TRACE_BAD_TIMESTAMP'],
    ['  sh-9 [000] ..... 1.000002: \n', 'TRACE_BAD_EVENT'],
    ['  sh [000] ..... 1.000002: mm_page_free: pfn=0x10 order=0\n', 'TRACE_BAD_PID'],
    ['garbage without structure\n', 'TRACE_NO_CPU'],
  ];
  for (const [bad, code] of cases) {
    assert.throws(() => parseTrace(good + bad + good), (err: unknown) => {
      assert.ok(err instanceof BadInputError, String(err));
      assert.equal(err.code, code, bad);
      assert.equal(err.line, 2);
      assert.match(err.message, /^line 2: Cannot parse trace line/);
      return true;
    });
    const r = parseTrace(good + bad + good, { tolerant: true });
    assert.equal(r.stats.malformed, 1);
    assert.equal(r.stats.errors[0]!.line, 2);
    assert.equal(r.events.length, 2);
  }
});

test('fuzzed_mutations_of_real_lines_give_events_or_typed_errors_only', () => {
  const lines = sample.split('\n').filter((l) => l !== '' && !l.startsWith('#')).slice(0, 400);
  const extras = readFileSync(path.join(OWN, 'old-decimal-crlf.txt'), 'latin1').split('\n').concat(
    readFileSync(path.join(OWN, 'perf-script.txt'), 'latin1').split('\n'),
    readFileSync(path.join(OWN, 'trace-cmd.txt'), 'latin1').split('\n'));
  const pool = lines.concat(extras);
  const mutation = fc.record({
    line: fc.integer({ min: 0, max: pool.length - 1 }),
    ops: fc.array(fc.record({
      kind: fc.constantFrom('insert', 'delete', 'replace', 'truncate', 'duplicate'),
      at: fc.nat(),
      byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(32, 58, 61, 91, 93, 45, 48, 120, 10, 13)),
    }), { minLength: 1, maxLength: 6 }),
  });
  fc.assert(fc.property(mutation, fc.boolean(), ({ line, ops }, tolerant) => {
    let b = Array.from(new TextEncoder().encode(pool[line]!));
    for (const op of ops) {
      const at = b.length === 0 ? 0 : op.at % (b.length + 1);
      if (op.kind === 'insert') b.splice(at, 0, op.byte);
      else if (op.kind === 'delete') b.splice(at, 1);
      else if (op.kind === 'replace') b[at] = op.byte;
      else if (op.kind === 'truncate') b = b.slice(0, at);
      else b = b.concat(b.slice(at));
    }
    const input = Uint8Array.from([...new TextEncoder().encode(lines[0]! + '\n'), ...b, 10]);
    try {
      const r = parseTrace(input, { tolerant });
      checkColumns(r.events);
    } catch (err) {
      assert.ok(err instanceof BadInputError, `not a typed error: ${String(err)}`);
      assert.ok(err.line !== undefined && err.line >= 1);
      assert.ok(!tolerant, 'tolerant mode threw');
    }
  }), { numRuns: 3000 });
});

function checkColumns(e: TraceEvents): void {
  for (let i = 0; i < e.length; i++) {
    assert.ok(e.type[i]! < EVENT_NAMES.length);
    assert.ok(Number.isFinite(e.pfn[i]!));
    if (e.type[i]! <= EV_PCPU_DRAIN) assert.ok(e.order[i]! >= 0);
  }
}

test('every linux-6.1-atomic trace parses whole: rows = trace_stats entries, vmscan/compaction fields read', async () => {
  const { readdirSync, existsSync } = await import('node:fs');
  const { parseTraceFile } = await import('../src/trace/trace_file.ts');
  const root = path.join(FIXTURES, 'linux-6.1-atomic', '512M');
  const runs = readdirSync(root).filter((d) => existsSync(path.join(root, d, 'trace.txt.xz')));
  assert.ok(runs.length >= 17, `${runs.length} runs`);
  for (const run of runs) {
    const entries = Number(/entries:\s*(\d+)/.exec(readFileSync(path.join(root, run, 'trace_stats.txt'), 'utf8'))![1]);
    const { events: e, stats } = await parseTraceFile(path.join(root, run, 'trace.txt.xz'));
    assert.equal(stats.malformed, 0, run);
    assert.equal(e.length, entries, run);
    assert.deepEqual(stats.otherEvents, {}, run);
    assert.ok([...e.markers.values()].some((m) => m.startsWith('ATOMIC storm')), run);
    for (let i = 0; i < e.length; i++) {
      if (e.type[i] === EV_KSWAPD_WAKE) assert.ok(e.order[i]! >= 0 && e.extra.get(i)!['nid'] === '0');
      if (e.type[i] === EV_COMPACTION_BEGIN) assert.match(e.extra.get(i)!['zone_start']!, /^0x[0-9a-f]+$/);
    }
  }
});
