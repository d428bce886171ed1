import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { JobDefinition, Sink, SinkWriter } from '@millrace/core';
import type { ChannelMessage, ChannelReceiver } from '../executor/channel-message.js';
import { JobRuntime } from '../executor/job-runtime.js';
import type { Subtask } from '../executor/subtask.js';
import { RecordBatch } from '../record-batch.js';
import { decodeValues, encodeValues } from './batch-codec.js';
import { SystemClock } from '../system-clock.js';
import {
  errorData, fingerprintDifference, planFingerprint, subtaskKey, workerOf,
  type FromWorker, type LinkMessage, type SlotTask, type ToWorker,
} from './protocol.js';

const YIELD_EVERY = 16;
/**
 * A read loop also yields once it ran this long: other workers' batches and credits get in only then, and a worker
 * that held them for 16 slow batches left its peers stalled on credits (bench:parallel, docs/decisions.md).
 */
const YIELD_AFTER_MS = 1;

async function ensureTypeScriptLoader(url: string): Promise<void> {
  if (!/\.[cm]?ts$/.test(url)) return;
  if ((process.features as { typescript?: unknown }).typescript) return;
  const { register } = await import('tsx/esm/api');
  register();
}

/** Imports the job module in this worker and checks it is a job. */
async function loadJob(url: string): Promise<JobDefinition> {
  await ensureTypeScriptLoader(url);
  let mod: { default?: Partial<JobDefinition> };
  try {
    mod = (await import(url.startsWith('file:') ? url : pathToFileURL(url).href)) as { default?: Partial<JobDefinition> };
  } catch (e) {
    throw new Error(`job module ${url} could not be imported in a worker thread: ${(e as Error).message}`, { cause: e });
  }
  const job = mod.default;
  if (!job || typeof job.plan !== 'function') {
    throw new Error(`job module ${url} has no job as its default export, so worker threads cannot rebuild it: export default defineJob(…)`);
  }
  return job as JobDefinition;
}

/**
 * One worker's part of a parallel job: the subtasks placed on this worker, their channels to the other workers
 * (batches with credits for backpressure, control messages in order), its source read loops, and its side of the
 * checkpoint protocol. Runs until the coordinator says the job finished or was cancelled.
 */
