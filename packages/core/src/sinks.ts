import type { Sink, SinkWriter } from './sink.js';

/** An in-memory sink that keeps every record it received, for tests and small jobs run in one thread. */
export interface CollectSink<T> extends Sink<T> {
  /** Records received so far, in arrival order. */
  values(): T[];
  /** Records with their timestamps. */
  records(): Array<{ value: T; timestamp: number }>;
  /** Forgets what was received. */
  clear(): void;
}

/** Built-in sinks. Local files are in `@millrace/runtime` (`jsonLinesFileSink`), since the core does no I/O. */
export const sinks = {
  /** Collects records in memory (all subtasks of an in-thread job write to the same list). */
  collect<T>(): CollectSink<T> {
    const got: Array<{ value: T; timestamp: number }> = [];
    return {
      description: 'collect',
      mainThread: true,
      createWriter: (): SinkWriter<T> => ({
        write(values, timestamps, n) {
          for (let i = 0; i < n; i++) got.push({ value: values[i]!, timestamp: timestamps[i]! });
        },
      }),
      values: () => got.map((r) => r.value),
      records: () => got.slice(),
      clear: () => { got.length = 0; },
    };
  },
  /** Writes one line per record to standard output: the record as JSON, after `prefix> ` when a prefix is given (as Flink). */
  print<T>(prefix = ''): Sink<T> {
    const lead = prefix ? `${prefix}> ` : '';
    return {
      description: `print(${prefix})`,
      // Worker threads relay records to the main thread, which prints them: nothing is lost when workers stop.
      mainThread: true,
      createWriter: (): SinkWriter<T> => ({
        write(values, _ts, n) {
          let s = '';
          for (let i = 0; i < n; i++) s += lead + JSON.stringify(values[i]) + '\n';
          if (s) console.log(s.slice(0, -1));
        },
      }),
    };
  },
};
