import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agg, defineJob, explain, physicalPlan, sinks, windows, WatermarkStrategy, OutputTag,
  type JobDefinition, type LogicalPlan, type PhysicalPlan,
} from '@millrace/core';

interface Ev { readonly key: string; readonly n: number; readonly ts: number }
const evs: Ev[] = [{ key: 'a', n: 1, ts: 1 }];
const wm = WatermarkStrategy.monotonous<Ev>().withTimestamp((e) => e.ts);

/** Chain contents as node names, per chain, in chain order. */
const chainNames = (p: PhysicalPlan): string[][] => p.chains.map((c) => c.nodes.map((n) => n.name));
const stageOfChain = (p: PhysicalPlan): number[] => p.chains.map((c) => c.stage);
const plan = (job: JobDefinition): PhysicalPlan => physicalPlan(job.plan());

test('map, filter and flatMap are fused with their source into one chain, and a sink after them too', () => {
  const job = defineJob('stateless', (env) => {
    env.fromArray(evs, { uid: 'src' })
      .map((e) => e.n, { name: 'n' })
      .filter((n) => n > 0, { name: 'positive' })
      .flatMap((n) => [n, n], { name: 'twice' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src', 'n', 'positive', 'twice', 'out']]);
  assert.equal(p.stages.length, 1);
  assert.deepEqual(p.passes, ['fuse-forward-chains']);
});

test('a keyed step starts a new chain, and stateless steps and the sink after it are fused into it', () => {
  const job = defineJob('keyed', (env) => {
    env.fromArray(evs, { uid: 'src', watermarks: wm })
      .map((e) => e, { name: 'pre' })
      .keyBy((e) => e.key)
      .window(windows.tumbling('1s'))
      .aggregate(agg.count(), (key, w, count) => ({ key, end: w.end, count }), { uid: 'counts' })
      .map((r) => r.count, { name: 'post' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src', 'pre'], ['counts', 'post', 'out']]);
  assert.deepEqual(stageOfChain(p), [0, 1]);
  assert.deepEqual(p.stages.map((s) => s.chains), [[0], [1]]);
  assert.equal(p.chains[1]!.inputs.length, 1);
  assert.equal(p.chains[1]!.inputs[0]!.edge.partitioning, 'hash');
  assert.equal(p.chains[1]!.inputs[0]!.fromChain, 0);
});

test('two keyed steps in a row are separate chains in separate stages', () => {
  const job = defineJob('two-keyed', (env) => {
    env.fromArray(evs, { uid: 'src' })
      .keyBy((e) => e.key)
      .reduce((a, b) => ({ ...b, n: a.n + b.n }), { uid: 'sum' })
      .keyBy((e) => e.n)
      .aggregate(agg.count(), { uid: 'count' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src'], ['sum'], ['count', 'out']]);
  assert.deepEqual(stageOfChain(p), [0, 1, 2]);
});

test('fan-out prevents fusion: a step read by two consumers ends its chain', () => {
  const job = defineJob('fan-out', (env) => {
    const s = env.fromArray(evs, { uid: 'src' }).map((e) => e.n, { name: 'n' });
    s.map((n) => n + 1, { name: 'plus' }).sinkTo(sinks.collect(), { uid: 'out-a' });
    s.map((n) => n * 2, { name: 'times' }).sinkTo(sinks.collect(), { uid: 'out-b' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src', 'n'], ['plus', 'out-a'], ['times', 'out-b']]);
  // Forward edges only: one stage, all chains in it.
  assert.equal(p.stages.length, 1);
  assert.deepEqual(p.stages[0]!.chains, [0, 1, 2]);
});

test('a union is not fused: the consumer of two inputs heads its own chain', () => {
  const job = defineJob('union', (env) => {
    const a = env.fromArray(evs, { uid: 'a' });
    const b = env.fromArray(evs, { uid: 'b' });
    a.union(b).map((e) => e.n, { name: 'n' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['a'], ['b'], ['n', 'out']]);
  assert.deepEqual(p.chains[2]!.inputs.map((i) => [i.fromChain, i.edge.partitioning]), [[0, 'forward'], [1, 'forward']]);
  assert.equal(p.stages.length, 1);
});

test('rebalance splits stages and prevents fusion', () => {
  const job = defineJob('rebalance', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n, { name: 'before' }).rebalance().map((n) => n, { name: 'after' }).sinkTo(sinks.collect(), { uid: 'out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src', 'before'], ['after', 'out']]);
  assert.deepEqual(stageOfChain(p), [0, 1]);
  assert.equal(p.chains[1]!.inputs[0]!.edge.partitioning, 'rebalance');
});

test('different parallelism behind a rebalance gives stages of their own parallelism', () => {
  const job = defineJob('par', (env) => {
    env.fromArray(evs, { uid: 'src', parallelism: 1 }).rebalance().map((e) => e.n, { name: 'wide', parallelism: 3 }).sinkTo(sinks.collect(), { uid: 'out', parallelism: 3 });
  }, { parallelism: 2 });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src'], ['wide', 'out']]);
  assert.deepEqual(p.stages.map((s) => s.parallelism), [1, 3]);
  assert.deepEqual(p.chains.map((c) => c.parallelism), [1, 3]);
});

test('a side output is not fused with its producer', () => {
  const tag = new OutputTag<number>('odd');
  const job = defineJob('side', (env) => {
    const main = env.fromArray(evs, { uid: 'src' }).process<Ev>((e, ctx) => { ctx.output(tag, e.n); ctx.emit(e); }, { name: 'split' });
    main.sinkTo(sinks.collect(), { uid: 'main-out' });
    main.getSideOutput(tag).map((n) => n, { name: 'side-map' }).sinkTo(sinks.collect(), { uid: 'side-out' });
  });
  const p = plan(job);
  assert.deepEqual(chainNames(p), [['src', 'split', 'main-out'], ['side-map', 'side-out']]);
  assert.equal(p.chains[1]!.inputs[0]!.edge.sideOutput, 'odd');
});

const keyedJob = (): JobDefinition =>
  defineJob('explained', (env) => {
    env.fromArray(evs, { uid: 'src', watermarks: wm })
      .map((e) => e, { name: 'pre' })
      .keyBy((e) => e.key)
      .window(windows.tumbling('1m'))
      .allowedLateness('5s')
      .aggregate(agg.sum((e: Ev) => e.n), { uid: 'sums', name: 'per-minute' })
      .rebalance()
      .map((n) => n, { name: 'post' })
      .sinkTo(sinks.collect(), { uid: 'out' });
  }, { parallelism: 2, maxParallelism: 64 });

test('explain() prints the logical plan, the stages, chains and the partitioning of each edge', () => {
  const text = explain(keyedJob().plan());
  assert.equal(
    text,
    [
      "Job 'explained' (parallelism 2, 64 key groups)",
      '',
      'Logical plan:',
      '  #1 src [uid src] source array(1 records), watermarks monotonous',
      '  #2 pre [uid map-2] map',
      '      ← forward from #1 src',
      '  #3 per-minute [uid sums] window tumbling(60000ms, event time), aggregate, lateness 5000ms',
      '      ← hash from #2 pre',
      '  #4 post [uid map-4] map',
      '      ← rebalance from #3 per-minute',
      '  #5 out [uid out] sink collect',
      '      ← forward from #4 post',
      '',
      'Physical plan (passes: fuse-forward-chains):',
      '  Stage 0 (parallelism 2)',
      '    Chain 0: src → pre',
      '  Stage 1 (parallelism 2)',
      '    Chain 1: per-minute',
      '      ← hash from chain 0 (by key group)',
      '  Stage 2 (parallelism 2)',
      '    Chain 2: post → out',
      '      ← rebalance from chain 1',
    ].join('\n'),
  );
});

test('explain() in mermaid format draws one subgraph per stage and labelled edges between chains', () => {
  const text = explain(keyedJob().plan(), { format: 'mermaid' });
  assert.equal(
    text,
    [
      'flowchart LR',
      '  subgraph stage0["stage 0 (parallelism 2)"]',
      '    c0["src → pre"]',
      '  end',
      '  subgraph stage1["stage 1 (parallelism 2)"]',
      '    c1["per-minute"]',
      '  end',
      '  subgraph stage2["stage 2 (parallelism 2)"]',
      '    c2["post → out"]',
      '  end',
      '  c0 -- "hash" --> c1',
      '  c1 -- "rebalance" --> c2',
    ].join('\n'),
  );
});

test('explain() describes keyed-process state, side outputs and late outputs', () => {
  const late = new OutputTag<Ev>('late');
  const job = defineJob('described', (env) => {
    const keyed = env.fromArray(evs, { uid: 'src', watermarks: wm }).keyBy((e) => e.key);
    const w = keyed.window(windows.tumbling('1s')).sideOutputLateData(late).aggregate(agg.count(), { uid: 'w' });
    w.sinkTo(sinks.collect(), { uid: 'out' });
    w.getSideOutput(late).sinkTo(sinks.collect(), { uid: 'late-out' });
  });
  const text = explain(job.plan());
  assert.match(text, /#2 w \[uid w\] window tumbling\(1000ms, event time\), aggregate, late → late\n/);
  assert.match(text, /#4 late-out \[uid late-out\] sink collect\n {6}← forward side 'late' from #2 w/);
  assert.match(text, /Chain 2: late-out\n {6}← forward side 'late' from chain 1/);
});

/** The plan as plain data without functions, for comparing two builds. */
function shape(p: LogicalPlan): unknown {
  return JSON.parse(JSON.stringify(p, (_k, v) => (typeof v === 'function' ? `fn:${v.name}` : v)));
}

test('building the same job twice gives identical node ids, uids, names, edges and chains', () => {
  const job = keyedJob();
  const a = job.plan();
  const b = job.plan();
  assert.deepEqual(a.nodes.map((n) => [n.id, n.uid, n.name, n.spec.kind]), [
    [1, 'src', 'src', 'source'],
    [2, 'map-2', 'pre', 'map'],
    [3, 'sums', 'per-minute', 'window'],
    [4, 'map-4', 'post', 'map'],
    [5, 'out', 'out', 'sink'],
  ]);
  assert.deepEqual(shape(a), shape(b));
  assert.equal(explain(a), explain(b));
  assert.deepEqual(chainNames(physicalPlan(a)), chainNames(physicalPlan(b)));
});

test('two different jobs built one after the other each number their nodes from 1 (no global counter)', () => {
  const first = defineJob('first', (env) => { env.fromArray(evs, { uid: 's' }).map((e) => e).sinkTo(sinks.collect(), { uid: 'o' }); }).plan();
  const second = defineJob('second', (env) => { env.fromArray(evs, { uid: 's' }).filter(() => true).sinkTo(sinks.collect(), { uid: 'o' }); }).plan();
  assert.deepEqual(first.nodes.map((n) => n.id), [1, 2, 3]);
  assert.deepEqual(second.nodes.map((n) => n.id), [1, 2, 3]);
  assert.deepEqual(second.nodes.map((n) => n.uid), ['s', 'filter-2', 'o']);
});

test('env.deadLetters() is resolved to a side-output edge from every step that can fail, excluding the dead-letter path', () => {
  const job = defineJob('dl', (env) => {
    env.fromArray(evs, { uid: 'src' }).map((e) => e.n, { name: 'n' }).sinkTo(sinks.collect(), { uid: 'out' });
    env.deadLetters().map((d) => d.error, { name: 'msg' }).sinkTo(sinks.collect(), { uid: 'dead' });
  }, { errorPolicy: 'skip' });
  const p = job.plan();
  const msg = p.nodes.find((n) => n.name === 'msg')!;
  assert.deepEqual(msg.inputs.map((e) => [e.from, e.sideOutput]), [[1, 'millrace.dead-letters'], [2, 'millrace.dead-letters']]);
});

test('dead letters from steps of another parallelism are rebalanced to the dead-letter reader, not refused as forward edges', () => {
  const job = defineJob('dl-parallelism', (env) => {
    env.fromArray(evs, { uid: 'src', parallelism: 1 }).rebalance().map((e) => e.n, { name: 'n' }).sinkTo(sinks.collect(), { uid: 'out' });
    env.deadLetters().sinkTo(sinks.collect(), { uid: 'dead' });
  }, { errorPolicy: 'skip', parallelism: 2 });
  const p = job.plan();
  const dead = p.nodes.find((n) => n.uid === 'dead')!;
  const byFrom = new Map(dead.inputs.map((e) => [p.nodes.find((n) => n.id === e.from)!.name, e.partitioning]));
  assert.equal(byFrom.get('src'), 'rebalance');
  assert.equal(byFrom.get('n'), 'forward');
  assert.doesNotThrow(() => physicalPlan(p));
});
