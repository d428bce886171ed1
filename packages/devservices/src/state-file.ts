import { readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ServiceDetails } from './service.js';
import { isServiceProcess } from './service-process.js';

/** Contents of `<workDir>/state.json`: which services were started there, and by which process. */
export interface DevState {
  /** Process that started the services (the `millrace dev up` CLI or a test run). */
  readonly ownerPid: number;
  /** Whether the services outlive their owner (`millrace dev up`) or belong to it (a test run). */
  readonly detached: boolean;
  /** Services started, in start order. */
  readonly services: readonly ServiceDetails[];
}

/** Path of the state file of a work directory. */
export function stateFilePath(workDir: string): string {
  return join(workDir, 'state.json');
}

/** Reads the state file of `workDir`, or `undefined` when there is none or it cannot be read. */
export async function readDevState(workDir: string): Promise<DevState | undefined> {
  try {
    const state = JSON.parse(await readFile(stateFilePath(workDir), 'utf8')) as DevState;
    return Array.isArray(state.services) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state file of `workDir` atomically (write, then rename). */
export async function writeDevState(workDir: string, state: DevState): Promise<void> {
  const path = stateFilePath(workDir);
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}

/** Removes the state file of `workDir`, if any. */
export async function removeDevState(workDir: string): Promise<void> {
  await rm(stateFilePath(workDir), { force: true });
}

/** The services of `state` whose JVM is still running (checked by pid and command line). */
export function runningServices(state: DevState | undefined): ServiceDetails[] {
  return (state?.services ?? []).filter((s) => isServiceProcess(s.pid, s.mainClass));
}
