import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DevServicesError } from '../src/index.js';
import { pollUntil } from '../src/poll.js';

describe('pollUntil', () => {
  it('returns the first value the probe gives, treating throws as not ready', async () => {
    let calls = 0;
    const value = await pollUntil(
      async () => {
        calls++;
        if (calls === 1) throw new Error('connection refused');
        return calls === 3 ? 'ready' : undefined;
      },
      { what: 'the probe', timeoutMs: 60_000, intervalMs: 0 },
    );
    assert.equal(value, 'ready');
    assert.equal(calls, 3);
  });

  it('stops when check throws, e.g. because the process exited', async () => {
    await assert.rejects(
      pollUntil(async () => undefined, {
        what: 'the probe',
        timeoutMs: 60_000,
        intervalMs: 0,
        check: () => {
          throw new DevServicesError('process-exited', 'Kafka exited with code 1 while starting.');
        },
      }),
      /exited with code 1/,
    );
  });

  it('times out with the last probe error and the log tail', async () => {
    await assert.rejects(
      pollUntil(
        async () => {
          throw new Error('connection refused');
        },
        { what: 'Kafka on 127.0.0.1:9092', timeoutMs: 0, intervalMs: 0, describeFailure: async () => 'ERROR last words' },
      ),
      (error: DevServicesError) =>
        error.code === 'start-timeout' &&
        /waiting for Kafka on 127.0.0.1:9092\. Last probe error: connection refused/.test(error.message) &&
        error.logTail === 'ERROR last words',
    );
  });

  it('says what to do with the caller\'s hint instead of the start-up limit advice', async () => {
    await assert.rejects(
      pollUntil(async () => undefined, { what: 'checkpoint 3', timeoutMs: 0, intervalMs: 0, hint: 'See the job output.' }),
      (error: DevServicesError) => /^Timed out after 0 s waiting for checkpoint 3\. See the job output\.$/.test(error.message),
    );
  });

  it('stops at once when the signal has fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      pollUntil(async () => undefined, { what: 'the probe', timeoutMs: 60_000, signal: controller.signal }),
      (error: DevServicesError) => error.code === 'aborted',
    );
  });
});
