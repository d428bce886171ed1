import type { AggregateFunction, Key, KeySelector } from '@millrace/core';
import type { RecordBatch } from '../record-batch.js';
import { keyGroupOf } from '../key-groups.js';
import type { Operator, OperatorContext, OperatorSnapshot } from './operator.js';

/**
 * A rolling aggregate per key (no windows): adds each record to its key's accumulator and emits the updated result
 * with the record's timestamp, like Flink's `keyBy(…).sum(…)` / `reduce(…)`.
 */
export class RollingAggregateOperator implements Operator {
  private readonly accs = new Map<Key, unknown>();
  private readonly aggregate: AggregateFunction<unknown, unknown, unknown>;
  private readonly result: ((key: any, r: any) => unknown) | undefined;

  constructor(private readonly ctx: OperatorContext, private readonly key: KeySelector<unknown, Key>) {
    const s = ctx.node.spec;
    if (s.kind !== 'rolling') throw new Error(`not a rolling aggregate: ${ctx.node.name}`);
    this.aggregate = s.aggregate;
    this.result = s.result;
  }

  processBatch(batch: RecordBatch): void {
    const { values, timestamps, length } = batch;
    const { aggregate: a, accs, result, ctx } = this;
    ctx.metrics.recordsIn += length;
    for (let i = 0; i < length; i++) {
      const v = values[i];
      const t = timestamps[i]!;
      try {
        const k = this.key(v);
        let acc = accs.get(k);
        acc = a.add(v, acc === undefined ? a.createAccumulator() : acc);
        accs.set(k, acc);
        const r = a.getResult(acc);
        ctx.output.emit(result ? result(k, r) : r, t);
        ctx.metrics.recordsOut++;
      } catch (e) {
        ctx.failRecord(ctx.node, v, t, e);
      }
    }
  }

  processWatermark(): void {}

  snapshot(): OperatorSnapshot {
    const keyed = new Map<number, Array<[Key, unknown]>>();
    for (const [k, acc] of this.accs) {
      const kg = keyGroupOf(k, this.ctx.maxParallelism);
      let l = keyed.get(kg);
      if (!l) keyed.set(kg, (l = []));
      l.push([k, structuredClone(acc)]);
    }
    return { keyed };
  }

  restore(snapshots: readonly OperatorSnapshot[]): void {
    const { start, end } = this.ctx.keyGroupRange;
    for (const s of snapshots) {
      for (const [kg, list] of s.keyed ?? []) {
        if (kg < start || kg > end) continue;
        for (const [k, acc] of list as Array<[Key, unknown]>) this.accs.set(k, acc);
      }
    }
  }
}
