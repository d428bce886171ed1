import { DataStream } from './data-stream.js';
import { JobBuildError } from './errors.js';
import { DEAD_LETTERS, type DeadLetter } from './output-tag.js';
import type { ErrorPolicy, JobConfig, LogicalPlan, NodeSpec, PlanEdge, PlanNode } from './plan.js';
import { isStateful } from './plan.js';
import type { Source } from './source.js';
import { sources, type GeneratorOptions } from './sources.js';
import type { WatermarkStrategy } from './watermarks.js';

/** Options every step takes. */
export interface StepOptions {
  /** Stable id of the step: keys its state in checkpoints and names it in test drivers. Required on stateful steps. */
  readonly uid?: string;
  /** Display name in `explain()`, metrics and errors. Defaults to the uid or the kind. */
  readonly name?: string;
  /** Subtasks of this step; defaults to the job's parallelism. */
  readonly parallelism?: number;
  /** Overrides the job's error policy for this step's user functions. */
  readonly onError?: ErrorPolicy;
}

/** Options of stateful steps: a uid is required. */
export interface StatefulStepOptions extends StepOptions {
  readonly uid: string;
}

/** Options of `env.fromSource` and the other source shortcuts. */
export interface SourceOptions<T> extends StatefulStepOptions {
  /** Assigns event timestamps and watermarks at the source, per split. Without it the stream has no event time. */
  readonly watermarks?: WatermarkStrategy<T>;
}

/**
 * Builds a job's logical plan; what `defineJob`'s build function receives. One environment per build, so node ids
 * are deterministic (the n-th step built always has id n): workers that rebuild the job get the same plan.
 */
export class StreamEnvironment {
  /** @internal */ readonly nodes: PlanNode[] = [];
  private readonly uids = new Map<string, PlanNode>();
  private deadLetterStream: DataStream<DeadLetter> | undefined;

  constructor(readonly jobName: string, readonly config: JobConfig) {}

  /** Reads from a connector's source (Kafka, files, …). Stateful: needs a uid, which keys its position in checkpoints. */
  fromSource<T>(source: Source<T>, opts: SourceOptions<T>): DataStream<T> {
    // Plain JavaScript (and `millrace run`, which does not type-check) can leave the options out: the uid check
    // below then says what is missing instead of a TypeError.
    const node = this.addNode({ kind: 'source', source, watermarks: opts?.watermarks }, [], opts, 'source');
    return new DataStream<T>(this, [{ node: node.id }]);
  }

  /** A bounded source over an array; replayable (its position is an index). */
  fromArray<T>(values: readonly T[], opts: SourceOptions<T>): DataStream<T> {
    return this.fromSource(sources.array(values), opts);
  }

  /** A bounded source over an iterable. Replayable when iterating it again yields the same records. */
  fromIterable<T>(values: Iterable<T>, opts: SourceOptions<T>): DataStream<T> {
    return this.fromSource(sources.iterable(values), opts);
  }

  /** A source over an async iterable (bounded when it ends). Replayable when iterating it again yields the same records. */
  fromAsyncIterable<T>(values: AsyncIterable<T>, opts: SourceOptions<T> & { readonly bounded?: boolean }): DataStream<T> {
    return this.fromSource(sources.asyncIterable(values, opts.bounded ?? true), opts);
  }

  /** A deterministic generator source: `generate(i)` for i = 0, 1, …, optionally rate-limited and bounded by `count`. */
  generate<T>(generator: GeneratorOptions<T>, opts: SourceOptions<T>): DataStream<T> {
    return this.fromSource(sources.generator(generator), opts);
  }

  /**
   * Records that steps running under the `skip` error policy could not process, with their errors, from every step of
   * the job. Give it a sink; a job with the `skip` policy and no dead-letter sink fails to build.
   */
  deadLetters(): DataStream<DeadLetter> {
    this.deadLetterStream ??= new DataStream<DeadLetter>(this, [], DEAD_LETTERS.id);
    return this.deadLetterStream;
  }

  /** @internal Adds a node; checks its uid. */
  addNode(spec: NodeSpec, inputs: readonly PlanEdge[], opts: StepOptions | undefined, defaultName: string): PlanNode {
    const id = this.nodes.length + 1;
    const uidGiven = opts?.uid !== undefined;
    const uid = opts?.uid ?? `${spec.kind}-${id}`;
    const name = opts?.name ?? opts?.uid ?? defaultName;
    if (uidGiven && !/^[A-Za-z0-9._-]+$/.test(uid)) {
      throw new JobBuildError(`step '${name}': uid '${uid}' may contain only letters, digits, '.', '_' and '-'`);
    }
    const clash = this.uids.get(uid);
    if (clash) {
      // Numbers and inputs tell apart two steps of the same name (two print() sinks, say).
      const reads = (edges: readonly PlanEdge[]): string => {
        const names = [...new Set(edges.map((e) => this.nodes[e.from - 1]?.name).filter((n): n is string => n !== undefined))];
        return names.length > 0 ? `, reading ${names.map((n) => `'${n}'`).join(', ')}` : '';
      };
      throw new JobBuildError(`step #${id} '${name}' (${spec.kind}${reads(inputs)}) uses uid '${uid}', which step #${clash.id} '${clash.name}' (${clash.spec.kind}${reads(clash.inputs)}) already has: uids must be unique within a job`);
    }
    if (!uidGiven && isStateful(spec)) {
      throw new JobBuildError(`step '${name}' (${describeStep(spec)}) keeps state but has no uid: pass { uid: '…' } so its state can be found again after a restart`);
    }
    if (opts?.parallelism !== undefined && (!Number.isInteger(opts.parallelism) || opts.parallelism < 1)) {
      throw new JobBuildError(`step '${name}': parallelism must be a positive integer, got ${opts.parallelism}`);
    }
    const node: PlanNode = { id, uid, name, uidGiven, spec, inputs, parallelism: opts?.parallelism, errorPolicy: opts?.onError };
    this.nodes.push(node);
    this.uids.set(uid, node);
    return node;
  }

  /** @internal The plan built so far, with dead-letter edges resolved. */
  toPlan(): LogicalPlan {
    return { jobName: this.jobName, config: this.config, nodes: [...this.nodes] };
  }
}

/** The kind of a step, with the connector for sources and sinks (`source kafka(transactions)`), for errors. */
function describeStep(spec: NodeSpec): string {
  if (spec.kind === 'source') return `source ${spec.source.description}`;
  if (spec.kind === 'sink') return `sink ${spec.sink.description}`;
  return spec.kind;
}
