import { JobBuildError, MillraceError, UserFunctionError } from '@millrace/core';

/** A mistake on the command line: reported as its message alone, without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function preview(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

/**
 * Formats an error for the terminal: what the user can act on first. Usage and build errors are their message; a
 * failing user function shows the record and the user's own stack (the `cause`), not the engine's frames.
 */
export function formatError(error: unknown): string {
  if (error instanceof UsageError || error instanceof JobBuildError) return error.message;
  if (error instanceof UserFunctionError) {
    const cause = error.cause;
    const lines = [error.message, `  record: ${preview(error.value)}`];
    if (cause instanceof Error) {
      const userFrames = (cause.stack ?? '').split('\n').slice(1).filter((l) => !/node_modules|node:internal|[/\\]packages[/\\](core|runtime|testing)[/\\]|chain-.*\.js/.test(l));
      lines.push(`  caused by ${cause.name}: ${cause.message}`, ...userFrames.slice(0, 8).map((l) => `  ${l.trim()}`));
    }
    return lines.join('\n');
  }
  // A cause whose message the error already quotes adds nothing (an error re-thrown with the step that met it).
  if (error instanceof MillraceError) return error.message + (error.cause instanceof Error && !error.message.includes(error.cause.message) ? `\n  caused by: ${error.cause.message}` : '');
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
