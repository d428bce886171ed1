import type { Clock } from '@millrace/core';

/** The wall clock, with host timers. The only place the runtime reads real time. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  schedule(timestamp: number, callback: () => void): () => void {
    const h = setTimeout(callback, Math.max(0, timestamp - Date.now()));
    h.unref?.();
    return () => clearTimeout(h);
  }
}
