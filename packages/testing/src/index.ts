/**
 * @millrace/testing — test your jobs and operators: `JobTestDriver` (a whole job, synchronous, manual clock),
 * `OperatorHarness` (one operator: interleaved outputs, processing time, snapshot and restore) and `ManualClock`.
 * Depends on @millrace/core and @millrace/runtime.
 */
export { ManualClock } from './manual-clock.js';
export { JobTestDriver, TestInput, TestOutput, type DriverSnapshot, type JobTestDriverOptions } from './job-test-driver.js';
export { OperatorHarness, type HarnessOutput, type HarnessSnapshot } from './operator-harness.js';
