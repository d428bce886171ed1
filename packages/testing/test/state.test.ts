import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  agg, aggregatingState, defineJob, listState, mapState, reducingState, sinks, valueState,
} from '@millrace/core';
import { JobTestDriver, OperatorHarness } from '@millrace/testing';

/** A command for the state under test, for one key. */
interface Cmd { readonly key: string; readonly op: string; readonly arg?: number; readonly name?: string }
const cmd = (key: string, op: string, arg?: number, name?: string): Cmd => ({ key, op, ...(arg !== undefined ? { arg } : {}), ...(name !== undefined ? { name } : {}) });

/** What the function saw in each state after applying a command. */
interface View {
  readonly key: string;
  readonly value: number | undefined;
  readonly list: readonly number[];
  readonly map: ReadonlyArray<[string, number]>;
  readonly sum: number | undefined;
  readonly avg: number | undefined;
}

/** A job whose keyed process function applies commands to five kinds of state and emits what it then reads. */
const stateJob = (ttl?: '10s') =>
  defineJob('state', (env) => {
    env.fromArray<Cmd>([], { uid: 'cmds' })
      .keyBy((c) => c.key)
      .process<View>({ uid: 'stateful' })
      .withState({
        value: valueState<number>(ttl ? { ttl } : {}),
        list: listState<number>(ttl ? { ttl } : {}),
        map: mapState<string, number>(ttl ? { ttl } : {}),
        sum: reducingState<number>((a, b) => a + b, ttl ? { ttl } : {}),
        avg: aggregatingState(agg.avg((n: number) => n), ttl ? { ttl } : {}),
      })
      .handle({
        onElement(c, { key, state, emit }) {
          const n = c.arg ?? 0;
          switch (c.op) {
            case 'set': state.value.update(n); break;
            case 'unset': state.value.update(undefined as never); break;
            case 'clear-value': state.value.clear(); break;
            case 'add': state.list.add(n); break;
            case 'add-all': state.list.addAll([n, n + 1]); break;
            case 'replace-list': state.list.update([n]); break;
            case 'empty-list': state.list.update([]); break;
            case 'put': state.map.put(c.name!, n); break;
            case 'remove': state.map.remove(c.name!); break;
            case 'fold': state.sum.add(n); state.avg.add(n); break;
            case 'clear-all': state.value.clear(); state.list.clear(); state.map.clear(); state.sum.clear(); state.avg.clear(); break;
            case 'touch-all': state.value.update(n); state.list.add(n); state.map.put('t', n); state.sum.add(n); state.avg.add(n); break;
            case 'read': break;
            default: throw new Error(`unknown op ${c.op}`);
          }
          emit({ key, value: state.value.value(), list: [...state.list.get()], map: [...state.map.entries()], sum: state.sum.get(), avg: state.avg.get() });
        },
      })
      .sinkTo(sinks.collect(), { uid: 'views' });
  });

const empty = (key: string): View => ({ key, value: undefined, list: [], map: [], sum: undefined, avg: undefined });

test('value state: update, read back, update(undefined) and clear', async () => {
  await using d = JobTestDriver.of(stateJob());
  d.input<Cmd>('cmds').push(cmd('a', 'read'), cmd('a', 'set', 5), cmd('a', 'set', 6), cmd('a', 'unset'), cmd('a', 'set', 7), cmd('a', 'clear-value'));
  assert.deepEqual(d.output<View>('views').values().map((v) => v.value), [undefined, 5, 6, undefined, 7, undefined]);
});

test('list state: add, addAll, update and update([]) clears', async () => {
  await using d = JobTestDriver.of(stateJob());
  d.input<Cmd>('cmds').push(cmd('a', 'add', 1), cmd('a', 'add', 2), cmd('a', 'add-all', 10), cmd('a', 'replace-list', 9), cmd('a', 'empty-list'), cmd('a', 'add', 3));
  assert.deepEqual(d.output<View>('views').values().map((v) => v.list), [[1], [1, 2], [1, 2, 10, 11], [9], [], [3]]);
});

