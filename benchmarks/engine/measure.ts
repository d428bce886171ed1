/**
 * Timing: warm-up runs, then rounds in which the engine and its baseline run back to back (alternating which goes
 * first), so that both share the machine's noise. Every run's result must equal the first one's; a mismatch is
 * reported, never hidden.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** One side of a comparison: runs the whole workload once and returns something comparable (plain data). */
export type Workload<R> = () => R | Promise<R>;

/** Throughput figures of one side. */
export interface Throughput {
  /** Median events/s over the measured rounds. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Events/s of each measured round, in order. */
  readonly samples: readonly number[];
}

/** The outcome of one comparison. */
export interface Comparison<R> {
  readonly engine: Throughput;
  readonly baseline: Throughput;
  /** Median over rounds of engine/baseline within the same round. */
  readonly ratio: number;
  readonly engineResult: R;
  readonly baselineResult: R;
  /** Descriptions of every disagreement (engine vs baseline, or a run vs the first run of its side). */
  readonly mismatches: readonly string[];
}

/** Collects garbage between runs when possible, so that one run does not pay for the previous one's garbage. */
const collectGarbage: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return () => {};
  }
})();

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed<R>(run: Workload<R>): Promise<{ seconds: number; result: R }> {
  collectGarbage();
  const t0 = performance.now();
  const result = await run();
  return { seconds: (performance.now() - t0) / 1000, result };
}

/** Runs `warmup` unmeasured rounds, then `rounds` measured ones, of both workloads over `events` events. */
export async function compare<R>(opts: {
  readonly events: number;
  readonly rounds: number;
  readonly warmup: number;
  readonly engine: Workload<R>;
  readonly baseline: Workload<R>;
}): Promise<Comparison<R>> {
  const mismatches: string[] = [];
  const same = (a: R, b: R): boolean => JSON.stringify(a) === JSON.stringify(b);
  let engineResult: R | undefined;
  let baselineResult: R | undefined;
  const check = (side: 'engine' | 'baseline', r: R, round: string): void => {
    const first = side === 'engine' ? engineResult : baselineResult;
    if (first === undefined) {
      if (side === 'engine') engineResult = r;
      else baselineResult = r;
    } else if (!same(first, r)) {
      mismatches.push(`${side} ${round} returned ${JSON.stringify(r)}, its first run ${JSON.stringify(first)}`);
    }
  };

  const engineRates: number[] = [];
  const baselineRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < opts.warmup + opts.rounds; round++) {
    const measured = round >= opts.warmup;
    const label = measured ? `round ${round - opts.warmup + 1}` : `warm-up ${round + 1}`;
    // Alternate which side goes first, so neither always runs right after the other's garbage or JIT work.
    const engineFirst = round % 2 === 0;
    const a = engineFirst ? await timed(opts.engine) : undefined;
    const b = await timed(opts.baseline);
    const e = a ?? (await timed(opts.engine));
    check('engine', e.result, label);
    check('baseline', b.result, label);
    if (measured) {
      engineRates.push(opts.events / e.seconds);
      baselineRates.push(opts.events / b.seconds);
      ratios.push(b.seconds / e.seconds);
    }
  }
  if (engineResult !== undefined && baselineResult !== undefined && !same(engineResult, baselineResult)) {
    mismatches.unshift(`engine returned ${JSON.stringify(engineResult)}, baseline ${JSON.stringify(baselineResult)}`);
  }
  const stats = (xs: number[]): Throughput => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), samples: xs });
  return {
    engine: stats(engineRates),
    baseline: stats(baselineRates),
    ratio: median(ratios),
    engineResult: engineResult!,
    baselineResult: baselineResult!,
    mismatches,
  };
}
