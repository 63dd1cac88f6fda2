/** `labyrinth simulate [SCENARIO]`: run a scenario (or a sweep of one tunable) and report. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { BadInputError } from '../../errors.ts';
import { applyOverrides, loadScenario, runScenario } from '../../sim/run.ts';
import { parseSweep } from '../../sim/scenario.ts';
import { BUILTIN_SCENARIOS } from '../../sim/scenarios.ts';
import { renderSummary, renderSweepSummary } from '../../sim/report_text.ts';
import { runSweep } from '../../sim/sweep.ts';

export interface SimulateCliOptions {
  mem?: string;
  kernel?: string;
  seed?: string;
  duration?: string;
  set?: string[];
  html?: string;
  json?: boolean;
  sweep?: string;
  progress?: boolean;
  pressure?: boolean;
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new BadInputError('bad-seed', `Cannot use seed "${text}": because it is not an integer 0..4294967295`);
  return Number(text);
}

/** A progress bar on stderr, only when stderr is a terminal (CI logs and pipes stay clean). */
function progressBar(enabled: boolean): { update(f: number): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar({
    stream: process.stderr, noTTYOutput: false, hideCursor: true, clearOnComplete: true,
    format: 'simulating [{bar}] {percentage}% | {value}/{total}',
  }, cliProgress.Presets.shades_classic);
  bar.start(100, 0);
  return { update: (f) => bar.update(Math.round(f * 100)), stop: () => bar.stop() };
}

/** The HTML renderer pulls in echarts (about a second to load): only when a report is asked for. */
const loadHtml = () => import('../../sim/report_html.ts');

export async function runSimulateCommand(scenario: string | undefined, opts: SimulateCliOptions): Promise<void> {
  const seed = parseSeed(opts.seed);
  const spec = applyOverrides(loadScenario(scenario), { mem: opts.mem, kernel: opts.kernel, duration: opts.duration, set: opts.set });
  const showProgress = opts.progress !== false && !opts.json;
  if (opts.sweep !== undefined) {
    const { name, values } = parseSweep(opts.sweep);
    const bar = progressBar(showProgress);
    const points = await runSweep(spec, name, values, { seed, pressure: opts.pressure !== false, onDone: (d, t) => bar.update(d / t) });
    bar.stop();
    if (opts.html) writeFileSync(opts.html, (await loadHtml()).renderSweepHtml(name, points));
    if (opts.json) {
      process.stdout.write(JSON.stringify({
        sweep: name,
        points: points.map((p) => ({ value: p.value, minFreeKbytes: p.result.machine.minFreeKbytes, totals: p.result.totals, classes: p.result.classes, pressureCounters: p.result.pressureCounters })),
        machinery: points[0]!.result.machinery,
      }) + '\n');
    } else {
      process.stdout.write(renderSweepSummary(name, points));
      if (opts.html) process.stdout.write(`HTML report: ${opts.html}\n`);
    }
    return;
  }
  const bar = progressBar(showProgress);
  const result = runScenario(spec, { seed, pressure: opts.pressure === false ? false : undefined, onProgress: (f) => bar.update(f) });
  bar.stop();
  if (opts.html) writeFileSync(opts.html, (await loadHtml()).renderHtmlReport(result));
  if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
  else {
    process.stdout.write(renderSummary(result));
    if (opts.html) process.stdout.write(`HTML report: ${opts.html}\n`);
  }
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description(`run a scenario in virtual time and report (built in: ${Object.keys(BUILTIN_SCENARIOS).join(', ')}; or a .json file)`)
    .argument('[scenario]', 'built-in scenario name or a scenario .json file (default net-rx-storm)')
    .option('--mem <size>', 'RAM size, e.g. 512M, 1G')
    .option('--kernel <version>', 'kernel version whose rules apply (6.1 is the reference)')
    .option('--seed <n>', 'random seed (same seed, same result)', '1')
    .option('--duration <t>', 'virtual duration, e.g. 10s, 1500ms')
    .option('--set <name=value>', 'vm tunable, e.g. vm.min_free_kbytes=8192 (repeatable)', (v: string, acc: string[]) => acc.concat(v), [] as string[])
    .option('--sweep <name=v1,v2,...>', 'run once per value in parallel worker threads and compare')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--no-progress', 'no progress bar')
    .option('--no-pressure', 'run without kswapd, reclaim, compaction and OOM (the bare allocator)')
    .option('--json', 'print the result as one JSON object (identical for the same seed)')
    .action(async (scenario: string | undefined, opts: SimulateCliOptions) => {
      await runSimulateCommand(scenario, opts);
    });
}
