/**
 * The demo: runs the fraud job in this process on the built-in generator, prints results as windows and alerts
 * fire, then a summary line. `npm start` at the repository root runs it.
 */
import { explain } from '@millrace/core';
import { formatMetrics, runJob } from '@millrace/runtime';
import fraud, { COUNT } from './jobs/fraud.ts';

if (process.argv.includes('--explain')) {
  console.log(explain(fraud.plan()));
  process.exit(0);
}
const started = performance.now();
const result = await runJob(fraud).done;
const seconds = (performance.now() - started) / 1000;
const rows = result.metrics;
const alerts = rows.filter((r) => r.uid === 'small-then-large').reduce((n, r) => n + r.recordsOut, 0);
const sums = rows.filter((r) => r.uid === 'per-card-sums').reduce((n, r) => n + r.recordsOut, 0);
console.log('');
console.log(formatMetrics(rows));
console.log('');
console.log(
  `${result.jobName}: ${result.status}, ${result.recordsRead} records processed in ${seconds.toFixed(2)} s ` +
    `(${Math.round(result.recordsRead / seconds).toLocaleString('en-US')} events/s), ${sums} card sums, ${alerts} alerts (generated ${COUNT})`,
);
