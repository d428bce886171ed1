import type { ServiceName } from './versions.js';

/** Where a running service lives; what `millrace dev status` prints and the state file stores. */
export interface ServiceDetails {
  /** Which service. */
  readonly service: ServiceName;
  /** Apache release, e.g. "4.4.0". */
  readonly version: string;
  /** JVM process id. */
  readonly pid: number;
  /** JVM main class, used to recognise the process later. */
  readonly mainClass: string;
  /** Ports by role, e.g. `{ client: 9092, controller: 9093 }` or `{ rpc: 9000, http: 9870 }`. */
  readonly ports: Readonly<Record<string, number>>;
  /** Client addresses by role, e.g. `{ brokers: "127.0.0.1:9092" }` or `{ webhdfs: "http://127.0.0.1:9870" }`. */
  readonly endpoints: Readonly<Record<string, string>>;
  /** Data directory, kept across restarts. */
  readonly dataDir: string;
  /** Log file of the JVM. */
  readonly logFile: string;
  /** Epoch milliseconds when the service became ready. */
  readonly readyAt: number;
  /** Milliseconds from launch (after jar resolution) to readiness. */
  readonly startupMs: number;
}

/**
 * A running service owned by this process. `close()` stops it (SIGTERM, then SIGKILL after the stop timeout) and
 * is idempotent; `await using` calls it through `Symbol.asyncDispose`. Safe to call from any async context.
 */
export interface ServiceHandle extends AsyncDisposable {
  /** Where it runs. */
  readonly details: ServiceDetails;
  /** Stops the JVM; resolves once it has exited. Later calls return the same promise. */
  close(): Promise<void>;
}

/** The running Kafka broker. */
export interface KafkaService extends ServiceHandle {
  /** Bootstrap addresses for clients, e.g. `["127.0.0.1:9092"]`. */
  readonly brokers: readonly string[];
}

/** The running HDFS (NameNode and DataNode). */
export interface HdfsService extends ServiceHandle {
  /** WebHDFS base URL, e.g. `http://127.0.0.1:9870` (append `/webhdfs/v1/<path>`). */
  readonly webhdfsUrl: string;
  /** NameNode RPC URI for Hadoop clients, e.g. `hdfs://127.0.0.1:9000`. */
  readonly fsUri: string;
  /** User name to send as `user.name`. */
  readonly user: string;
}
