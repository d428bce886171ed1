import { JobBuildError } from './errors.js';
import { StreamEnvironment } from './environment.js';
import { toMillis, type Duration } from './duration.js';
import type { ErrorPolicy, JobConfig, LogicalPlan } from './plan.js';
import { finishPlan } from './planner.js';

/** Options of `defineJob`; `millrace run` flags override them. */
export interface JobOptions {
  readonly parallelism?: number;
  /** Key groups; fixed for the life of the job (state is stored per key group). Default 128. */
  readonly maxParallelism?: number;
  readonly batchSize?: number;
  /** Periodic checkpoints; omit for on-demand only. */
  readonly checkpointInterval?: Duration;
  /**
   * A checkpoint not complete (written to storage) this long after it started is aborted: its pending
   * acknowledgements are dropped, what its sinks pre-committed is carried into the next checkpoint, and the next
   * periodic one may start. Default `'10m'` (Flink's `execution.checkpointing.timeout`).
   */
  readonly checkpointTimeout?: Duration;
  /**
   * How many periodic (or final) checkpoints may fail in a row (an error, or the timeout) before the job fails;
   * a completed checkpoint resets the count. Default 0: the first failure fails the job (Flink's
   * `execution.checkpointing.tolerable-failed-checkpoints`). Checkpoints and savepoints taken on demand report
   * their failure to the caller and do not count.
   */
  readonly tolerableCheckpointFailures?: number;
  /** Default error policy: `'fail'` (default) fails the job; `'skip'` sends the record to `env.deadLetters()`. */
  readonly errorPolicy?: ErrorPolicy;
  /**
   * The URL of the module that default-exports this job (`import.meta.url`), which worker threads import to rebuild
   * it. Found from the call stack of `defineJob` when omitted.
   */
  readonly module?: string;
}

/**
 * A job: a name and a function that builds its plan. Export it as the default export of a module (a job file), so
 * that worker threads can import the module and rebuild the same plan.
 */
export interface JobDefinition {
  readonly name: string;
  readonly options: JobOptions;
  /** The module that defines the job (see `JobOptions.module`); `undefined` when it could not be found. */
  readonly moduleUrl: string | undefined;
  /** Builds the logical plan; `overrides` replace options (e.g. from the command line). Throws `JobBuildError`. */
  plan(overrides?: JobOptions): LogicalPlan;
}

/** Resolves options to a complete config, checking each value. */
export function resolveConfig(options: JobOptions): JobConfig {
  const positiveInt = (v: number | undefined, d: number, what: string): number => {
    if (v === undefined) return d;
    if (!Number.isInteger(v) || v < 1) throw new JobBuildError(`${what} must be a positive integer, got ${v}`);
    return v;
  };
  const parallelism = positiveInt(options.parallelism, 1, 'parallelism');
  const maxParallelism = positiveInt(options.maxParallelism, 128, 'maxParallelism');
  if (parallelism > maxParallelism) throw new JobBuildError(`parallelism ${parallelism} exceeds maxParallelism (key groups) ${maxParallelism}`);
  const policy = options.errorPolicy ?? 'fail';
  if (policy !== 'fail' && policy !== 'skip') throw new JobBuildError(`errorPolicy must be 'fail' or 'skip', got '${String(policy)}'`);
  return {
    parallelism,
    maxParallelism,
    batchSize: positiveInt(options.batchSize, 1024, 'batchSize'),
    checkpointIntervalMs: options.checkpointInterval === undefined ? undefined : toMillis(options.checkpointInterval, 'checkpointInterval'),
    checkpointTimeoutMs: checkpointTimeout(options.checkpointTimeout),
    tolerableCheckpointFailures: tolerableFailures(options.tolerableCheckpointFailures),
    errorPolicy: policy,
  };
}

/** Default of `checkpointTimeout`: 10 minutes, as in Flink. */
export const DEFAULT_CHECKPOINT_TIMEOUT_MS = 600_000;

function checkpointTimeout(d: Duration | undefined): number {
  if (d === undefined) return DEFAULT_CHECKPOINT_TIMEOUT_MS;
  let ms: number;
  try {
    ms = toMillis(d, 'checkpointTimeout');
  } catch (e) {
    throw new JobBuildError(`${(e as Error).message}; the default is '10m'`, { cause: e });
  }
  if (!(ms > 0)) throw new JobBuildError(`checkpointTimeout must be longer than 0, got ${JSON.stringify(d)}: a checkpoint needs time to complete; omit it for the default '10m'`);
  return ms;
}

function tolerableFailures(n: number | undefined): number {
  if (n === undefined) return 0;
  if (!Number.isInteger(n) || n < 0) {
    throw new JobBuildError(`tolerableCheckpointFailures must be a whole number of checkpoints, 0 or more, got ${JSON.stringify(n)}: 0 (the default) fails the job at the first failed checkpoint, 3 tolerates three failures in a row`);
  }
  return n;
}

/**
 * Defines a job.
 *
 * ```ts
 * export default defineJob('fraud-detection', (env) => { env.fromSource(…).keyBy(…).window(…).aggregate(…).sinkTo(…) });
 * ```
 */
export function defineJob(name: string, build: (env: StreamEnvironment) => void, options: JobOptions = {}): JobDefinition {
  if (!name) throw new JobBuildError('defineJob needs a non-empty job name');
  return {
    name,
    options,
    moduleUrl: options.module ?? callerModule(new Error().stack),
    plan(overrides?: JobOptions): LogicalPlan {
      const env = new StreamEnvironment(name, resolveConfig({ ...options, ...overrides }));
      try {
        build(env);
      } catch (e) {
        if (e instanceof JobBuildError) throw e;
        throw new JobBuildError(`job '${name}': the build function threw: ${e instanceof Error ? e.message : String(e)}${keyedOnlyHint(e)}`, { cause: e });
      }
      return finishPlan(env.toPlan());
    },
  };
}

/** The first `file://` location in a stack trace that is not this file: the module that called `defineJob`. */
export function callerModule(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  const self = /[/\\]core[/\\](?:dist|src)[/\\]job\.[jt]s/;
  for (const line of stack.split('\n').slice(1)) {
    const m = /(file:\/\/[^\s)]+?):\d+:\d+\)?\s*$/.exec(line) ?? /\(?(\/[^\s():]+\.[cm]?[jt]s):\d+:\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const loc = m[1]!;
    if (self.test(loc)) continue;
    return loc.startsWith('file://') ? loc : `file://${loc}`;
  }
  return undefined;
}

/** Steps that exist only on a keyed stream, called on a plain one (JavaScript, or TypeScript without type checks). */
const KEYED_ONLY = ['window', 'reduce', 'aggregate'];

function keyedOnlyHint(e: unknown): string {
  const m = e instanceof TypeError ? /\.(\w+) is not a function/.exec(e.message) : null;
  return m && KEYED_ONLY.includes(m[1]!) ? ` — ${m[1]}() is a step of a keyed stream: call keyBy(…) before it` : '';
}