test('map state: put, overwrite, remove; removing the last entry empties it', async () => {
  await using d = JobTestDriver.of(stateJob());
  d.input<Cmd>('cmds').push(cmd('a', 'put', 1, 'x'), cmd('a', 'put', 2, 'y'), cmd('a', 'put', 3, 'x'), cmd('a', 'remove', 0, 'x'), cmd('a', 'remove', 0, 'y'), cmd('a', 'remove', 0, 'nope'));
  assert.deepEqual(d.output<View>('views').values().map((v) => v.map), [
    [['x', 1]],
    [['x', 1], ['y', 2]],
    [['x', 3], ['y', 2]],
    [['y', 2]],
    [],
    [],
  ]);
});

test('reducing and aggregating state fold every add; clear resets them', async () => {
  await using d = JobTestDriver.of(stateJob());
  d.input<Cmd>('cmds').push(cmd('a', 'fold', 2), cmd('a', 'fold', 4), cmd('a', 'fold', 9), cmd('a', 'clear-all'), cmd('a', 'fold', 1));
  assert.deepEqual(d.output<View>('views').values().map((v) => [v.sum, v.avg]), [[2, 2], [6, 3], [15, 5], [undefined, undefined], [1, 1]]);
});

test('state is per key: one key never sees another key\'s state', async () => {
  await using d = JobTestDriver.of(stateJob());
  d.input<Cmd>('cmds').push(cmd('a', 'touch-all', 1), cmd('b', 'read'), cmd('b', 'touch-all', 5), cmd('a', 'read'), cmd('b', 'clear-all'), cmd('a', 'read'));
  assert.deepEqual(d.output<View>('views').values(), [
    { key: 'a', value: 1, list: [1], map: [['t', 1]], sum: 1, avg: 1 },
    empty('b'),
    { key: 'b', value: 5, list: [5], map: [['t', 5]], sum: 5, avg: 5 },
    { key: 'a', value: 1, list: [1], map: [['t', 1]], sum: 1, avg: 1 },
    empty('b'),
    { key: 'a', value: 1, list: [1], map: [['t', 1]], sum: 1, avg: 1 },
  ]);
});

test('state with a TTL expires exactly ttl after the last write, in processing time', async () => {
  await using d = JobTestDriver.of(stateJob('10s'), { startTime: 1_000 });
  const cmds = d.input<Cmd>('cmds');
  const views = d.output<View>('views');
  cmds.push(cmd('a', 'touch-all', 3));
  d.advanceProcessingTime(9_999);
  cmds.push(cmd('a', 'read'));
  assert.deepEqual(views.drain(), [
    { key: 'a', value: 3, list: [3], map: [['t', 3]], sum: 3, avg: 3 },
    { key: 'a', value: 3, list: [3], map: [['t', 3]], sum: 3, avg: 3 },
  ]);
  d.advanceProcessingTime(1);
  cmds.push(cmd('a', 'read'));
  assert.deepEqual(views.drain(), [empty('a')]);
});

test('a write refreshes the TTL of the written state only (created-and-written semantics)', async () => {
  await using d = JobTestDriver.of(stateJob('10s'));
  const cmds = d.input<Cmd>('cmds');
  const views = d.output<View>('views');
  cmds.push(cmd('a', 'touch-all', 1)); // t = 0: everything written
  d.advanceProcessingTime(6_000);
  cmds.push(cmd('a', 'set', 2), cmd('a', 'add', 2)); // t = 6 000: value and list rewritten
  d.advanceProcessingTime(4_000); // t = 10 000: map, sum and avg expire; value and list live until 16 000
  cmds.push(cmd('a', 'read'));
  d.advanceProcessingTime(6_000); // t = 16 000
  cmds.push(cmd('a', 'read'));
  assert.deepEqual(views.drain().slice(3), [
    { key: 'a', value: 2, list: [1, 2], map: [], sum: undefined, avg: undefined },
    empty('a'),
  ]);
});

