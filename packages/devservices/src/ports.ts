import { createServer } from 'node:net';
import { DevServicesError } from './errors.js';
import { DEV_SERVICES_HOST, type DevServicesConfig } from './config.js';
import type { ServiceName } from './versions.js';

/**
 * Whether `port` can be bound on `host` right now (a short-lived listen, closed at once).
 *
 * @param port - TCP port
 * @param host - address to bind, 127.0.0.1 by default
 */
export function isPortFree(port: number, host: string = DEV_SERVICES_HOST): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port a service needs, named for error messages. */
export interface NamedPort {
  /** TCP port. */
  readonly port: number;
  /** What the port is for, e.g. "Kafka port". */
  readonly what: string;
  /** The flag and environment variable that choose it, e.g. "--kafka-port / MILLRACE_KAFKA_PORT". */
  readonly setting: string;
}

/**
 * Fails when any of `ports` is taken on 127.0.0.1, naming the port and how to choose another.
 *
 * @throws DevServicesError `port-in-use`
 */
export async function assertPortsFree(ports: readonly NamedPort[]): Promise<void> {
  for (const { port, what, setting } of ports) {
    if (!(await isPortFree(port))) {
      throw new DevServicesError(
        'port-in-use',
        `${what} ${port} on ${DEV_SERVICES_HOST} is already in use. Stop whatever listens there ` +
          `(\`ss -ltnp 'sport = :${port}'\` shows it; if it is an earlier \`millrace dev up\`, run \`millrace dev down\`), ` +
          `or choose another port with ${setting}.`,
      );
    }
  }
}

/**
 * The ports `service` listens on under `config`, each named with the flag and environment variable that choose it.
 *
 * @param config - resolved configuration
 * @param service - which service
 */
export function servicePorts(config: DevServicesConfig, service: ServiceName): NamedPort[] {
  if (service === 'kafka') {
    return [
      { port: config.kafka.port, what: 'Kafka port', setting: '--kafka-port / MILLRACE_KAFKA_PORT' },
      { port: config.kafka.controllerPort, what: 'Kafka controller port', setting: '--kafka-controller-port / MILLRACE_KAFKA_CONTROLLER_PORT' },
    ];
  }
  return [
    { port: config.hdfs.rpcPort, what: 'HDFS NameNode port', setting: '--hdfs-port / MILLRACE_HDFS_PORT' },
    { port: config.hdfs.httpPort, what: 'WebHDFS port', setting: '--webhdfs-port / MILLRACE_WEBHDFS_PORT' },
  ];
}
