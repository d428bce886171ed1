import { DevServicesError } from './errors.js';
import type { DevServicesOptions } from './config.js';
import type { ServiceName } from './versions.js';

/** Subcommands of `millrace dev`. */
export type DevSubcommand = 'up' | 'down' | 'status';

/** `millrace dev` arguments, parsed. */
export interface DevCommandArgs {
  /** The subcommand, or `undefined` when only `--help` was given. */
  readonly subcommand: DevSubcommand | undefined;
  /** `--help` / `-h`. */
  readonly help: boolean;
  /** Configuration overrides from flags (environment variables and defaults fill the rest). */
  readonly options: DevServicesOptions;
  /** `--only kafka|hdfs` (up): start just one service. */
  readonly services: readonly ServiceName[] | undefined;
  /** `--wipe` (down): delete the data directories too. */
  readonly wipe: boolean;
  /** `--json` (status, up): print machine-readable output. */
  readonly json: boolean;
}

const SUBCOMMANDS: readonly DevSubcommand[] = ['up', 'down', 'status'];

/** Flags that take a value, with what they set. */
const VALUE_FLAGS = [
  '--kafka-port',
  '--kafka-controller-port',
  '--hdfs-port',
  '--webhdfs-port',
  '--hdfs-user',
  '--dir',
  '--cache-dir',
  '--timeout',
  '--only',
] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

/** Which flags each subcommand accepts (besides `--help`). */
const ACCEPTED: Record<DevSubcommand, readonly string[]> = {
  up: [...VALUE_FLAGS, '--json'],
  down: ['--dir', '--cache-dir', '--timeout', '--wipe'],
  status: ['--dir', '--cache-dir', '--json'],
};

function toPort(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) {
    throw new DevServicesError('bad-config', `${flag} ${value}: not a port; use an integer from 1 to 65535`);
  }
  return n;
}

/**
 * Parses the arguments after `millrace dev`: a subcommand (`up`, `down`, `status`) and its flags, as
 * `--flag value` or `--flag=value`. Pure: reads no environment variable.
 *
 * @throws DevServicesError `bad-config` naming the unknown subcommand or flag, the flag that lacks a value, or a
 * value that cannot be read
 */
export function parseDevCommandArgs(argv: readonly string[]): DevCommandArgs {
  let subcommand: DevSubcommand | undefined;
  let help = false;
  let wipe = false;
  let json = false;
  const values = new Map<ValueFlag, string>();
  const seen: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('-')) {
      if (subcommand !== undefined) {
        throw new DevServicesError('bad-config', `unexpected argument "${arg}" after "dev ${subcommand}"; see \`millrace dev ${subcommand} --help\``);
      }
      if (!(SUBCOMMANDS as readonly string[]).includes(arg)) {
        throw new DevServicesError('bad-config', `unknown subcommand "dev ${arg}"; use one of: ${SUBCOMMANDS.join(', ')}`);
      }
      subcommand = arg as DevSubcommand;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    seen.push(flag);
    if (flag === '--wipe') {
      wipe = true;
    } else if (flag === '--json') {
      json = true;
    } else if ((VALUE_FLAGS as readonly string[]).includes(flag)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) {
        throw new DevServicesError('bad-config', `${flag} needs a value, e.g. ${flag}=${flag.endsWith('port') ? '19092' : '...'}`);
      }
      values.set(flag as ValueFlag, value);
    } else {
      throw new DevServicesError('bad-config', `unknown flag ${flag}; see \`millrace dev ${subcommand ?? ''} --help\``.replace('  ', ' '));
    }
  }
  if (subcommand && !help) {
    const rejected = seen.filter((flag) => !ACCEPTED[subcommand!].includes(flag));
    if (rejected.length > 0) {
      throw new DevServicesError('bad-config', `"dev ${subcommand}" does not take ${rejected.join(', ')}; see \`millrace dev ${subcommand} --help\``);
    }
  }
  let services: ServiceName[] | undefined;
  const only = values.get('--only');
  if (only !== undefined) {
    services = only.split(',').map((s) => s.trim()) as ServiceName[];
    const bad = services.filter((s) => s !== 'kafka' && s !== 'hdfs');
    if (bad.length > 0) throw new DevServicesError('bad-config', `--only ${only}: unknown service ${bad.join(', ')}; use kafka, hdfs or kafka,hdfs`);
  }
  const kafka: { port?: number; controllerPort?: number } = {};
  const hdfs: { rpcPort?: number; httpPort?: number; user?: string } = {};
  const get = (flag: ValueFlag) => values.get(flag);
  if (get('--kafka-port')) kafka.port = toPort('--kafka-port', get('--kafka-port')!);
  if (get('--kafka-controller-port')) kafka.controllerPort = toPort('--kafka-controller-port', get('--kafka-controller-port')!);
  if (get('--hdfs-port')) hdfs.rpcPort = toPort('--hdfs-port', get('--hdfs-port')!);
  if (get('--webhdfs-port')) hdfs.httpPort = toPort('--webhdfs-port', get('--webhdfs-port')!);
  if (get('--hdfs-user')) hdfs.user = get('--hdfs-user')!;
  const options: DevServicesOptions = {
    ...(get('--dir') ? { workDir: get('--dir')! } : {}),
    ...(get('--cache-dir') ? { cacheDir: get('--cache-dir')! } : {}),
    ...(get('--timeout') ? (subcommand === 'down' ? { stopTimeout: get('--timeout')! } : { startTimeout: get('--timeout')! }) : {}),
    ...(Object.keys(kafka).length > 0 ? { kafka } : {}),
    ...(Object.keys(hdfs).length > 0 ? { hdfs } : {}),
  };
  return { subcommand, help, options, services, wipe, json };
}
