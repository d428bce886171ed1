import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { DevServicesError } from './errors.js';
import { pollUntil } from './poll.js';

/** How to launch a service JVM. */
export interface JavaLaunch {
  /** `java` executable. */
  readonly java: string;
  /** `-cp` value. */
  readonly classpath: string;
  /** Main class. */
  readonly mainClass: string;
  /** JVM options, before the main class. */
  readonly jvmOptions: readonly string[];
  /** Program arguments, after the main class. */
  readonly args: readonly string[];
  /** Standard output and error go here (truncated at launch). */
  readonly logFile: string;
  /** Working directory. */
  readonly cwd: string;
  /**
   * `true`: the JVM gets its own session and outlives this Node process (`millrace dev up`).
   * `false`: it is a child of this process and is killed when this process exits (tests).
   */
  readonly detached: boolean;
}

/** A running service JVM. */
export interface ServiceProcess {
  /** Operating-system process id. */
  readonly pid: number;
  /** Main class, used to recognise the process by its command line. */
  readonly mainClass: string;
  /** Whether the JVM is still running. */
  isRunning(): boolean;
  /** Describes how the JVM ended, or `undefined` while it runs. */
  exitDescription(): string | undefined;
  /** Resolves once the JVM has exited. */
  readonly exited: Promise<void>;
}

/** JVM system property naming the Node process that owns an attached service JVM. */
const OWNER_PROPERTY = '-Dmillrace.devservices.owner';

const attached = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills attached JVMs when this Node process exits without having stopped them (e.g. an uncaught error). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of attached) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

/**
 * Starts a JVM with its output in `launch.logFile`.
 *
 * @throws Error when the process cannot be spawned at all (the caller has already checked `java`)
 */
export function launchJava(launch: JavaLaunch): ServiceProcess {
  const log = openSync(launch.logFile, 'w');
  let child: ChildProcess;
  try {
    // The owner's pid on the command line lets a later run find JVMs whose owner died without stopping them.
    const owner = launch.detached ? [] : [`${OWNER_PROPERTY}=${process.pid}`];
    child = spawn(launch.java, [...owner, ...launch.jvmOptions, '-cp', launch.classpath, launch.mainClass, ...launch.args], {
      cwd: launch.cwd,
      stdio: ['ignore', log, log],
      detached: launch.detached,
      env: process.env,
    });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) {
    throw new DevServicesError('process-exited', `Could not start ${launch.java} for ${launch.mainClass}; check that Java runs (\`${launch.java} -version\`).`);
  }
  let description: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      description = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      attached.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      description = `failed: ${error.message}`;
      attached.delete(child);
      resolve();
    });
  });
  if (launch.detached) {
    child.unref();
  } else {
    attached.add(child);
    installExitHook();
  }
  const pid = child.pid;
  return {
    pid,
    mainClass: launch.mainClass,
    isRunning: () => description === undefined,
    exitDescription: () => description,
    exited,
  };
}

/**
 * Whether `pid` is alive and its command line names `mainClass`, which guards against a reused pid.
 *
 * @param pid - process id from a state file
 * @param mainClass - main class the process was started with
 */
export function isServiceProcess(pid: number, mainClass: string): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    // ESRCH: gone. EPERM: alive but not ours to signal, so not a service we started.
    return false;
  }
  let commandLine: string;
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    try {
      commandLine = execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    } catch {
      return false;
    }
  }
  // A zombie (exited, not yet reaped) has an empty command line.
  return commandLine.includes(mainClass);
}

/**
 * Stops a service JVM: SIGTERM (a clean shutdown), then SIGKILL when it is still running after `timeoutMs`.
 * Waits by probing the process table. Does nothing when `pid` is not (or no longer) that service.
 *
 * @throws DevServicesError `stop-failed` when the process survives SIGKILL
 */
export async function stopServiceProcess(pid: number, mainClass: string, timeoutMs: number, what: string): Promise<void> {
  if (!isServiceProcess(pid, mainClass)) return;
  const gone = async () => (isServiceProcess(pid, mainClass) ? undefined : true);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await pollUntil(gone, { what: `${what} (pid ${pid}) to exit after SIGTERM`, timeoutMs, intervalMs: 100 });
    return;
  } catch {
    // fall through to SIGKILL
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  try {
    await pollUntil(gone, { what: `${what} (pid ${pid}) to exit after SIGKILL`, timeoutMs: 10_000, intervalMs: 100 });
  } catch (error) {
    throw new DevServicesError('stop-failed', `${what} (pid ${pid}) is still running after SIGKILL; stop it by hand: kill -9 ${pid}`, { cause: error });
  }
}

/** A service JVM left running by an owner that no longer exists. */
export interface OrphanedProcess {
  /** Process id. */
  readonly pid: number;
  /** Its command line, for messages. */
  readonly commandLine: string;
}

/**
 * Attached service JVMs (started for tests) whose owning Node process has died, e.g. killed with SIGKILL before it
 * could stop them, and whose command line mentions `underDir`. Linux only (reads /proc); elsewhere returns none.
 *
 * @param underDir - only JVMs whose command line contains this directory (e.g. `<cache>/test-runs`)
 */
export function findOrphanedServiceProcesses(underDir: string): OrphanedProcess[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  const orphans: OrphanedProcess[] = [];
  for (const pid of pids) {
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    const owner = new RegExp(`${OWNER_PROPERTY}=(\\d+)`).exec(commandLine)?.[1];
    if (owner === undefined || !commandLine.includes(underDir)) continue;
    if (isAlive(Number(owner))) continue;
    orphans.push({ pid: Number(pid), commandLine });
  }
  return orphans;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
