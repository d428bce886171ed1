import { JobBuildError } from './errors.js';
import { DEAD_LETTERS } from './output-tag.js';
import type { LogicalPlan, PlanEdge, PlanNode } from './plan.js';
import { isChainable } from './plan.js';

/**
 * Finishes a plan built by the API: resolves `env.deadLetters()` into edges from every step, orders nodes
 * topologically and checks what can only be checked on the whole plan. Throws `JobBuildError` naming the step.
 */
export function finishPlan(plan: LogicalPlan): LogicalPlan {
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  // Consumers of env.deadLetters() have an edge with from = 0; they and everything downstream of them are excluded as
  // producers of dead letters (that would be a cycle).
  const dlConsumers = plan.nodes.filter((n) => n.inputs.some((e) => e.from === 0));
  const downstreamOfDl = new Set<number>();
  for (const c of dlConsumers) downstreamOfDl.add(c.id);
  for (let changed = true; changed; ) {
    changed = false;
    for (const n of plan.nodes) {
      if (!downstreamOfDl.has(n.id) && n.inputs.some((e) => downstreamOfDl.has(e.from))) {
        downstreamOfDl.add(n.id);
        changed = true;
      }
    }
  }
  const producers = plan.nodes.filter((n) => !downstreamOfDl.has(n.id) && n.spec.kind !== 'sink');
  const parallelismOf = (n: PlanNode): number => n.parallelism ?? plan.config.parallelism;
  // The user reads one dead-letter stream and never sees these edges: one from a step of another parallelism
  // rebalances instead of failing the build over a forward edge.
  const dlEdge = (e: PlanEdge, p: PlanNode, consumer: PlanNode): PlanEdge =>
    e.partitioning === 'forward' && parallelismOf(p) !== parallelismOf(consumer) ? { ...e, from: p.id, partitioning: 'rebalance' } : { ...e, from: p.id };
  const nodes: PlanNode[] = plan.nodes.map((n) =>
    n.inputs.some((e) => e.from === 0)
      ? { ...n, inputs: n.inputs.flatMap((e) => (e.from === 0 ? producers.map((p) => dlEdge(e, p, n)) : [e])) }
      : n,
  );

  const sorted = topologicalOrder(nodes);
  const resolved = new Map(sorted.map((n) => [n.id, n]));

  const usesSkip = plan.config.errorPolicy === 'skip' || nodes.some((n) => n.errorPolicy === 'skip');
  if (usesSkip && dlConsumers.length === 0) {
    const which = plan.config.errorPolicy === 'skip' ? `job '${plan.jobName}'` : `step '${nodes.find((n) => n.errorPolicy === 'skip')!.name}'`;
    throw new JobBuildError(`${which} uses the 'skip' error policy but nothing reads env.deadLetters(): give it a sink, e.g. env.deadLetters().sinkTo(…, { uid: 'dead-letters' })`);
  }
  if (!nodes.some((n) => n.spec.kind === 'sink')) {
    throw new JobBuildError(`job '${plan.jobName}' has no sink: nothing it computes would be written anywhere (add .sinkTo(…) or .print())`);
  }

  const timestamps = new Map<number, boolean>();
  for (const n of sorted) {
    let has: boolean;
    if (n.spec.kind === 'source') has = n.spec.watermarks !== undefined;
    else if (n.spec.kind === 'timestamps') has = true;
    else has = n.inputs.length > 0 && n.inputs.every((e) => timestamps.get(e.from) === true);
    timestamps.set(n.id, has);
    for (const e of n.inputs) {
      const from = resolved.get(e.from);
      if (!from) throw new JobBuildError(`step '${n.name}' reads from an unknown step #${e.from}`);
      if (e.sideOutput !== undefined && e.sideOutput !== DEAD_LETTERS.id) {
        const k = from.spec.kind;
        const ok = k === 'process' || k === 'keyed-process' || (k === 'window' && (from.spec.lateTag === e.sideOutput || from.spec.fn.type === 'process'));
        if (!ok) throw new JobBuildError(`step '${n.name}' reads side output '${e.sideOutput}' of step '${from.name}' (${k}), which never emits it`);
      }
      const fp = from.parallelism ?? plan.config.parallelism;
      const np = n.parallelism ?? plan.config.parallelism;
      if (e.partitioning === 'forward' && fp !== np) {
        throw new JobBuildError(`step '${n.name}' (parallelism ${np}) reads step '${from.name}' (parallelism ${fp}) over a forward edge, which cannot change parallelism: call .rebalance() before it or give both the same parallelism`);
      }
    }
    if (n.spec.kind === 'window' && n.spec.assigner.time === 'event' && n.spec.assigner.kind !== 'global' && !has) {
      throw new JobBuildError(
        `step '${n.name}' (uid '${n.uid}') uses event-time windows (${n.spec.assigner.description}), but its input has no timestamps: ` +
          `give the source a watermarks strategy ({ watermarks: WatermarkStrategy.boundedOutOfOrderness('5s').withTimestamp(…) }) ` +
          `or call assignTimestampsAndWatermarks(…) before keyBy, or use processing-time windows ({ time: 'processing' })`,
      );
    }
  }
  return { ...plan, nodes: sorted };
}

