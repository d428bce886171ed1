import { explain, type Duration, type JobOptions } from '@millrace/core';
import { formatMetrics, runJob } from '@millrace/runtime';
import type { CommandIo } from './dev.js';
import { intFlag, loadJob, parseFlags } from './load-job.js';
import { UsageError } from '../report-error.js';

const HELP = `Usage: millrace run <job-file> [flags]

Runs a job file (export default defineJob(...)) in this process until its input ends, or until Ctrl-C.

Flags:
  --parallelism N            subtasks per step (default: the job's, else 1); above 1 the job runs on worker threads
  --workers N|auto|0         worker threads (default auto: the cores, at most the parallelism; 0: all in this thread)
  --restart-attempts N       on failure, restart from the last checkpoint up to N times (exponential backoff 1 s…60 s)
  --checkpoint-dir DIR       take checkpoints into DIR/<job name>/chk-<n> (local directory)
  --checkpoint-interval D    periodic checkpoints, e.g. 10s (default: the job's)
  --checkpoint-timeout D     abort a checkpoint not complete after D, e.g. 2m (default: the job's, else 10m)
  --tolerable-checkpoint-failures N
                             periodic checkpoints that may fail in a row before the job fails (default: the job's, else 0)
  --restore latest           resume from the newest completed checkpoint in --checkpoint-dir
  --from-savepoint PATH      resume from a savepoint or checkpoint directory (relative to --checkpoint-dir)
  --allow-non-restored-state restore even if the checkpoint has state for uids the job no longer has (dropped, logged)
  --error-policy fail|skip   what a throwing user function does (skip needs env.deadLetters() to have a sink)
  --explain                  print the plan before running
  --help                     this text`;

/** `millrace run`: runs a job file in this process. */
export const runCommand = {
  summary: 'run a job file (TypeScript or JavaScript) until its input ends',
  async run(argv: readonly string[], io: CommandIo): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(HELP);
      return 0;
    }
    const { flags, positional } = parseFlags(argv, ['parallelism', 'workers', 'checkpoint-dir', 'checkpoint-interval', 'restore', 'from-savepoint', 'error-policy', 'restart-attempts', 'checkpoint-timeout', 'tolerable-checkpoint-failures'], ['explain', 'allow-non-restored-state']);
    if (positional.length !== 1) {
      io.err(`millrace run: expected one job file, got ${positional.length}\n\n${HELP}`);
      return 2;
    }
    const job = await loadJob(positional[0]!);
    const parallelism = intFlag(flags, 'parallelism');
    const interval = flags.get('checkpoint-interval');
    const policy = flags.get('error-policy');
    const timeout = flags.get('checkpoint-timeout');
    const tolerableFlag = flags.get('tolerable-checkpoint-failures');
    const tolerable = tolerableFlag === undefined ? undefined : Number(tolerableFlag);
    if (tolerable !== undefined && !(Number.isInteger(tolerable) && tolerable >= 0)) throw new UsageError(`--tolerable-checkpoint-failures must be 0 or a positive integer, got '${tolerableFlag}'`);
    const overrides: JobOptions = {
      ...(parallelism !== undefined ? { parallelism } : {}),
      ...(interval !== undefined ? { checkpointInterval: (/^\d+$/.test(interval) ? Number(interval) : interval) as Duration } : {}),
      ...(timeout !== undefined ? { checkpointTimeout: (/^\d+$/.test(timeout) ? Number(timeout) : timeout) as Duration } : {}),
      ...(tolerable !== undefined ? { tolerableCheckpointFailures: tolerable } : {}),
      ...(policy !== undefined ? { errorPolicy: policy as 'fail' | 'skip' } : {}),
    };
    const dir = flags.get('checkpoint-dir');
    const restore = flags.get('from-savepoint') ?? flags.get('restore');
    if (restore !== undefined && dir === undefined) throw new UsageError('--restore and --from-savepoint need --checkpoint-dir');
    if (policy !== undefined && policy !== 'fail' && policy !== 'skip') throw new UsageError(`--error-policy must be fail or skip, got '${policy}'`);
    const plan = job.plan(overrides);
    if (dir !== undefined && plan.config.checkpointIntervalMs === undefined) {
      io.err(`millrace: note: no checkpoint interval (--checkpoint-interval, or checkpointInterval in the job): checkpoints go to ${dir} only when one is taken on demand`);
    }
    if (dir === undefined && plan.config.checkpointIntervalMs !== undefined) {
      io.err('millrace: note: checkpoints are taken but not stored (no --checkpoint-dir): a restart cannot resume from them');
    }
    if (flags.has('explain')) io.out(`${explain(plan)}\n`);
    const ac = new AbortController();
    const workersFlag = flags.get('workers');
    const workers = workersFlag === undefined || workersFlag === 'auto' ? 'auto' : workersFlag === '0' ? 0 : intFlag(flags, 'workers');
    const attempts = intFlag(flags, 'restart-attempts');
    const handle = runJob(job, {
      overrides,
      workers,
      ...(attempts !== undefined ? { restart: { type: 'exponential-backoff' as const, attempts, initialDelay: 1_000, maxDelay: 60_000 } } : {}),
      ...(dir ? { checkpoints: dir } : {}),
      ...(restore ? { restore } : {}),
      ...(flags.has('allow-non-restored-state') ? { allowNonRestoredState: true } : {}),
      signal: ac.signal,
      log: (m) => io.err(`millrace: ${m}`),
    });
    const onSignal = (): void => {
      io.err(`\nmillrace: stopping '${plan.jobName}' (output after the last completed checkpoint is not committed)`);
      ac.abort();
      void handle.cancel();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await handle.done;
      const s = Math.max(result.durationMs, 1) / 1000;
      io.err(`\n${formatMetrics(result.metrics)}\n`);
      const cp = handle.lastCheckpoint();
      io.err(
        `${result.jobName}: ${result.status}, ${result.recordsRead} records read in ${s.toFixed(2)} s (${Math.round(result.recordsRead / s)} records/s)` +
          `${result.workers > 0 ? ` on ${result.workers} worker threads` : ''}${result.restarts > 0 ? `, ${result.restarts} restart(s)` : ''}, ` +
          `${result.checkpoints} checkpoint(s)${cp ? ` (last: ${cp.checkpointId}, ${cp.durationMs} ms, ${cp.sizeBytes} bytes)` : ''}`,
      );
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

const EXPLAIN_HELP = `Usage: millrace explain <job-file> [--format text|mermaid] [--parallelism N]

Prints the job's logical plan (steps, uids, edges) and physical plan (stages, fused chains, partitioning of each edge).`;

/** `millrace explain`: prints a job's plans. */
export const explainCommand = {
  summary: "print a job file's logical and physical plan",
  async run(argv: readonly string[], io: CommandIo): Promise<number> {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(EXPLAIN_HELP);
      return 0;
    }
    const { flags, positional } = parseFlags(argv, ['format', 'parallelism']);
    if (positional.length !== 1) {
      io.err(`millrace explain: expected one job file\n\n${EXPLAIN_HELP}`);
      return 2;
    }
    const format = flags.get('format') ?? 'text';
    if (format !== 'text' && format !== 'mermaid') throw new UsageError(`--format must be text or mermaid, got '${format}'`);
    const job = await loadJob(positional[0]!);
    const parallelism = intFlag(flags, 'parallelism');
    io.out(explain(job.plan(parallelism ? { parallelism } : {}), { format }));
    return 0;
  },
};
