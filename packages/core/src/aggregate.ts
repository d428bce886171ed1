/**
 * An incremental aggregation, as in Flink: an accumulator is created per key and window, each record is added, two
 * accumulators can be merged (session windows), and the result is read when the window fires.
 *
 * `add` and `merge` may mutate and return their accumulator argument. All four must be deterministic and must not
 * keep references to accumulators between calls (accumulators are snapshotted in checkpoints by value).
 */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  merge(a: ACC, b: ACC): ACC;
  getResult(accumulator: ACC): OUT;
}

const count: AggregateFunction<unknown, number, number> = {
  createAccumulator: () => 0,
  add: (_v, acc) => acc + 1,
  merge: (a, b) => a + b,
  getResult: (acc) => acc,
};

/** Built-in aggregate functions; pass them to `aggregate(...)` on keyed or windowed streams. */
export const agg = {
  /** Counts records. */
  count<T = unknown>(): AggregateFunction<T, number, number> {
    return count as AggregateFunction<T, number, number>;
  },
  /** Sums `field(record)`. */
  sum<T>(field: (value: T) => number): AggregateFunction<T, number, number> {
    return { createAccumulator: () => 0, add: (v, acc) => acc + field(v), merge: (a, b) => a + b, getResult: (acc) => acc };
  },
  /** Smallest `field(record)`; `Infinity` for no records (never observed: a window fires only with records). */
  min<T>(field: (value: T) => number): AggregateFunction<T, number, number> {
    return {
      createAccumulator: () => Number.POSITIVE_INFINITY,
      add: (v, acc) => { const x = field(v); return x < acc ? x : acc; },
      merge: (a, b) => (a < b ? a : b),
      getResult: (acc) => acc,
    };
  },
  /** Largest `field(record)`. */
  max<T>(field: (value: T) => number): AggregateFunction<T, number, number> {
    return {
      createAccumulator: () => Number.NEGATIVE_INFINITY,
      add: (v, acc) => { const x = field(v); return x > acc ? x : acc; },
      merge: (a, b) => (a > b ? a : b),
      getResult: (acc) => acc,
    };
  },
  /** Arithmetic mean of `field(record)`. */
  avg<T>(field: (value: T) => number): AggregateFunction<T, { sum: number; count: number }, number> {
    return {
      createAccumulator: () => ({ sum: 0, count: 0 }),
      add: (v, acc) => { acc.sum += field(v); acc.count += 1; return acc; },
      merge: (a, b) => ({ sum: a.sum + b.sum, count: a.count + b.count }),
      getResult: (acc) => (acc.count === 0 ? Number.NaN : acc.sum / acc.count),
    };
  },
  /** Wraps a reduce function as an aggregate (result = the reduced value). */
  reduce<T>(fn: (a: T, b: T) => T): AggregateFunction<T, { has: boolean; value: T | undefined }, T> {
    return {
      createAccumulator: () => ({ has: false, value: undefined }),
      add: (v, acc) => { acc.value = acc.has ? fn(acc.value as T, v) : v; acc.has = true; return acc; },
      merge: (a, b) => (!a.has ? b : !b.has ? a : { has: true, value: fn(a.value as T, b.value as T) }),
      getResult: (acc) => acc.value as T,
    };
  },
};
