import { toMillis, type Duration } from './duration.js';
import type { AggregateFunction } from './aggregate.js';

/** Options shared by every keyed state descriptor. */
export interface StateOptions {
  /**
   * Time to live, in processing time, counted from the last write (Flink's `OnCreateAndWrite`). Expired values are
   * never returned and are dropped from snapshots.
   */
  readonly ttl?: Duration;
  /** Bump when the stored shape changes; written into checkpoint metadata so a restore can tell. Default 1. */
  readonly version?: number;
}

interface DescriptorBase {
  readonly ttlMs: number | undefined;
  readonly version: number;
}
/** Declares a {@link ValueState}. */
export interface ValueStateDescriptor<T> extends DescriptorBase { readonly kind: 'value'; readonly __t?: T }
/** Declares a {@link ListState}. */
export interface ListStateDescriptor<T> extends DescriptorBase { readonly kind: 'list'; readonly __t?: T }
/** Declares a {@link MapState}. */
export interface MapStateDescriptor<K, V> extends DescriptorBase { readonly kind: 'map'; readonly __k?: K; readonly __v?: V }
/** Declares a {@link ReducingState}. */
export interface ReducingStateDescriptor<T> extends DescriptorBase { readonly kind: 'reducing'; readonly reduce: (a: T, b: T) => T }
/** Declares an {@link AggregatingState}. */
export interface AggregatingStateDescriptor<IN, ACC, OUT> extends DescriptorBase {
  readonly kind: 'aggregating';
  readonly aggregate: AggregateFunction<IN, ACC, OUT>;
}
/** Any keyed state descriptor. */
export type StateDescriptor =
  | ValueStateDescriptor<any>
  | ListStateDescriptor<any>
  | MapStateDescriptor<any, any>
  | ReducingStateDescriptor<any>
  | AggregatingStateDescriptor<any, any, any>;

/** One value per key (and namespace). */
export interface ValueState<T> {
  /** The value, or `undefined` when unset or expired. */
  value(): T | undefined;
  update(value: T): void;
  clear(): void;
}
/** A list per key. `get()` returns a copy-free read-only view valid until the next write. */
export interface ListState<T> {
  get(): readonly T[];
  add(value: T): void;
  addAll(values: readonly T[]): void;
  update(values: readonly T[]): void;
  clear(): void;
}
/** A map per key. Keys compare as `Map` keys do (primitives by value). */
export interface MapState<K, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  remove(key: K): void;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
  clear(): void;
}
/** A value per key folded with a reduce function on each `add`. */
export interface ReducingState<T> {
  get(): T | undefined;
  add(value: T): void;
  clear(): void;
}
/** An accumulator per key fed by `add`; `get` returns the aggregate's result. */
export interface AggregatingState<IN, OUT> {
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/** The live state object a descriptor yields. */
export type StateOf<D> =
  D extends ValueStateDescriptor<infer T> ? ValueState<T>
  : D extends ListStateDescriptor<infer T> ? ListState<T>
  : D extends MapStateDescriptor<infer K, infer V> ? MapState<K, V>
  : D extends ReducingStateDescriptor<infer T> ? ReducingState<T>
  : D extends AggregatingStateDescriptor<infer IN, any, infer OUT> ? AggregatingState<IN, OUT>
  : never;

/** Maps a record of descriptors to a record of live states. */
export type StatesOf<S extends Record<string, StateDescriptor>> = { readonly [K in keyof S]: StateOf<S[K]> };

function base(opts: StateOptions | undefined): DescriptorBase {
  return { ttlMs: opts?.ttl === undefined ? undefined : toMillis(opts.ttl, 'state ttl'), version: opts?.version ?? 1 };
}

/** Declares a value per key: `valueState<Txn>({ ttl: '1m' })`. */
export function valueState<T>(opts?: StateOptions): ValueStateDescriptor<T> {
  return { kind: 'value', ...base(opts) };
}
/** Declares a list per key. */
export function listState<T>(opts?: StateOptions): ListStateDescriptor<T> {
  return { kind: 'list', ...base(opts) };
}
/** Declares a map per key. */
export function mapState<K, V>(opts?: StateOptions): MapStateDescriptor<K, V> {
  return { kind: 'map', ...base(opts) };
}
/** Declares a value per key that `add` folds with `reduce`. */
export function reducingState<T>(reduce: (a: T, b: T) => T, opts?: StateOptions): ReducingStateDescriptor<T> {
  return { kind: 'reducing', reduce, ...base(opts) };
}
/** Declares an accumulator per key driven by an {@link AggregateFunction}, e.g. `aggregatingState(agg.avg(...))`. */
export function aggregatingState<IN, ACC, OUT>(aggregate: AggregateFunction<IN, ACC, OUT>, opts?: StateOptions): AggregatingStateDescriptor<IN, ACC, OUT> {
  return { kind: 'aggregating', aggregate, ...base(opts) };
}
