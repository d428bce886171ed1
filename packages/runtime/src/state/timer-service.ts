import type { Key } from '@millrace/core';
import { keyGroupOf, type KeyGroupRange } from '../key-groups.js';

/** A registered timer. */
export interface Timer {
  readonly timestamp: number;
  readonly key: Key;
  readonly namespace: string;
}

class TimerHeap {
  private readonly items: Timer[] = [];
  get size(): number { return this.items.length; }
  peek(): Timer | undefined { return this.items[0]; }
  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.timestamp <= t.timestamp) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = t;
  }
  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]!.timestamp < a[l]!.timestamp ? r : l;
        if (a[c]!.timestamp >= last.timestamp) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
  all(): readonly Timer[] { return this.items; }
}

const id = (ts: number, key: Key, ns: string): string => `${ts}\u0000${typeof key}\u0000${String(key)}\u0000${ns}`;

/**
 * Event-time and processing-time timers of one operator subtask, per key and namespace (a window, or the default
 * namespace), deduplicated: registering the same (time, key, namespace) twice fires once. Fired in time order.
 * Deletion is lazy: a deleted timer stays in the heap and is skipped when it surfaces.
 */
export class InternalTimerService {
  private readonly event = new TimerHeap();
  private readonly processing = new TimerHeap();
  private readonly liveEvent = new Set<string>();
  private readonly liveProcessing = new Set<string>();

  constructor(private readonly maxParallelism: number) {}

  registerEventTimeTimer(timestamp: number, key: Key, namespace: string): void {
    const k = id(timestamp, key, namespace);
    if (this.liveEvent.has(k)) return;
    this.liveEvent.add(k);
    this.event.push({ timestamp, key, namespace });
  }
  registerProcessingTimeTimer(timestamp: number, key: Key, namespace: string): void {
    const k = id(timestamp, key, namespace);
    if (this.liveProcessing.has(k)) return;
    this.liveProcessing.add(k);
    this.processing.push({ timestamp, key, namespace });
  }
  deleteEventTimeTimer(timestamp: number, key: Key, namespace: string): void {
    this.liveEvent.delete(id(timestamp, key, namespace));
  }
  deleteProcessingTimeTimer(timestamp: number, key: Key, namespace: string): void {
    this.liveProcessing.delete(id(timestamp, key, namespace));
  }

  /** Removes and returns the earliest live event-time timer at or before `watermark`, or undefined. */
  pollEventTime(watermark: number): Timer | undefined {
    return this.poll(this.event, this.liveEvent, watermark);
  }
  /** Removes and returns the earliest live processing-time timer at or before `now`, or undefined. */
  pollProcessingTime(now: number): Timer | undefined {
    return this.poll(this.processing, this.liveProcessing, now);
  }
  /** The earliest live processing-time timer's time, for scheduling a wake-up. */
  nextProcessingTime(): number | undefined {
    for (;;) {
      const t = this.processing.peek();
      if (!t) return undefined;
      if (this.liveProcessing.has(id(t.timestamp, t.key, t.namespace))) return t.timestamp;
      this.processing.pop();
    }
  }
  /** Live event-time timers, for diagnostics and tests. */
  eventTimerCount(): number {
    return this.liveEvent.size;
  }

  private poll(heap: TimerHeap, live: Set<string>, upTo: number): Timer | undefined {
    for (;;) {
      const t = heap.peek();
      if (!t || t.timestamp > upTo) return undefined;
      heap.pop();
      const k = id(t.timestamp, t.key, t.namespace);
      if (live.delete(k)) return t;
    }
  }

  /** Live timers grouped by key group. */
  snapshot(): Map<number, Array<[domain: 'e' | 'p', timestamp: number, key: Key, namespace: string]>> {
    const out = new Map<number, Array<['e' | 'p', number, Key, string]>>();
    const add = (domain: 'e' | 'p', heap: TimerHeap, live: Set<string>): void => {
      for (const t of heap.all()) {
        if (!live.has(id(t.timestamp, t.key, t.namespace))) continue;
        const kg = keyGroupOf(t.key, this.maxParallelism);
        let l = out.get(kg);
        if (!l) out.set(kg, (l = []));
        l.push([domain, t.timestamp, t.key, t.namespace]);
      }
    };
    add('e', this.event, this.liveEvent);
    add('p', this.processing, this.liveProcessing);
    return out;
  }

  restore(entries: Iterable<[number, ReadonlyArray<readonly ['e' | 'p', number, Key, string]>]>, range: KeyGroupRange): void {
    for (const [kg, list] of entries) {
      if (kg < range.start || kg > range.end) continue;
      for (const [d, ts, key, ns] of list) {
        if (d === 'e') this.registerEventTimeTimer(ts, key, ns);
        else this.registerProcessingTimeTimer(ts, key, ns);
      }
    }
  }
}
