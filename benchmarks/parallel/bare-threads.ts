/**
 * The machine's own ceiling for the CPU-bound benchmark: the job's per-record work (`score`) alone, on one bare worker
 * thread and split over two, in the same run. When two bare threads do not reach 1.7× (other processes hold a core),
 * no engine can; read the job's speedup against this figure. Timed from a common start signal, once every thread
 * has loaded, to the last thread's end.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { score } from './cpu-job.ts';

interface Task { readonly bareThreads: true; readonly tsx: string; readonly module: string; readonly from: number; readonly to: number }

if (!isMainThread && (workerData as Task | undefined)?.bareThreads) {
  const task = workerData as Task;
  parentPort!.once('message', () => {
    let s = 0;
    for (let i = task.from; i < task.to; i++) s += score({ device: i % 5_000, value: i, ts: i });
    parentPort!.postMessage({ done: s });
  });
  parentPort!.postMessage({ ready: true });
}

// Node 20 cannot load TypeScript in a worker by itself: the worker registers tsx, then imports this module.
const TSX = import.meta.resolve('tsx/esm/api');
const ENTRY = `const { workerData } = require('node:worker_threads');
import(workerData.tsx).then(({ register }) => { register(); return import(workerData.module); });`;

/** Runs `score` over `events` records split across `threads` worker threads; resolves with the wall time in ms. */
export async function bareThreads(threads: number, events: number): Promise<number> {
  const workers = Array.from({ length: threads }, (_, p) => {
    const task: Task = { bareThreads: true, tsx: TSX, module: import.meta.url, from: Math.floor((p * events) / threads), to: Math.floor(((p + 1) * events) / threads) };
    return new Worker(ENTRY, { eval: true, workerData: task });
  });
  try {
    const next = (w: Worker): Promise<unknown> => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await Promise.all(workers.map(next));
    const done = workers.map(next);
    const t0 = performance.now();
    for (const w of workers) w.postMessage('go');
    await Promise.all(done);
    return performance.now() - t0;
  } finally {
    for (const w of workers) void w.terminate();
  }
}
