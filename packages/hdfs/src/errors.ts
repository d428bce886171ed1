/** What kind of file-system problem an {@link HdfsError} reports. */
export type HdfsErrorCode = 'corrupt' | 'not-found' | 'permission' | 'safe-mode' | 'lease' | 'exists' | 'unreachable' | 'timeout' | 'io';

/**
 * A file-system error that says what failed, where (file system URI and path), and what to do. For WebHDFS it is
 * built from the NameNode's or DataNode's `RemoteException` (`exception`, `javaClassName` and `message` kept).
 */
export class HdfsError extends Error {
  override readonly name = 'HdfsError';
  constructor(
    readonly code: HdfsErrorCode,
    message: string,
    readonly path: string,
    readonly remote?: { readonly exception: string; readonly javaClassName?: string; readonly message: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What to do about each kind of {@link HdfsError}. @internal */
export const HINTS: Record<HdfsErrorCode, string> = {
  corrupt: 'the file is damaged or not in the expected format: skip it (onCorrupt: "skip") or replace it',
  'not-found': 'check the path (and that the parent directory exists)',
  permission: "run as a user allowed to do this (WebHDFS user.name, MILLRACE_HDFS_USER) or change the path's owner or permissions",
  'safe-mode': 'the NameNode is in safe mode (starting up, or low on space): wait until it leaves, or `hdfs dfsadmin -safemode leave`',
  lease: 'another client holds the write lease on this file (a crashed writer keeps it until the lease expires, 60 s soft limit): write to a new file, or wait and retry',
  exists: 'choose another name, or delete the existing file first',
  unreachable: 'check the WebHDFS URL, that the NameNode runs, and that this machine can reach the DataNodes it redirects to',
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
  let code: HdfsErrorCode = 'io';
  if (exception === 'FileNotFoundException' || status === 404) code = 'not-found';
  else if (exception === 'AccessControlException' || exception === 'SecurityException' || /Permission denied/.test(msg)) code = 'permission';
  else if (exception === 'SafeModeException' || /safe mode/i.test(msg)) code = 'safe-mode';
  else if (/AlreadyBeingCreated|LeaseExpired|RecoveryInProgress/.test(exception) || /lease/i.test(msg)) code = 'lease';
  else if (exception === 'FileAlreadyExistsException') code = 'exists';
  const first = msg.split('\n')[0];
  return new HdfsError(code, `${op} ${uri}${path} failed: ${exception}: ${first} — ${HINTS[code]}`, path, { exception, ...(remote?.javaClassName ? { javaClassName: remote.javaClassName } : {}), message: msg });
}

/** Does `e` say the path does not exist? */
export function isNotFound(e: unknown): boolean {
  return e instanceof HdfsError && e.code === 'not-found';
}
