import type {
  AggregatingState, Clock, Key, ListState, MapState, ReducingState, StateDescriptor, ValueState,
} from '@millrace/core';
import { keyGroupOf, type KeyGroupRange } from '../key-groups.js';

/** Namespace of state outside windows. */
export const DEFAULT_NAMESPACE = '';

interface Table {
  readonly name: string;
  readonly descriptor: StateDescriptor;
  readonly ttlMs: number | undefined;
  /** namespace → key → value (or `{ v, t }` with TTL, `t` = last write time). */
  readonly data: Map<string, Map<Key, unknown>>;
}

interface TtlEntry { v: unknown; t: number }

/** One entry of a keyed-state snapshot. */
export type KeyedStateEntry = readonly [state: string, namespace: string, key: Key, value: unknown];

/**
 * Keyed state on the heap: one table per declared state, scoped by the current key and namespace (a window, or the
 * default namespace). Snapshots are split by key group so they restore at any parallelism.
 *
 * Not thread-safe; one instance per operator subtask. `setCurrentKey` before any state access.
 */
export class HeapKeyedStateBackend {
  private readonly tables = new Map<string, Table>();
  currentKey: Key = '';
  currentNamespace: string = DEFAULT_NAMESPACE;

  constructor(
    private readonly clock: Clock,
    private readonly maxParallelism: number,
  ) {}

  /** Declares a state and returns its live handle (one handle for all keys; reads the current key at each call). */
  register<D extends StateDescriptor>(name: string, descriptor: D): unknown {
    if (this.tables.has(name)) throw new Error(`state '${name}' declared twice`);
    const table: Table = { name, descriptor, ttlMs: descriptor.ttlMs, data: new Map() };
    this.tables.set(name, table);
    return this.handle(table);
  }

  /** The tables' descriptors, for checkpoint metadata. */
  descriptors(): Array<{ name: string; kind: string; version: number; ttlMs: number | undefined }> {
    return [...this.tables.values()].map((t) => ({ name: t.name, kind: t.descriptor.kind, version: t.descriptor.version, ttlMs: t.ttlMs }));
  }

  private read(t: Table): unknown {
    const ns = t.data.get(this.currentNamespace);
    if (!ns) return undefined;
    const raw = ns.get(this.currentKey);
    if (t.ttlMs === undefined || raw === undefined) return raw;
    const e = raw as TtlEntry;
    if (this.clock.now() - e.t >= t.ttlMs) {
      ns.delete(this.currentKey);
      return undefined;
    }
    return e.v;
  }

  private write(t: Table, value: unknown): void {
    let ns = t.data.get(this.currentNamespace);
    if (!ns) t.data.set(this.currentNamespace, (ns = new Map()));
    ns.set(this.currentKey, t.ttlMs === undefined ? value : { v: value, t: this.clock.now() });
  }

  private clear(t: Table): void {
    const ns = t.data.get(this.currentNamespace);
    if (!ns) return;
    ns.delete(this.currentKey);
    if (ns.size === 0) t.data.delete(this.currentNamespace);
  }

  /** Moves the current key's value of `name` from the namespaces `from` into `to`, merging with `merge` (session windows). */
  mergeNamespaces(name: string, to: string, from: readonly string[], merge: (a: unknown, b: unknown) => unknown): void {
    const t = this.tables.get(name)!;
    const saved = this.currentNamespace;
    let acc: unknown;
    let has = false;
    for (const ns of [to, ...from]) {
      this.currentNamespace = ns;
      const v = this.read(t);
      if (v !== undefined) {
        acc = has ? merge(acc, v) : v;
        has = true;
      }
      if (ns !== to) this.clear(t);
    }
    this.currentNamespace = to;
    if (has) this.write(t, acc);
    this.currentNamespace = saved;
  }

  /** Reads `name` for the current key in namespace `ns` without changing the current namespace. */
  peek(name: string, ns: string): unknown {
    const saved = this.currentNamespace;
    this.currentNamespace = ns;
    const v = this.read(this.tables.get(name)!);
    this.currentNamespace = saved;
    return v;
  }

