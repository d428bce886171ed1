import type { Source, SourceBatch, SourceReader } from './source.js';

/** Options of the generator source. */
export interface GeneratorOptions<T> {
  /** Produces the i-th record; must be deterministic in `i` so that a restored job regenerates the same records. */
  readonly generate: (index: number) => T;
  /** Number of records; omit for an unbounded stream. */
  readonly count?: number;
  /** Records per second of processing time; omit to generate as fast as the job consumes. */
  readonly ratePerSecond?: number;
}

function checkPosition(position: unknown, what: string): number {
  if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) {
    throw new TypeError(`${what} source cannot restore position ${JSON.stringify(position)}: expected a record index`);
  }
  return position;
}

/** Built-in sources. The `env.from…` shortcuts use them. */
export const sources = {
  /** A bounded, replayable source over an array. */
  array<T>(values: readonly T[]): Source<T> {
    return {
      description: `array(${values.length} records)`,
      bounded: true,
      createReader(ctx): SourceReader<T> {
        // Subtask i of p reads indexes i, i + p, …; the position is the next local index.
        let next = 0;
        const stride = ctx.parallelism;
        const offset = ctx.subtaskIndex;
        return {
          next(max) {
            if (offset + next * stride >= values.length) return null;
            const out: T[] = [];
            while (out.length < max && offset + next * stride < values.length) out.push(values[offset + next++ * stride]!);
            return { values: out };
          },
          snapshot: () => next,
          restore(p) { next = checkPosition(p, 'array'); },
        };
      },
    };
  },

  /** A bounded source over an iterable; on restore it iterates again and skips what was already read. */
  iterable<T>(values: Iterable<T>): Source<T> {
    return {
      description: 'iterable',
      bounded: true,
      createReader(ctx): SourceReader<T> {
        if (ctx.parallelism > 1 && ctx.subtaskIndex > 0) return { next: () => null, snapshot: () => 0 };
        let it: Iterator<T> | undefined;
        let read = 0;
        let skip = 0;
        return {
          next(max) {
            it ??= values[Symbol.iterator]();
            for (; skip > 0; skip--) if (it.next().done) return null;
            const out: T[] = [];
            while (out.length < max) {
              const r = it.next();
              if (r.done) break;
              out.push(r.value);
            }
            read += out.length;
            return out.length === 0 ? null : { values: out };
          },
          snapshot: () => read,
          restore(p) { read = skip = checkPosition(p, 'iterable'); },
        };
      },
    };
  },

  /** A source over an async iterable; bounded unless told otherwise. Restore iterates again and skips. */
  asyncIterable<T>(values: AsyncIterable<T>, bounded = true): Source<T> {
    return {
      description: 'asyncIterable',
      bounded,
      createReader(ctx): SourceReader<T> {
        if (ctx.parallelism > 1 && ctx.subtaskIndex > 0) return { next: () => null, snapshot: () => 0 };
        let it: AsyncIterator<T> | undefined;
        let read = 0;
        let skip = 0;
        return {
          async next(max): Promise<SourceBatch<T> | null> {
            it ??= values[Symbol.asyncIterator]();
            for (; skip > 0; skip--) if ((await it.next()).done) return null;
            const r = await it.next();
            if (r.done) return null;
            const out: T[] = [r.value];
            read += 1;
            // Take only what is ready without waiting again would need a peek; one record per call keeps latency low.
            void max;
            return { values: out };
          },
          snapshot: () => read,
          restore(p) { read = skip = checkPosition(p, 'asyncIterable'); },
          async close() { await it?.return?.(); },
        };
      },
    };
  },

  /** A deterministic generator: record i is `generate(i)`. Replayable; rate-limited on the job's clock. */
  generator<T>(opts: GeneratorOptions<T>): Source<T> {
    const count = opts.count ?? Number.POSITIVE_INFINITY;
    if (!(count >= 0)) throw new RangeError(`generator count must be a non-negative number, got ${opts.count}`);
    const rate = opts.ratePerSecond;
    if (rate !== undefined && !(rate > 0)) throw new RangeError(`generator ratePerSecond must be positive, got ${rate}`);
    return {
      description: `generator(${Number.isFinite(count) ? `${count} records` : 'unbounded'}${rate ? `, ${rate}/s` : ''})`,
      bounded: Number.isFinite(count),
      createReader(ctx): SourceReader<T> {
        const stride = ctx.parallelism;
        let next = ctx.subtaskIndex; // global index of the next record of this subtask
        let startedAt: number | undefined;
        let emitted = 0;
        const subRate = rate === undefined ? undefined : rate / stride;
        const take = (max: number): SourceBatch<T> | null => {
          if (next >= count) return null;
          const k = Math.min(max, Math.ceil((count - next) / stride));
          const out = new Array<T>(k);
          for (let i = 0; i < k; i++) {
            out[i] = opts.generate(next);
            next += stride;
          }
          emitted += k;
          return { values: out };
        };
        return {
          next(max) {
            if (subRate === undefined) return take(max);
            if (next >= count) return null;
            const now = ctx.clock.now();
            startedAt ??= now;
            const allowed = Math.floor(((now - startedAt) / 1000) * subRate) + 1 - emitted;
            if (allowed > 0) return take(Math.min(max, allowed));
            const wakeAt = startedAt + Math.ceil(((emitted) / subRate) * 1000);
            // Wake with an empty batch: the engine calls next() again, which takes records synchronously (a record
            // taken here would advance the position before the engine has it).
            return new Promise<SourceBatch<T> | null>((resolve) => {
              const onAbort = (): void => { cancel(); resolve({ values: [] }); };
              const cancel = ctx.clock.schedule(wakeAt, () => { ctx.signal.removeEventListener('abort', onAbort); resolve({ values: [] }); });
              ctx.signal.addEventListener('abort', onAbort, { once: true });
            });
          },
          snapshot: () => next,
          restore(p) { next = checkPosition(p, 'generator'); emitted = 0; startedAt = undefined; },
        };
      },
    };
  },
};