test('reading state does not refresh its TTL', async () => {
  await using d = JobTestDriver.of(stateJob('10s'));
  const cmds = d.input<Cmd>('cmds');
  cmds.push(cmd('a', 'set', 4));
  for (let i = 0; i < 4; i++) {
    d.advanceProcessingTime(2_500);
    cmds.push(cmd('a', 'read'));
  }
  assert.deepEqual(d.output<View>('views').values().map((v) => v.value), [4, 4, 4, 4, undefined]);
});

test('TTL is per key: writing one key does not keep another alive', async () => {
  await using d = JobTestDriver.of(stateJob('10s'));
  const cmds = d.input<Cmd>('cmds');
  cmds.push(cmd('a', 'set', 1));
  d.advanceProcessingTime(5_000);
  cmds.push(cmd('b', 'set', 2));
  d.advanceProcessingTime(5_000);
  cmds.push(cmd('a', 'read'), cmd('b', 'read'));
  assert.deepEqual(d.output<View>('views').values().slice(2).map((v) => [v.key, v.value]), [['a', undefined], ['b', 2]]);
});

test('keyed state survives a checkpoint and restore into a new driver', async () => {
  const job = stateJob();
  const first = JobTestDriver.of(job);
  first.input<Cmd>('cmds').push(cmd('a', 'touch-all', 1), cmd('a', 'add', 2), cmd('b', 'put', 7, 'z'));
  const snapshot = await first.checkpoint();
  first.input<Cmd>('cmds').push(cmd('a', 'set', 99)); // after the checkpoint: not in it
  await first.close();
  await using second = await JobTestDriver.restore(job, snapshot);
  second.input<Cmd>('cmds').push(cmd('a', 'read'), cmd('b', 'read'), cmd('c', 'read'));
  assert.deepEqual(second.output<View>('views').values(), [
    { key: 'a', value: 1, list: [1, 2], map: [['t', 1]], sum: 1, avg: 1 },
    { key: 'b', value: undefined, list: [], map: [['z', 7]], sum: undefined, avg: undefined },
    empty('c'),
  ]);
});

test('state read through an OperatorHarness: a running count per key', () => {
  const h = OperatorHarness.keyed((s: string) => s, (keyed) =>
    keyed.process<[string, number]>({ uid: 'counter' }).withState({ n: valueState<number>() }).handle({
      onElement(s, { key, state, emit }) {
        const n = (state.n.value() ?? 0) + 1;
        state.n.update(n);
        emit([key, n]);
      },
    }));
  for (const s of ['x', 'y', 'x', 'x', 'y']) h.processElement(s, 100);
  assert.deepEqual(h.records(), [['x', 1], ['y', 1], ['x', 2], ['x', 3], ['y', 2]]);
});

test('expired TTL state is left out of checkpoints; live state keeps its write time across a restore', async () => {
  const job = stateJob('10s');
  const first = JobTestDriver.of(job);
  first.input<Cmd>('cmds').push(cmd('old', 'set', 1));
  first.advanceProcessingTime(6_000);
  first.input<Cmd>('cmds').push(cmd('new', 'set', 2));
  first.advanceProcessingTime(4_000); // t = 10 000: 'old' expired, 'new' written at 6 000
  const snapshot = await first.checkpoint();
  await first.close();
  const entries = [...snapshot.states.get('stateful')![0]!.snapshot.keyed!.values()].flatMap((v) => (v as { state: unknown[][] }).state);
  assert.deepEqual(entries.map((e) => [e[0], e[2]]), [['value', 'new']]);
  await using second = await JobTestDriver.restore(job, snapshot, { startTime: 10_000 });
  second.input<Cmd>('cmds').push(cmd('old', 'read'), cmd('new', 'read'));
  second.advanceProcessingTime(5_999);
  second.input<Cmd>('cmds').push(cmd('new', 'read'));
  second.advanceProcessingTime(1);
  second.input<Cmd>('cmds').push(cmd('new', 'read'));
  assert.deepEqual(second.output<View>('views').values().map((v) => [v.key, v.value]), [['old', undefined], ['new', 2], ['new', 2], ['new', undefined]]);
});
