import { MillraceError } from '@millrace/core';

/** What kind of file-system problem an {@link HdfsError} reports. */
export type HdfsErrorCode = 'corrupt' | 'not-found' | 'not-a-directory' | 'permission' | 'safe-mode' | 'lease' | 'exists' | 'quota' | 'standby' | 'unreachable' | 'timeout' | 'invalid' | 'io';

/**
 * A file-system error that says what failed, where (file system URI and path), and what to do. For WebHDFS it is
 * built from the NameNode's or DataNode's `RemoteException` (`exception`, `javaClassName` and `message` kept).
 */
export class HdfsError extends MillraceError {
  override readonly name = 'HdfsError';
  constructor(
    readonly code: HdfsErrorCode,
    message: string,
    readonly path: string,
    readonly remote?: { readonly exception: string; readonly javaClassName?: string; readonly message: string },
    options?: { cause?: unknown; offset?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.offset = options?.offset;
  }
  /** The byte offset in the file where the problem is (`corrupt`), when known. */
  readonly offset: number | undefined;
}

/** What to do about each kind of {@link HdfsError}. @internal */
export const HINTS: Record<HdfsErrorCode, string> = {
  corrupt: 'the file is damaged or not in the expected format: skip it (onCorrupt: "skip") or replace it',
  'not-found': 'check the path (and that the parent directory exists)',
  'not-a-directory': 'move or delete that file, or choose a path whose parent directories are directories',
  permission: "run as a user allowed to do this (WebHDFS user.name, MILLRACE_HDFS_USER) or change the path's owner or permissions",
  'safe-mode': 'the NameNode is in safe mode (starting up, or low on space): wait until it leaves, or `hdfs dfsadmin -safemode leave`',
  lease: 'another client holds the write lease on this file (a crashed writer keeps it until the lease expires, 60 s soft limit): write to a new file, or wait and retry',
  exists: 'choose another name, or delete the existing file first',
  quota: 'a directory quota is used up (number of names, or space): free space under it, or raise the quota (`hdfs dfsadmin -setQuota` / `-setSpaceQuota`); retrying does not help',
  standby: 'this NameNode is the standby of an HA pair: point the WebHDFS URL at the active NameNode (or at a router in front of both)',
  unreachable: 'check the WebHDFS URL, that the NameNode runs, and that this machine can reach the DataNodes it redirects to',
  invalid: 'fix the option named in the message',
  timeout: 'the NameNode or DataNode stopped answering: check that it runs and is not overloaded or stuck (its log), and raise timeoutMs for a slow cluster',
  io: 'see the message; retry if it was transient',
};

/** Maps a WebHDFS `RemoteException` to an {@link HdfsError} naming the operation, the path and what to do. */
export function fromRemoteException(
  op: string,
  uri: string,
  path: string,
  status: number,
  remote: { exception?: string; javaClassName?: string; message?: string } | undefined,
  bodyText = '',
): HdfsError {
  const exception = remote?.exception ?? `HTTP ${status}`;
  const msg = remote?.message ?? bodyText.slice(0, 300);
  const first = msg.split('\n')[0];
  const kept = { exception, ...(remote?.javaClassName ? { javaClassName: remote.javaClassName } : {}), message: msg };
  // A file where a directory should be. HDFS says so in three ways: ParentNotDirectoryException (CREATE, MKDIRS,
  // RENAME below a file), AccessControlException '<file> (is not a directory)' (GETFILESTATUS, LISTSTATUS below a
  // file: the permission checker finds it while traversing) and FileAlreadyExistsException 'Path is not a directory'
  // (MKDIRS of the file itself). None of them is about permissions or an existing name.
  const file = notADirectory(exception, msg);
  if (file !== undefined) {
    return new HdfsError('not-a-directory', `${op} ${uri}${path} failed: a file exists where a directory is expected: ${file} is a file, not a directory (${exception}: ${first}) — ${HINTS['not-a-directory']}`, path, kept);
  }
  // The exception's class decides; its message only when the class says nothing (a message can mention 'lease' or
  // 'permission' in passing: "Please …").
  let code: HdfsErrorCode = 'io';
  if (exception === 'FileNotFoundException') code = 'not-found';
  else if (exception === 'AccessControlException' || exception === 'SecurityException') code = 'permission';
  else if (exception === 'SafeModeException') code = 'safe-mode';
  else if (/^(AlreadyBeingCreated|LeaseExpired|RecoveryInProgress)Exception$/.test(exception)) code = 'lease';
  else if (exception === 'FileAlreadyExistsException') code = 'exists';
  else if (/^(NSQuotaExceeded|DSQuotaExceeded|QuotaExceeded)Exception$/.test(exception)) code = 'quota';
  else if (exception === 'StandbyException') code = 'standby';
  else if (status === 404) code = 'not-found';
  else if (/Permission denied/.test(msg)) code = 'permission';
  else if (/safe mode/i.test(msg)) code = 'safe-mode';
  else if (/\blease\b/i.test(msg)) code = 'lease';
  return new HdfsError(code, `${op} ${uri}${path} failed: ${exception}: ${first} — ${HINTS[code]}`, path, kept);
}

/** The file in the way when a RemoteException says a path is not a directory, else `undefined`. */
function notADirectory(exception: string, msg: string): string | undefined {
  const named = /(\S+) \(is not a directory\)/.exec(msg) ?? /(?:Parent path|Path) is not a directory: (\S+)/.exec(msg);
  if (exception === 'ParentNotDirectoryException') return named?.[1] ?? '(a parent directory)';
  if (named && (exception === 'AccessControlException' || exception === 'FileAlreadyExistsException')) return named[1];
  return undefined;
}

/** Does `e` say the path does not exist? */
export function isNotFound(e: unknown): boolean {
  return e instanceof HdfsError && e.code === 'not-found';
}
