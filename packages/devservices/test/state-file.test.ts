import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDevState, writeDevState, type ServiceDetails } from '../src/index.js';
import { runningServices } from '../src/state-file.js';
import { findOrphanedServiceProcesses, isServiceProcess, stopServiceProcess } from '../src/service-process.js';

const MARKER = 'org.example.FakeServiceMain';

/** A long-running process whose command line carries MARKER, standing in for a service JVM. */
async function fakeService() {
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1 << 30)', MARKER], { stdio: ['ignore', 'pipe', 'ignore'] });
  await once(child.stdout, 'data');
  return child;
}

function details(pid: number, mainClass: string): ServiceDetails {
  return { service: 'kafka', version: '0', pid, mainClass, ports: {}, endpoints: {}, dataDir: '/d', logFile: '/l', readyAt: 0, startupMs: 0 };
}

describe('state file and service processes', () => {
  it('round-trips the state and finds which recorded services still run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'millrace-state-'));
    const child = await fakeService();
    try {
      await writeDevState(dir, { ownerPid: process.pid, detached: true, services: [details(child.pid!, MARKER), details(child.pid!, 'other.Main')] });
      const state = await readDevState(dir);
      assert.equal(state?.services.length, 2);
      // Same pid, other main class: a reused pid is not mistaken for the service.
      assert.deepEqual(runningServices(state).map((s) => s.mainClass), [MARKER]);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops a service with SIGTERM and waits until it is gone', async () => {
    const child = await fakeService();
    const exited = once(child, 'exit');
    assert.equal(isServiceProcess(child.pid!, MARKER), true);
    await stopServiceProcess(child.pid!, MARKER, 30_000, 'fake service');
    const [, signal] = await exited;
    assert.equal(signal, 'SIGTERM');
    assert.equal(isServiceProcess(child.pid!, MARKER), false);
  });

  it('reads a missing or broken state file as no state', async () => {
    assert.equal(await readDevState('/nonexistent/millrace'), undefined);
  });

  it('finds a service process whose owner has died, and only under the given directory', async () => {
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    const dir = '/tmp/millrace-orphan-test-dir';
    const args = (owner: number) => ['-e', 'process.stdout.write("up\\n"); setInterval(() => {}, 1 << 30)', '--', `-Dmillrace.devservices.owner=${owner}`, dir];
    const orphan = spawn(process.execPath, args(gone.pid!), { stdio: ['ignore', 'pipe', 'ignore'] });
    const owned = spawn(process.execPath, args(process.pid), { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await Promise.all([once(orphan.stdout!, 'data'), once(owned.stdout!, 'data')]);
      const found = findOrphanedServiceProcesses(dir).map((o) => o.pid);
      assert.deepEqual(found, process.platform === 'linux' ? [orphan.pid] : []);
      assert.deepEqual(findOrphanedServiceProcesses('/some/other/dir'), []);
    } finally {
      orphan.kill('SIGKILL');
      owned.kill('SIGKILL');
    }
  });
});
