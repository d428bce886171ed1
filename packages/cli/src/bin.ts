#!/usr/bin/env node
/**
 * The `millrace` command. Subcommands live in a table: each entry has a one-line summary and a `run(argv, io)`
 * returning the exit code. Add a command by adding an entry.
 */
import { devCommand, type CommandIo } from './commands/dev.js';
import { explainCommand, runCommand } from './commands/run.js';
import { formatError } from './report-error.js';
import { createRequire } from 'node:module';

/** One entry of the command table. */
interface CliCommand {
  /** One line for `millrace --help`. */
  readonly summary: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

const commands: Readonly<Record<string, CliCommand>> = {
  run: runCommand,
  explain: explainCommand,
  dev: devCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'Usage: millrace <command> [flags]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `millrace <command> --help` for its flags.',
  ].join('\n');
}

// Output piped into a reader that stops early (`millrace dev status | head`): stop quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

const io: CommandIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.out(`millrace ${(createRequire(import.meta.url)('../package.json') as { version: string }).version}`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`millrace: unknown command "${name}".\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, io);
}

/**
 * A command that returned ends its process, even if a client library left a connection or a timer behind (which
 * would keep a finished job's process running): after a grace period that lets output and orderly shutdowns finish,
 * it exits with the command's code and names what was still open. The timer does not keep the process alive itself.
 */
const EXIT_GRACE_MS = 5_000;
function exitEvenIfHeldOpen(): void {
  setTimeout(() => {
    // Output still on its way to a slow reader (`millrace run job.ts | less`) is no leak: wait until it is written.
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
      exitEvenIfHeldOpen();
      return;
    }
    io.err(`millrace: the command ended but ${process.getActiveResourcesInfo().join(', ') || 'something'} kept the process running for ${EXIT_GRACE_MS / 1000} s; exiting`);
    process.exit();
  }, EXIT_GRACE_MS).unref();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    exitEvenIfHeldOpen();
  },
  (error: unknown) => {
    io.err(`millrace: ${formatError(error)}`);
    process.exitCode = 1;
    exitEvenIfHeldOpen();
  },
);