function topologicalOrder(nodes: readonly PlanNode[]): PlanNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<number, 1 | 2>();
  const out: PlanNode[] = [];
  const visit = (n: PlanNode, path: string[]): void => {
    const s = state.get(n.id);
    if (s === 2) return;
    if (s === 1) throw new JobBuildError(`the plan has a cycle through steps ${[...path, n.name].join(' → ')}`);
    state.set(n.id, 1);
    for (const e of n.inputs) {
      const from = byId.get(e.from);
      if (!from) throw new JobBuildError(`step '${n.name}' reads from an unknown step #${e.from}`);
      visit(from, [...path, n.name]);
    }
    state.set(n.id, 2);
    out.push(n);
  };
  for (const n of nodes) visit(n, []);
  return out;
}

/** An input of a chain: an edge of its head node, with the chain that produces it. */
export interface ChainInput {
  readonly edge: PlanEdge;
  readonly fromChain: number;
}

/**
 * Steps fused into one task: a head (any step) followed by stateless steps connected by forward edges with equal
 * parallelism. The runtime runs a chain's stateless part as one generated loop.
 */
export interface Chain {
  readonly id: number;
  readonly nodes: readonly PlanNode[];
  readonly parallelism: number;
  readonly inputs: readonly ChainInput[];
  readonly stage: number;
}

/** Chains that run with the same parallelism, connected by forward edges; shuffles separate stages. */
export interface Stage {
  readonly id: number;
  readonly chains: readonly number[];
  readonly parallelism: number;
}

/** The physical plan: what the runtime executes. */
export interface PhysicalPlan {
  readonly logical: LogicalPlan;
  readonly chains: readonly Chain[];
  readonly stages: readonly Stage[];
  /** Chain id of every node id. */
  readonly chainOf: ReadonlyMap<number, number>;
  /** The names of the planner passes that changed the plan, in order. */
  readonly passes: readonly string[];
}

type Draft = { nodes: PlanNode[]; parallelism: number };

/** A named rewrite of the chain drafts; returns true when it changed something. Run to a fixpoint. */
interface Pass {
  readonly name: string;
  run(drafts: Draft[], plan: LogicalPlan): boolean;
}

const fuseForwardChains: Pass = {
  name: 'fuse-forward-chains',
  run(drafts, plan) {
    const consumers = new Map<number, number>();
    for (const n of plan.nodes) for (const e of n.inputs) if (e.sideOutput === undefined) consumers.set(e.from, (consumers.get(e.from) ?? 0) + 1);
    for (let i = 0; i < drafts.length; i++) {
      const b = drafts[i]!;
      const head = b.nodes[0]!;
      if (head.inputs.length !== 1 || !isChainable(head.spec)) continue;
      const e = head.inputs[0]!;
      if (e.partitioning !== 'forward' || e.sideOutput !== undefined || consumers.get(e.from) !== 1) continue;
      const a = drafts.find((d) => d.nodes[d.nodes.length - 1]!.id === e.from);
      if (!a || a === b || a.parallelism !== b.parallelism || a.nodes[a.nodes.length - 1]!.spec.kind === 'sink') continue;
      a.nodes.push(...b.nodes);
      drafts.splice(i, 1);
      return true;
    }
    return false;
  },
};

const PASSES: readonly Pass[] = [fuseForwardChains];

