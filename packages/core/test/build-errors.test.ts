import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agg, defineJob, JobBuildError, OutputTag, sinks, sources, windows, WatermarkStrategy,
  type StatefulStepOptions,
} from '@millrace/core';

interface Ev { readonly key: string; readonly n: number; readonly ts: number }
const evs: Ev[] = [{ key: 'a', n: 1, ts: 1 }];
const wm = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts);

/** Asserts that building `job` throws a JobBuildError whose message matches every pattern. */
function assertBuildError(build: () => unknown, ...patterns: RegExp[]): JobBuildError {
  let caught: unknown;
  try {
    build();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof JobBuildError, `expected a JobBuildError, got ${String(caught)}`);
  assert.equal(caught.name, 'JobBuildError');
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

test('a duplicate uid fails the build, naming both steps and the uid', () => {
  const job = defineJob('dup', (env) => {
    env.fromArray(evs, { uid: 'events' }).map((e) => e.n, { uid: 'events', name: 'to-n' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step #2 'to-n' (map, reading 'events') uses uid 'events', which step #1 'events' (source) already has: uids must be unique within a job");
});

test('two steps of the same name with the same uid are told apart by number and input', () => {
  const job = defineJob('dup-print', (env) => {
    const src = env.fromArray(evs, { uid: 'events' });
    src.map((e) => e.n, { name: 'sums' }).print('', { uid: 'out' });
    src.map((e) => e.key, { name: 'alerts' }).print('', { uid: 'out' });
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step #5 'out' (sink, reading 'alerts') uses uid 'out', which step #3 'out' (sink, reading 'sums') already has: uids must be unique within a job");
});

test('a sink without a uid fails the build, naming the step and asking for a uid', () => {
  const job = defineJob('no-uid', (env) => {
    env.fromArray(evs, { uid: 'src' }).sinkTo(sinks.collect(), {} as StatefulStepOptions);
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step 'sink' (sink collect) keeps state but has no uid: pass { uid: '…' } so its state can be found again after a restart");
});

test('a source given no options at all (plain JavaScript) fails the build naming the connector, not with a TypeError', () => {
  const job = defineJob('no-opts', (env) => {
    (env.fromSource as (s: unknown) => unknown)(sources.array([1, 2]));
  });
  const e = assertBuildError(() => job.plan());
  assert.match(e.message, /^step 'source' \(source array\(2 records\)\) keeps state but has no uid: pass \{ uid: '…' \}/);
});

test('a rolling aggregate without a uid fails the build, using its name', () => {
  const job = defineJob('no-uid', (env) => {
    env.fromArray(evs, { uid: 'src' }).keyBy((e) => e.key).aggregate(agg.count(), { name: 'counter' } as StatefulStepOptions).sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(() => job.plan(), /^step 'counter' \(rolling\) keeps state but has no uid/);
});

test('a uid with characters other than letters, digits, . _ - fails the build', () => {
  const job = defineJob('bad-uid', (env) => {
    env.fromArray(evs, { uid: 'my source' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step 'my source': uid 'my source' may contain only letters, digits, '.', '_' and '-'");
});

test('event-time windows on a stream without timestamps fail the build, naming the step and the fix', () => {
  const job = defineJob('no-ts', (env) => {
    env.fromArray(evs, { uid: 'src' })
      .keyBy((e) => e.key)
      .window(windows.tumbling('1m'))
      .aggregate(agg.count(), { uid: 'counts', name: 'per-minute' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(
    () => job.plan(),
    /^step 'per-minute' \(uid 'counts'\) uses event-time windows \(tumbling\(60000ms, event time\)\), but its input has no timestamps/,
    /WatermarkStrategy/,
    /assignTimestampsAndWatermarks/,
  );
});

test('event-time windows over a union where only one input has timestamps fail the build', () => {
  const job = defineJob('half-ts', (env) => {
    const a = env.fromArray(evs, { uid: 'a', watermarks: wm });
    const b = env.fromArray(evs, { uid: 'b' });
    a.union(b).keyBy((e) => e.key).window(windows.tumbling('1s')).aggregate(agg.count(), { uid: 'w' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(() => job.plan(), /^step 'w' \(uid 'w'\) uses event-time windows/);
});

test('timestamps assigned mid-stream, processing-time windows and global windows build without a source strategy', () => {
  defineJob('ts-mid', (env) => {
    env.fromArray(evs, { uid: 'src' }).assignTimestampsAndWatermarks(wm).keyBy((e) => e.key)
      .window(windows.tumbling('1s')).aggregate(agg.count(), { uid: 'w' }).sinkTo(sinks.collect(), { uid: 'out' });
  }).plan();
  defineJob('pt', (env) => {
    env.fromArray(evs, { uid: 'src' }).keyBy((e) => e.key)
      .window(windows.tumbling('1s', { time: 'processing' })).aggregate(agg.count(), { uid: 'w' }).sinkTo(sinks.collect(), { uid: 'out' });
  }).plan();
  defineJob('global', (env) => {
    env.fromArray(evs, { uid: 'src' }).keyBy((e) => e.key)
      .window(windows.global()).aggregate(agg.count(), { uid: 'w' }).sinkTo(sinks.collect(), { uid: 'out' });
  }).plan();
});

test("the job-wide 'skip' error policy without a dead-letter sink fails the build, naming the job", () => {
  const job = defineJob('skipper', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n).sinkTo(sinks.collect(), { uid: 'out' });
  }, { errorPolicy: 'skip' });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "job 'skipper' uses the 'skip' error policy but nothing reads env.deadLetters(): give it a sink, e.g. env.deadLetters().sinkTo(…, { uid: 'dead-letters' })");
});

test("a step's onError: 'skip' without a dead-letter sink fails the build, naming the step", () => {
  const job = defineJob('skip-step', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n, { name: 'parse', onError: 'skip' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(() => job.plan(), /^step 'parse' uses the 'skip' error policy but nothing reads env\.deadLetters\(\)/);
});

test('the skip policy overridden at plan time is checked too', () => {
  const job = defineJob('override', (env) => {
    env.fromArray(evs, { uid: 'src' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  job.plan();
  assertBuildError(() => job.plan({ errorPolicy: 'skip' }), /^job 'override' uses the 'skip' error policy/);
});

test('a job without a sink fails the build, naming the job', () => {
  const job = defineJob('sinkless', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n);
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "job 'sinkless' has no sink: nothing it computes would be written anywhere (add .sinkTo(…) or .print())");
});

test('a forward edge between steps of different parallelism fails the build, naming both and the fix', () => {
  const job = defineJob('forward', (env) => {
    env.fromArray(evs, { uid: 'src', parallelism: 1 }).map((e) => e.n, { name: 'wide', parallelism: 2 }).sinkTo(sinks.collect(), { uid: 'out', parallelism: 2 });
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step 'wide' (parallelism 2) reads step 'src' (parallelism 1) over a forward edge, which cannot change parallelism: call .rebalance() before it or give both the same parallelism");
});

test('a forward edge against the job default parallelism is checked too', () => {
  const job = defineJob('forward-default', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n).sinkTo(sinks.collect(), { uid: 'out', parallelism: 3 });
  }, { parallelism: 2 });
  assertBuildError(() => job.plan(), /^step 'out' \(parallelism 3\) reads step 'map' \(parallelism 2\) over a forward edge/);
});

test('reading a side output a step never emits fails the build, naming reader, producer and tag', () => {
  const tag = new OutputTag<Ev>('rejects');
  const job = defineJob('side', (env) => {
    const mapped = env.fromArray(evs, { uid: 'src' }).map((e) => e, { name: 'plain-map' });
    mapped.sinkTo(sinks.collect(), { uid: 'out' });
    mapped.getSideOutput(tag).sinkTo(sinks.collect(), { uid: 'rejects-out' });
  });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "step 'rejects-out' reads side output 'rejects' of step 'plain-map' (map), which never emits it");
});

test('reading a late side output from a window that sends late data elsewhere fails the build', () => {
  const late = new OutputTag<Ev>('late');
  const other = new OutputTag<Ev>('other');
  const job = defineJob('late-side', (env) => {
    const w = env.fromArray(evs, { uid: 'src', watermarks: wm }).keyBy((e) => e.key).window(windows.tumbling('1s'))
      .sideOutputLateData(late).aggregate(agg.count(), { uid: 'w' });
    w.sinkTo(sinks.collect(), { uid: 'out' });
    w.getSideOutput(other).sinkTo(sinks.collect(), { uid: 'other-out' });
  });
  assertBuildError(() => job.plan(), /^step 'other-out' reads side output 'other' of step 'w' \(window\), which never emits it$/);
});

test('getSideOutput of a union fails the build', () => {
  const tag = new OutputTag<Ev>('t');
  const job = defineJob('side-union', (env) => {
    const a = env.fromArray(evs, { uid: 'a' });
    const b = env.fromArray(evs, { uid: 'b' });
    a.union(b).getSideOutput(tag).sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(() => job.plan(), /getSideOutput\(t\) needs the stream of one step, not a union/);
});

test('invalid job options fail with messages naming the option', () => {
  const job = defineJob('opts', (env) => { env.fromArray(evs, { uid: 'src' }).sinkTo(sinks.collect(), { uid: 'out' }); });
  assertBuildError(() => job.plan({ parallelism: 0 }), /^parallelism must be a positive integer, got 0$/);
  assertBuildError(() => job.plan({ parallelism: 4, maxParallelism: 2 }), /^parallelism 4 exceeds maxParallelism \(key groups\) 2$/);
  assertBuildError(() => job.plan({ errorPolicy: 'ignore' as never }), /^errorPolicy must be 'fail' or 'skip', got 'ignore'$/);
  assertBuildError(() => job.plan({ batchSize: 1.5 }), /^batchSize must be a positive integer, got 1\.5$/);
});

test('a step parallelism that is not a positive integer fails the build, naming the step', () => {
  const job = defineJob('step-par', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e, { name: 'm', parallelism: 0 }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  assertBuildError(() => job.plan(), /^step 'm': parallelism must be a positive integer, got 0$/);
});

test('any other error thrown by the build function becomes a JobBuildError naming the job, with the cause', () => {
  const boom = new Error('config file missing');
  const job = defineJob('throws', () => { throw boom; });
  const e = assertBuildError(() => job.plan());
  assert.equal(e.message, "job 'throws': the build function threw: config file missing");
  assert.equal(e.cause, boom);
});

test('defineJob with an empty name fails', () => {
  assertBuildError(() => defineJob('', () => {}), /^defineJob needs a non-empty job name$/);
});

test('a window on an unkeyed stream (no type checks) fails the build saying to call keyBy first', () => {
  const job = defineJob('unkeyed', (env) => {
    (env.fromArray(evs, { uid: 'src' }) as unknown as { window(a: unknown): unknown }).window(windows.tumbling('1m'));
  });
  assertBuildError(() => job.plan(), /^job 'unkeyed': the build function threw: .*\.window is not a function — window\(\) is a step of a keyed stream: call keyBy\(…\) before it$/);
});
