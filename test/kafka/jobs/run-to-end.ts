/**
 * Runs the counting job (test/kafka/jobs/counting-job.ts, configured by the same environment variables) in this
 * process until its input ends, restoring from the latest checkpoint in the given directory, as `millrace run` does.
 * With KILL_AFTER_DONE=1 the process then SIGKILLs itself: the job reported done (everything committed, sinks closed)
 * and the process has not exited yet — the last moment a crash can happen.
 *   node --import tsx run-to-end.ts <checkpoint-dir> <workers> <checkpoint interval, or 'none' for none>
 */
import { runJob } from '@millrace/runtime';
import job from './counting-job.ts';

const [dir, workers, interval] = process.argv.slice(2) as [string, string, string];
const handle = runJob(job, {
  overrides: { parallelism: 2, ...(interval !== 'none' ? { checkpointInterval: Number(interval) } : {}) },
  workers: Number(workers),
  checkpoints: dir,
  restore: 'latest',
  log: (m) => console.log(`millrace: ${m}`),
});
const result = await handle.done;
const cp = handle.lastCheckpoint();
console.log(`finished: ${result.recordsRead} records read, ${result.checkpoints} checkpoint(s), last ${cp ? `${cp.checkpointId}${cp.final ? ' (final)' : ''}` : 'none'}`);
if (process.env.KILL_AFTER_DONE === '1') process.kill(process.pid, 'SIGKILL');
// The process should now exit by itself. If something still holds it open after 10 s, say what (this timer does not
// hold it open itself).
setTimeout(() => console.log(`still running 10 s after the job finished; open: ${process.getActiveResourcesInfo().join(', ')}`), 10_000).unref();
