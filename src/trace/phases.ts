/**
 * Where a replay compares with real snapshots (replay-notes §3): at each trace_marker line, and at the end of the
 * process that read /proc/buddyinfo for the snapshot taken after it. The capture scripts write the marker, then
 * `cat` meminfo, zoneinfo and buddyinfo: the reader is the 3rd `cat` process after the marker. Its window holds
 * no buddy events, so the state there is the state the kernel printed.
 * Also: the matching of markers to snapshot directories.
 */
import { EV_MARKER, type TraceEvents } from './events.ts';

export interface PhaseMarker {
  /** row of the tracing_mark_write event */
  row: number;
  line: number;
  ts: number;
  text: string;
  /** last row of the snapshot's buddyinfo reader, -1 when no such reader follows before the next marker */
  readerEnd: number;
  /** pid of that reader, -1 when none */
  readerPid: number;
}

export interface ReaderOptions {
  /** task name of the snapshot readers (default "cat") */
  readerComm?: string;
  /** which reader after the marker reads buddyinfo, 1-based (default 3: meminfo, zoneinfo, buddyinfo) */
  readerNth?: number;
}

/** The markers of a trace, each with the end of its buddyinfo reader when one follows. */
export function phaseMarkers(e: TraceEvents, o: ReaderOptions = {}): PhaseMarker[] {
  const comm = o.readerComm ?? 'cat';
  const nth = o.readerNth ?? 3;
  const commId = e.comms.indexOf(comm);
  const rows = [...e.markers.keys()].sort((a, b) => a - b);
  const out: PhaseMarker[] = [];
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const next = k + 1 < rows.length ? rows[k + 1]! : e.length;
    let readerPid = -1;
    let readerEnd = -1;
    if (commId >= 0) {
      const seen: number[] = [];
      for (let i = row + 1; i < next; i++) {
        if (e.comm[i] === commId && !seen.includes(e.pid[i]!)) {
          seen.push(e.pid[i]!);
          if (seen.length === nth) { readerPid = e.pid[i]!; break; }
        }
      }
      if (readerPid >= 0) for (let i = row + 1; i < next; i++) if (e.pid[i] === readerPid && e.type[i] !== EV_MARKER) readerEnd = i;
    }
    out.push({ row, line: e.line[row]!, ts: e.ts[row]!, text: e.markers.get(row)!, readerEnd, readerPid });
  }
  return out;
}

/**
 * Matches markers to snapshot directory names (`NN_words`), in order: a marker "… phase X Y" takes the first
 * unused later directory whose words contain X and either Y or, for Y = "end", nothing more specific.
 * Returns, per marker, the directory name or undefined.
 */
export function matchSnapshots(markers: readonly PhaseMarker[], dirs: readonly string[]): Array<string | undefined> {
  const sorted = [...dirs].sort();
  let next = 0;
  return markers.map((m) => {
    const words = m.text.trim().split(/\s+/);
    const pi = words.indexOf('phase');
    if (pi < 0 || pi + 2 >= words.length + 1) return undefined;
    const phase = words[pi + 1];
    const what = words[pi + 2] ?? 'end';
    if (phase === undefined || what === 'begin') return undefined;
    for (let k = next; k < sorted.length; k++) {
      const dw = sorted[k]!.replace(/^\d+_/, '').split('_');
      if (!dw.includes(phase)) continue;
      if (dw.includes(what) || (what === 'end' && dw.every((w) => w === phase || w === 'after'))) {
        next = k + 1;
        return sorted[k];
      }
    }
    return undefined;
  });
}