export async function runSlot(task: SlotTask): Promise<void> {
  const control = task.control;
  const post = (m: FromWorker): void => control.postMessage(m);
  let rt: JobRuntime | undefined;
  let settle: () => void = () => {};
  const ended = new Promise<void>((r) => (settle = r));
  let cancelled = false;
  const fail = (e: unknown): void => {
    if (cancelled) return;
    cancelled = true;
    post({ type: 'failed', error: errorData(e) });
    void rt?.close().catch(() => {});
    settle();
  };

  try {
    const job = await loadJob(task.moduleUrl);
    const plan = job.plan(task.overrides);
    const fp = planFingerprint(plan);
    if (fp !== task.fingerprint) {
      throw new Error(
        `job '${plan.jobName}' from ${task.moduleUrl} was built differently in a worker thread: ${fingerprintDifference(task.fingerprint, fp)}. ` +
          'A job is a module: every worker imports it and calls its build function again, so the plan may depend only on module-level values and the job options — not on values computed inside main() or passed in at run time.',
      );
    }

    // ---- channels to other workers ----
    const credits = new Map<number, number>();
    const creditKey = (to: number, ch: number): number => to * 4096 + ch;
    const queues = new Map<number, Array<[LinkMessage, MessagePort]>>();
    const waiters: Array<() => void> = [];
    const wake = (): void => { for (const w of waiters.splice(0)) w(); };
    let inFlightMax = 0;

    class RemoteSubtask implements ChannelReceiver {
      constructor(readonly key: number, readonly port: MessagePort) {}
      receive(ch: number, m: ChannelMessage): void {
        const to = this.key;
        switch (m.kind) {
          case 'batch': {
            const b = m.batch;
            const transfer: ArrayBuffer[] = [];
            const v = encodeValues(b.values, b.length, transfer);
            const ts = new Float64Array(b.length);
            for (let i = 0; i < b.length; i++) ts[i] = b.timestamps[i]!;
            transfer.push(ts.buffer);
            this.port.postMessage({ t: 'b', to, ch, v, ts } satisfies LinkMessage, transfer);
            const k = creditKey(to, ch);
            const left = (credits.get(k) ?? task.credits) - 1;
            credits.set(k, left);
            if (task.credits - left > inFlightMax) inFlightMax = task.credits - left;
            return;
          }
          case 'watermark': this.port.postMessage({ t: 'w', to, ch, wm: m.watermark } satisfies LinkMessage); return;
          case 'idle': this.port.postMessage({ t: 'i', to, ch } satisfies LinkMessage); return;
          case 'barrier': this.port.postMessage({ t: 'r', to, ch, id: m.checkpointId } satisfies LinkMessage); return;
          case 'end': this.port.postMessage({ t: 'e', to, ch } satisfies LinkMessage); return;
        }
      }
    }

    const collectRelays = new Map<string, Sink<unknown>>();
    for (const n of plan.nodes) {
      if (n.spec.kind === 'sink' && n.spec.sink.mainThread) {
        const uid = n.uid;
        collectRelays.set(uid, {
          description: `${n.spec.sink.description} (relayed to the main thread)`,
          createWriter: (): SinkWriter<unknown> => ({
            write(values, timestamps, count) {
              post({ type: 'collect', uid, values: values.slice(0, count), timestamps: timestamps.slice(0, count) });
            },
          }),
        });
      }
    }

    const runtime = new JobRuntime(plan, new SystemClock(), undefined, { sinks: collectRelays }, {
      isLocal: (_chain, index) => workerOf(index, task.workers) === task.slot,
      remote: (chain, index) => new RemoteSubtask(subtaskKey(chain, index), task.links[workerOf(index, task.workers)]!),
    });
    rt = runtime;
    runtime.onFailure = fail;
    runtime.log = (message) => post({ type: 'log', message });
    const byKey = new Map<number, Subtask>(runtime.subtasks.map((s) => [subtaskKey(s.chain.id, s.index), s]));

    // The remote channels each local subtask writes to, directly or through local subtasks it feeds synchronously.
    const outlets = new Map<Subtask, number[]>();
    const outletsOf = (s: Subtask, seen = new Set<Subtask>()): number[] => {
      const known = outlets.get(s);
      if (known) return known;
      const out: number[] = [];
      seen.add(s);
      for (const r of [s.main, ...s.sides.values()]) {
        if (!r) continue;
        for (const t of r.targets) {
          for (const recv of t.receivers) {
            if (recv instanceof RemoteSubtask) out.push(creditKey(recv.key, t.channel));
            else if (!seen.has(recv as Subtask)) out.push(...outletsOf(recv as Subtask, seen));
          }
        }
      }
      outlets.set(s, out);
      return out;
    };
    for (const s of runtime.subtasks) outletsOf(s);
    const blocked = (s: Subtask): boolean => {
      for (const k of outlets.get(s)!) if ((credits.get(k) ?? task.credits) <= 0) return true;
      return false;
    };

    // ---- receiving ----
    let pumping = false;
    let restored = false;
    const deliver = (s: Subtask, m: LinkMessage): void => {
      switch (m.t) {
        case 'b': {
          const batch = new RecordBatch();
          batch.values = decodeValues(m.v);
          batch.timestamps = m.ts as unknown as number[];
          batch.length = m.ts.length;
          s.receive(m.ch, { kind: 'batch', batch });
          return;
        }
        case 'w': s.receive(m.ch, { kind: 'watermark', watermark: m.wm }); return;
        case 'i': s.receive(m.ch, { kind: 'idle' }); return;
        case 'r': s.receive(m.ch, { kind: 'barrier', checkpointId: m.id }); return;
        case 'e': s.receive(m.ch, { kind: 'end' }); return;
        default: return;
      }
    };
    const pump = (): void => {
      if (pumping || cancelled || !restored) return;
      pumping = true;
      try {
        for (let progress = true; progress; ) {
          progress = false;
          for (const [key, q] of queues) {
            const s = byKey.get(key)!;
            while (q.length > 0 && !blocked(s)) {
              const [m, from] = q.shift()!;
              deliver(s, m);
              if (m.t === 'b') from.postMessage({ t: 'c', to: m.to, ch: m.ch } satisfies LinkMessage);
              progress = true;
              if (runtime.hasPendingWrites) {
                // A sink is writing: hold further input (and credits) until it is done.
                void runtime.drainWrites().then(() => { pumping = false; pump(); }, fail);
                return;
              }
            }
          }
        }
        pumping = false;
        wake();
      } catch (e) {
        pumping = false;
        fail(e);
      }
    };
    for (const port of task.links) {
      if (!port) continue;
      port.on('message', (m: LinkMessage) => {
        if (m.t === 'c') {
          const k = creditKey(m.to, m.ch);
          credits.set(k, (credits.get(k) ?? task.credits) + 1);
          pump();
          wake();
          return;
        }
        let q = queues.get(m.to);
        if (!q) queues.set(m.to, (q = []));
        q.push([m, port]);
        pump();
      });
    }

    // ---- reading ----
    const readLoop = async (i: number): Promise<void> => {
      const d = runtime.sources[i]!;
      let n = 0;
      let yielded = performance.now();
      while (!cancelled && runtime.failed === undefined && !d.subtask.finished) {
        const waitFrom = performance.now();
        let waited = false;
        while (!cancelled && (blocked(d.subtask) || runtime.hasPendingWrites)) {
          waited = true;
          if (runtime.hasPendingWrites) await runtime.drainWrites();
          else await new Promise<void>((r) => waiters.push(r));
        }
        if (waited) d.addBackpressure(performance.now() - waitFrom);
        if (cancelled) return;
        let r = d.reader.next(plan.config.batchSize);
        const sync = !(r && typeof (r as Promise<unknown>).then === 'function');
        if (!sync) r = await (r as Promise<null>);
        if (cancelled || runtime.failed !== undefined) return;
        const batch = r as Awaited<typeof r>;
        d.checkIdleness(Date.now());
        if (batch === null) {
          d.end();
          return;
        }
        d.emit(batch);
        // Let messages (barriers) and timers in only once the batch read is emitted: a barrier between reading and
        // emitting it would store a position past records not yet handed down.
        if (sync && (++n % YIELD_EVERY === 0 || performance.now() - yielded >= YIELD_AFTER_MS)) {
          await new Promise<void>((res) => setImmediate(res));
          yielded = performance.now();
        }
      }
    };

    // ---- coordinator protocol ----
    runtime.onAck = (s, id, ack) => {
      runtime.resolveAck(s, id, ack).then((record) => post({ type: 'ack', id, record }), fail);
    };
    runtime.onSubtaskFinished = (s) => post({ type: 'subtask-finished', chain: s.chain.id, index: s.index });
    const sendMetrics = (): void => {
      post({ type: 'metrics', rows: runtime.metrics(), recordsRead: runtime.sources.reduce((n, d) => n + d.recordsRead, 0), inFlight: inFlightMax });
    };
    const metricsTimer = setInterval(sendMetrics, 500);
    metricsTimer.unref();
    const idleTimeout = Math.min(...runtime.sources.map((d) => d.idlenessMs ?? Number.POSITIVE_INFINITY));
    const idleTimer = Number.isFinite(idleTimeout)
      ? setInterval(() => runtime.guard(() => { for (const d of runtime.sources) if (!d.subtask.finished) d.checkIdleness(Date.now()); }), Math.max(1, idleTimeout / 4))
      : undefined;
    idleTimer?.unref();

    control.on('message', (m: ToWorker) => {
      switch (m.type) {
        case 'start':
          (async () => {
            if (m.restore) await runtime.restore(m.restore);
            // Input from other workers waits until this worker's state is back.
            restored = true;
            pump();
            post({ type: 'restored' });
          })().catch(fail);
          return;
        case 'run':
          Promise.all(runtime.sources.map((_, i) => readLoop(i))).catch(fail);
          return;
        case 'checkpoint':
          runtime.guard(() => runtime.injectBarrier(m.id));
          return;
        case 'commit':
          (m.phase === 'sinks' ? runtime.commitSinksLocal(m.id) : runtime.notifySourcesLocal(m.id))
            .then(() => post({ type: 'committed', id: m.id, phase: m.phase }), fail);
          return;
        case 'finish':
          (m.committed ? runtime.finishSinks() : runtime.commitFinal()).then(() => {
            sendMetrics();
            post({ type: 'final-committed' });
            settle();
          }, fail);
          return;
        case 'metrics':
          sendMetrics();
          return;
        case 'cancel':
          cancelled = true;
          wake();
          settle();
          return;
      }
    });
    post({ type: 'ready' });
    await ended;
    clearInterval(metricsTimer);
    if (idleTimer) clearInterval(idleTimer);
    await runtime.close().catch(() => {});
  } catch (e) {
    fail(e);
    await ended;
  } finally {
    control.close();
    for (const p of task.links) p?.close();
  }
}
