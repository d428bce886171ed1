import { spawn } from 'node:child_process';

/** Outcome of {@link runCommand}. */
export interface CommandResult {
  /** Exit code, or `null` when a signal ended the process. */
  readonly code: number | null;
  /** Everything written to standard output. */
  readonly stdout: string;
  /** Everything written to standard error. */
  readonly stderr: string;
}

/** Thrown by {@link runCommand} when the executable does not exist (`ENOENT`). */
export class CommandNotFoundError extends Error {
  /** The executable that was not found. */
  readonly command: string;

  /** @param command - the executable that was not found */
  constructor(command: string) {
    super(`${command}: not found`);
    this.name = 'CommandNotFoundError';
    this.command = command;
  }
}

/**
 * Runs a short-lived command to completion and collects its output. The caller's signal kills it.
 *
 * @param command - executable name or path
 * @param args - arguments, passed without a shell
 * @param options - working directory, environment and abort signal
 * @throws CommandNotFoundError when the executable does not exist
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? new CommandNotFoundError(command) : error);
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