/** Turns a finished logical plan into chains and stages. */
export function physicalPlan(plan: LogicalPlan): PhysicalPlan {
  const drafts: Draft[] = plan.nodes.map((n) => ({ nodes: [n], parallelism: n.parallelism ?? plan.config.parallelism }));
  const applied: string[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const p of PASSES) {
      if (p.run(drafts, plan)) {
        changed = true;
        if (applied[applied.length - 1] !== p.name) applied.push(p.name);
      }
    }
  }
  const chainOf = new Map<number, number>();
  drafts.forEach((d, i) => d.nodes.forEach((n) => chainOf.set(n.id, i)));
  // Stages: union-find over forward edges between chains.
  const parent = drafts.map((_, i) => i);
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x]!)));
  for (const d of drafts) {
    for (const e of d.nodes[0]!.inputs) if (e.partitioning === 'forward') parent[find(chainOf.get(d.nodes[0]!.id)!)] = find(chainOf.get(e.from)!);
  }
  const stageIds = new Map<number, number>();
  const stageOf = drafts.map((_, i) => {
    const r = find(i);
    if (!stageIds.has(r)) stageIds.set(r, stageIds.size);
    return stageIds.get(r)!;
  });
  const chains: Chain[] = drafts.map((d, i) => ({
    id: i,
    nodes: d.nodes,
    parallelism: d.parallelism,
    inputs: d.nodes[0]!.inputs.map((edge) => ({ edge, fromChain: chainOf.get(edge.from)! })),
    stage: stageOf[i]!,
  }));
  const stages: Stage[] = [...stageIds.values()].map((id) => {
    const members = chains.filter((c) => c.stage === id);
    return { id, chains: members.map((c) => c.id), parallelism: members[0]!.parallelism };
  });
  return { logical: plan, chains, stages, chainOf, passes: applied };
}

function describe(n: PlanNode): string {
  const s = n.spec;
  switch (s.kind) {
    case 'source': return `source ${s.source.description}${s.watermarks ? `, watermarks ${s.watermarks.description}` : ''}`;
    case 'sink': return `sink ${s.sink.description}`;
    case 'window': return `window ${s.assigner.description}, ${s.fn.type}${s.trigger ? `, trigger ${s.trigger.description}` : ''}${s.allowedLatenessMs ? `, lateness ${s.allowedLatenessMs}ms` : ''}${s.lateTag ? `, late → ${s.lateTag}` : ''}`;
    case 'keyed-process': return `keyed process, state {${Object.entries(s.states).map(([k, d]) => `${k}: ${d.kind}${d.ttlMs !== undefined ? ` ttl ${d.ttlMs}ms` : ''}`).join(', ')}}`;
    case 'timestamps': return `timestamps ${s.strategy.description}`;
    default: return s.kind;
  }
}

function edgeLabel(e: PlanEdge, nodes: ReadonlyMap<number, PlanNode>): string {
  const from = nodes.get(e.from)!;
  return `${e.partitioning}${e.sideOutput !== undefined ? ` side '${e.sideOutput}'` : ''} from #${from.id} ${from.name}`;
}

/** Options of {@link explain}. */
export interface ExplainOptions {
  /** `'text'` (default) or `'mermaid'` (a flowchart for docs). */
  readonly format?: 'text' | 'mermaid';
}

/** Prints the logical plan and the physical plan (stages, fused chains, partitioning of each edge). */
export function explain(plan: LogicalPlan, opts: ExplainOptions = {}): string {
  const phys = physicalPlan(plan);
  const byId = new Map(plan.nodes.map((n) => [n.id, n]));
  if (opts.format === 'mermaid') {
    const lines = ['flowchart LR'];
    for (const st of phys.stages) {
      lines.push(`  subgraph stage${st.id}["stage ${st.id} (parallelism ${st.parallelism})"]`);
      for (const cid of st.chains) {
        const c = phys.chains[cid]!;
        lines.push(`    c${c.id}["${c.nodes.map((n) => `${n.name}`).join(' → ').replace(/"/g, "'")}"]`);
      }
      lines.push('  end');
    }
    for (const c of phys.chains) for (const i of c.inputs) lines.push(`  c${i.fromChain} -- "${i.edge.partitioning}${i.edge.sideOutput ? ` ${i.edge.sideOutput}` : ''}" --> c${c.id}`);
    return lines.join('\n');
  }
  const lines = [`Job '${plan.jobName}' (parallelism ${plan.config.parallelism}, ${plan.config.maxParallelism} key groups)`, '', 'Logical plan:'];
  for (const n of plan.nodes) {
    lines.push(`  #${n.id} ${n.name} [uid ${n.uid}] ${describe(n)}${n.parallelism ? ` (parallelism ${n.parallelism})` : ''}`);
    for (const e of n.inputs) lines.push(`      ← ${edgeLabel(e, byId)}`);
  }
  lines.push('', `Physical plan (passes: ${phys.passes.join(', ') || 'none'}):`);
  for (const st of phys.stages) {
    lines.push(`  Stage ${st.id} (parallelism ${st.parallelism})`);
    for (const cid of st.chains) {
      const c = phys.chains[cid]!;
      lines.push(`    Chain ${c.id}: ${c.nodes.map((n) => `${n.name}`).join(' → ')}`);
      for (const i of c.inputs) lines.push(`      ← ${i.edge.partitioning}${i.edge.sideOutput !== undefined ? ` side '${i.edge.sideOutput}'` : ''} from chain ${i.fromChain}${i.edge.partitioning === 'hash' ? ' (by key group)' : ''}`);
    }
  }
  return lines.join('\n');
}
