/** What a successful WebHDFS probe saw. */
export interface WebHdfsProbeResult {
  /** Live DataNodes reported by the NameNode. */
  readonly liveDataNodes: number;
  /** Hadoop version string of the NameNode, e.g. "3.4.2, r84e8b89…". */
  readonly version: string;
  /** NameNode RPC address as the NameNode reports it, e.g. "localhost:9000". */
  readonly rpcAddress: string | undefined;
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status} ${await response.text()}`);
  return response.json();
}

function bean(json: unknown): Record<string, unknown> {
  const beans = (json as { beans?: Array<Record<string, unknown>> }).beans;
  if (!beans?.[0]) throw new Error('the NameNode JMX servlet returned no bean');
  return beans[0];
}

/**
 * Probes a NameNode over HTTP: WebHDFS `GETFILESTATUS` of `/` must succeed, and the NameNode must report a live
 * DataNode (so writes have somewhere to go). Resolves with what it saw, rejects when either check fails.
 *
 * @param webhdfsUrl - NameNode HTTP base URL, e.g. `http://127.0.0.1:9870`
 * @param user - sent as `user.name`
 * @param timeoutMs - per request, 3 s by default
 */
export async function probeWebHdfs(webhdfsUrl: string, user: string, timeoutMs = 3_000): Promise<WebHdfsProbeResult> {
  const base = webhdfsUrl.replace(/\/+$/, '');
  const status = (await getJson(`${base}/webhdfs/v1/?op=GETFILESTATUS&user.name=${encodeURIComponent(user)}`, timeoutMs)) as {
    FileStatus?: { type?: string };
  };
  if (status.FileStatus?.type !== 'DIRECTORY') throw new Error(`GETFILESTATUS / returned ${JSON.stringify(status)}`);
  const state = bean(await getJson(`${base}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState`, timeoutMs));
  const liveDataNodes = Number(state.NumLiveDataNodes ?? 0);
  if (liveDataNodes < 1) throw new Error('the NameNode reports no live DataNode yet');
  const info = bean(await getJson(`${base}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, timeoutMs));
  const nnStatus = bean(await getJson(`${base}/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus`, timeoutMs));
  return {
    liveDataNodes,
    version: String(info.Version ?? 'unknown'),
    rpcAddress: typeof nnStatus.HostAndPort === 'string' ? nnStatus.HostAndPort : undefined,
  };
}
