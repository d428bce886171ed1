/**
 * `npm run bench:engine`: the two in-memory benchmarks of docs/design.md §11, each against a hand-written loop over the
 * same generator, measured in the same process. Prints events/s, the engine/baseline ratio and the targets; exits
 * non-zero when engine and baseline disagree on the result (a missed target is reported, not an error).
 * See README.md for how to read the figures.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { eventGenerator, KEY_COUNT, type KeyKind } from './events.js';
import { runWindowBaseline, runWindowJob, OUT_OF_ORDER_MS, WINDOW_MS } from './keyed-window.js';
import { compare, type Comparison, type Throughput } from './measure.js';
import { runChainBaseline, runChainJob } from './stateless-chain.js';

const USAGE = `Usage: npm run bench:engine -- [options]
       node --import tsx benchmarks/engine/main.ts [options]

Runs two in-memory benchmarks (docs/design.md §11), each as a Millrace job and as a hand-written
loop over the same generator, alternating the two, and prints the medians:
  stateless   map → filter → map → summing sink            target ≥ 0.5× baseline and ≥ 5 M events/s
  window      keyBy → tumbling 1 min → agg.count() → sink  target ≥ 0.5× baseline and ≥ 2 M events/s

Options:
  --events N      events per run (default 4000000)
  --rounds R      measured rounds per benchmark (default 5)
  --warmup W      unmeasured rounds before them (default 1)
  --keys K        key type: string (default) or number
  --only NAME     run one benchmark: stateless or window
  --json          print one JSON object instead of text
  --help          print this text

Exit status: 0, or 1 when engine and baseline produced different results, 2 on bad options.`;

/** A §11 target: ratio to the baseline, and absolute throughput on one core. */
interface Target {
  readonly minRatio: number;
  readonly minEventsPerSecond: number;
}

const TARGETS: Record<'stateless' | 'window', Target> = {
  stateless: { minRatio: 0.5, minEventsPerSecond: 5e6 },
  window: { minRatio: 0.5, minEventsPerSecond: 2e6 },
};

const BATCH_SIZE = 1024;

interface Options {
  readonly events: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly keys: KeyKind;
  readonly only: 'stateless' | 'window' | undefined;
  readonly json: boolean;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      keys: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const int = (s: string | undefined, d: number, name: string, min: number): number => {
    if (s === undefined) return d;
    const v = Number(s.replace(/_/g, ''));
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${s}'`);
    return v;
  };
  const keys = values.keys ?? 'string';
  if (keys !== 'string' && keys !== 'number') throw new Error(`--keys must be 'string' or 'number', got '${keys}'`);
  const only = values.only;
  if (only !== undefined && only !== 'stateless' && only !== 'window') throw new Error(`--only must be 'stateless' or 'window', got '${only}'`);
  return {
    events: int(values.events, 4_000_000, 'events', 1),
    rounds: int(values.rounds, 5, 'rounds', 1),
    warmup: int(values.warmup, 1, 'warmup', 0),
    keys,
    only,
    json: values.json ?? false,
  };
}

interface Report {
  readonly name: string;
  readonly title: string;
  readonly comparison: Comparison<unknown>;
  readonly target: Target;
  readonly ratioMet: boolean;
  readonly throughputMet: boolean;
}

const mevs = (x: number): string => `${(x / 1e6).toFixed(2)} M events/s`;
const mark = (met: boolean): string => (met ? 'met' : 'NOT MET');