  private handle(t: Table): unknown {
    const d = t.descriptor;
    switch (d.kind) {
      case 'value':
        return {
          value: () => this.read(t),
          update: (v: unknown) => (v === undefined ? this.clear(t) : this.write(t, v)),
          clear: () => this.clear(t),
        } satisfies ValueState<unknown>;
      case 'list':
        return {
          get: () => (this.read(t) as unknown[] | undefined) ?? [],
          add: (v: unknown) => {
            const l = this.read(t) as unknown[] | undefined;
            if (l) { l.push(v); if (t.ttlMs !== undefined) this.write(t, l); } else this.write(t, [v]);
          },
          addAll: (vs: readonly unknown[]) => {
            if (vs.length === 0) return;
            const l = this.read(t) as unknown[] | undefined;
            this.write(t, l ? l.concat(vs) : vs.slice());
          },
          update: (vs: readonly unknown[]) => (vs.length === 0 ? this.clear(t) : this.write(t, vs.slice())),
          clear: () => this.clear(t),
        } satisfies ListState<unknown>;
      case 'map': {
        const get = (): Map<unknown, unknown> | undefined => this.read(t) as Map<unknown, unknown> | undefined;
        const touch = (m: Map<unknown, unknown>): void => (m.size === 0 ? this.clear(t) : this.write(t, m));
        return {
          get: (k: unknown) => get()?.get(k),
          put: (k: unknown, v: unknown) => { const m = get() ?? new Map(); m.set(k, v); touch(m); },
          remove: (k: unknown) => { const m = get(); if (m) { m.delete(k); touch(m); } },
          contains: (k: unknown) => get()?.has(k) ?? false,
          entries: () => (get() ?? new Map()).entries(),
          keys: () => (get() ?? new Map()).keys(),
          values: () => (get() ?? new Map()).values(),
          isEmpty: () => (get()?.size ?? 0) === 0,
          clear: () => this.clear(t),
        } satisfies MapState<unknown, unknown>;
      }
      case 'reducing':
        return {
          get: () => this.read(t),
          add: (v: unknown) => {
            const cur = this.read(t);
            this.write(t, cur === undefined ? v : d.reduce(cur, v));
          },
          clear: () => this.clear(t),
        } satisfies ReducingState<unknown>;
      case 'aggregating':
        return {
          get: () => {
            const acc = this.read(t);
            return acc === undefined ? undefined : d.aggregate.getResult(acc);
          },
          add: (v: unknown) => {
            const acc = this.read(t);
            this.write(t, d.aggregate.add(v, acc === undefined ? d.aggregate.createAccumulator() : acc));
          },
          clear: () => this.clear(t),
        } satisfies AggregatingState<unknown, unknown>;
    }
  }

  /** All live entries, grouped by key group (expired TTL entries are left out). */
  snapshot(): Map<number, KeyedStateEntry[]> {
    const out = new Map<number, KeyedStateEntry[]>();
    const now = this.clock.now();
    const kgCache = new Map<Key, number>();
    for (const t of this.tables.values()) {
      for (const [ns, keys] of t.data) {
        for (const [key, raw] of keys) {
          let v = raw;
          if (t.ttlMs !== undefined) {
            const e = raw as TtlEntry;
            if (now - e.t >= t.ttlMs) continue;
            v = { v: structuredClone(e.v), t: e.t };
          } else {
            v = structuredClone(raw);
          }
          let kg = kgCache.get(key);
          if (kg === undefined) kgCache.set(key, (kg = keyGroupOf(key, this.maxParallelism)));
          let list = out.get(kg);
          if (!list) out.set(kg, (list = []));
          list.push([t.name, ns, key, v]);
        }
      }
    }
    return out;
  }

  /** Loads entries of the key groups in `range` (others are ignored: they belong to another subtask). */
  restore(entries: Iterable<[number, readonly KeyedStateEntry[]]>, range: KeyGroupRange): void {
    for (const [kg, list] of entries) {
      if (kg < range.start || kg > range.end) continue;
      for (const [name, ns, key, v] of list) {
        const t = this.tables.get(name);
        if (!t) throw new Error(`checkpoint has state '${name}', which this operator no longer declares`);
        let m = t.data.get(ns);
        if (!m) t.data.set(ns, (m = new Map()));
        m.set(key, v);
      }
    }
  }
}