function printText(opts: Options, reports: readonly Report[]): void {
  const cores = os.availableParallelism();
  const load = os.loadavg()[0]!;
  console.log(`Millrace engine benchmarks: Node ${process.version} (V8 ${process.versions.v8}), ${cores} cores, ${os.platform()} ${os.arch()}`);
  console.log(
    `load average (1 min) ${load.toFixed(2)} at the end` +
      (load > cores ? ': above the core count, other processes shared the CPU; trust the ratios more than the absolute figures' : ''),
  );
  console.log(
    `${opts.events.toLocaleString('en-US')} events per run, ${KEY_COUNT.toLocaleString('en-US')} ${opts.keys} keys, batches of ${BATCH_SIZE}, job parallelism 1; ` +
      `${opts.rounds} rounds after ${opts.warmup} warm-up, engine and baseline alternating; medians`,
  );
  for (const r of reports) {
    const c = r.comparison;
    const row = (label: string, t: Throughput): string =>
      `  ${label.padEnd(9)} ${mevs(t.median).padStart(17)}   (min ${(t.min / 1e6).toFixed(2)}, max ${(t.max / 1e6).toFixed(2)})`;
    console.log('');
    console.log(r.title);
    console.log(row('engine', c.engine));
    console.log(row('baseline', c.baseline));
    console.log(`  ${'ratio'.padEnd(9)} ${`${c.ratio.toFixed(2)}×`.padStart(17)}   engine/baseline, median of the rounds`);
    console.log(`  target    ratio ≥ ${r.target.minRatio}×: ${mark(r.ratioMet)} (${c.ratio.toFixed(2)}×);  throughput ≥ ${mevs(r.target.minEventsPerSecond)}: ${mark(r.throughputMet)} (${mevs(c.engine.median)})`);
    console.log(`  result    ${c.mismatches.length === 0 ? 'engine = baseline' : 'MISMATCH'}: ${JSON.stringify(c.engineResult)}`);
    for (const m of c.mismatches) console.log(`  MISMATCH  ${m}`);
  }
}

async function main(): Promise<number> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { events, rounds, warmup } = opts;
  const makeEvent = eventGenerator(opts.keys);
  const reports: Report[] = [];
  const add = (name: 'stateless' | 'window', title: string, comparison: Comparison<unknown>): void => {
    const target = TARGETS[name];
    reports.push({
      name,
      title,
      comparison,
      target,
      ratioMet: comparison.ratio >= target.minRatio,
      throughputMet: comparison.engine.median >= target.minEventsPerSecond,
    });
  };

  if (opts.only !== 'window') {
    add(
      'stateless',
      'stateless map → filter → map → summing sink, in memory',
      await compare({ events, rounds, warmup, engine: () => runChainJob(events, makeEvent, BATCH_SIZE), baseline: () => runChainBaseline(events, makeEvent) }),
    );
  }
  if (opts.only !== 'stateless') {
    add(
      'window',
      `keyed tumbling-window count (${WINDOW_MS / 1000} s windows, event time, ${OUT_OF_ORDER_MS} ms out-of-orderness), in memory`,
      await compare({ events, rounds, warmup, engine: () => runWindowJob(events, makeEvent, BATCH_SIZE), baseline: () => runWindowBaseline(events, makeEvent, BATCH_SIZE) }),
    );
  }

  const mismatch = reports.some((r) => r.comparison.mismatches.length > 0);
  if (opts.json) {
    console.log(
      JSON.stringify(
        {
          node: process.version,
          v8: process.versions.v8,
          cores: os.availableParallelism(),
          platform: `${os.platform()} ${os.arch()}`,
          loadAverage1m: os.loadavg()[0],
          events,
          keys: { count: KEY_COUNT, type: opts.keys },
          batchSize: BATCH_SIZE,
          parallelism: 1,
          rounds,
          warmup,
          benchmarks: reports.map((r) => ({
            name: r.name,
            title: r.title,
            eventsPerSecond: { engine: r.comparison.engine, baseline: r.comparison.baseline },
            ratio: r.comparison.ratio,
            targets: {
              ratio: { min: r.target.minRatio, met: r.ratioMet },
              eventsPerSecond: { min: r.target.minEventsPerSecond, met: r.throughputMet },
            },
            result: { engine: r.comparison.engineResult, baseline: r.comparison.baselineResult, match: r.comparison.mismatches.length === 0 },
            mismatches: r.comparison.mismatches,
          })),
        },
        null,
        2,
      ),
    );
  } else {
    printText(opts, reports);
  }
  if (mismatch) {
    console.error('\n*** MISMATCH: the engine and the hand-written baseline disagree (see above). The figures are not comparable. ***');
    return 1;
  }
  return 0;
}

process.exitCode = await main();
