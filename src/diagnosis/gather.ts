import { ConcurrencyLimit } from '../cluster/concurrency-limit.js';
import type { ClusterReader } from '../cluster/reader.js';
import { StuckfailedError } from '../errors.js';
import { RESOURCES, type ResourceName } from '../kube/resources.js';
import type { Event, KubeVirt, Node, Pod, VirtualMachineInstanceMigration } from '../kube/types.js';
import { definedProps, failureSignature } from '../launcher/failure-signature.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
  LAUNCHER_NAME_PREFIX,
  launcherImage,
  launcherNode,
  launcherVmi,
  migrationRole,
} from '../launcher/launcher-pod.js';
import { isFinalMigration, migrationWave } from '../launcher/migration-phase.js';
import { isLoopingVmi } from './analyzers/analyze-migration.js';
import type {
  ControlPlaneFacts,
  DiagnosisFacts,
  EventGroup,
  MigrationFacts,
  NodeFacts,
  PodExample,
  PodGroup,
  VmiMigrations,
} from './analyzers/facts.js';
import { type Artifact, artifactSegment } from './artifacts.js';
import { classifyEvent, EVENT_CLASSES, type EventClass } from './event-class.js';
import { groupErrorBursts, type KubevirtLogLine, parseKubevirtLogLine } from './log-lines.js';
import { messageShape } from './message-shape.js';
import type { Count, Evidence, GatherError, Sample } from './types.js';

// The I/O of diagnose: the runbook's Diagnosis steps 1 to 5 as a handful of streamed, server-filtered lists.
// Nothing here grows with the number of Failed pods: the events (bounded by their budget), nodes, migrations
// and the KubeVirt CR are read first; then each Failed launcher is folded, as it streams by, into counters and
// its final group (signature x event classes), and forgotten.

export interface GatherProgress {
  phase: 'nodes' | 'pods' | 'migrations' | 'kubevirt' | 'events' | 'logs' | 'prometheus';
  /** Items seen so far in this phase. */
  done: number;
}

/** A Prometheus result worth keeping in the bundle. */
export interface PrometheusResult {
  name: string;
  query: string;
  result: unknown;
}

/** What gather needs from Prometheus; src/cli builds it from src/prometheus. Throws when Prometheus is down. */
export interface PrometheusGatherer {
  readonly url: string;
  gather(): Promise<PrometheusResult[]>;
}

export interface GatherOptions {
  /** -n: only this namespace (launchers, events, migrations). */
  namespace?: string;
  /** -l: an extra label selector ANDed with kubevirt.io=virt-launcher. */
  labelSelector?: string;
  /** Sampled pods kept per group (manifests and events for the bundle). Default 3. */
  samplesPerGroup?: number;
  /** Lines of each component log tail (the runbook's --tail=200). */
  logTailLines?: number;
  /** Component pods whose logs are read: virt-controller pods, then virt-handler pods. */
  controllerLogPods?: number;
  handlerLogPods?: number;
  /** Warning events of virt-launcher pods read in all (default 5000); see EVENT_BUDGET. */
  eventBudget?: number;
  /** Requests in flight at once for the per-namespace and per-pod reads. Default 4. */
  concurrency?: number;
  prometheus?: PrometheusGatherer;
  onProgress?: (progress: GatherProgress) => void;
}

export interface GatheredSample {
  groupId: number;
  sample: Omit<Sample, 'category'>;
}

export interface GatherResult {
  facts: DiagnosisFacts;
  byNamespace: Count[];
  byNode: Count[];
  byReason: Count[];
  samples: GatheredSample[];
  gatherErrors: GatherError[];
  artifacts: Artifact[];
}

/** Groups past this many fold into coarser keys, so the number of groups stays bounded whatever the cluster. */
const MAX_GROUPS = 2000;
const MAX_EVENT_GROUPS = 500;
/** Counted VMIs (and, apart, VMIs seen once) kept for the migration churn ranking; see VmiChurn. */
const MAX_CHURN_VMIS = 4096;
const MAX_EVENTS_PER_SAMPLE = 20;
/**
 * Warning events of virt-launcher pods read in all (ten pages of 500): a 100k-pod incident has hundreds of
 * thousands of events, and reading them all would cost more requests than the pods themselves. Pods past the
 * budget take the event classes of the pods of their signature group that were read.
 */
export const EVENT_BUDGET = 5000;
const EVENT_FIELD_SELECTOR = 'involvedObject.kind=Pod,type=Warning';
const MAX_VMIM_ARTIFACT = 1000;
const COMPONENT_SELECTOR = 'kubevirt.io in (virt-controller,virt-handler)';

interface BaseGroup {
  id: number;
  key: string;
  fields: Omit<PodGroup, 'id' | 'count' | 'eventClasses' | 'namespaces' | 'nodes' | 'examples'>;
  examples: Array<PodExample & { key: string; manifest: Pod }>;
}

/** Turns any error of one read into data (forbidden, missing) or rethrows it (unreachable, unauthorized). */
class ErrorSink {
  readonly errors: GatherError[] = [];

  /** Runs a read; a 403 or 404 becomes a gatherError and `fallback`, anything that means "no cluster" throws. */
  async guard<T>(what: GuardTarget, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (error) {
      this.record(what, error);
      return fallback;
    }
  }

  record(what: GuardTarget, error: unknown): void {
    if (error instanceof StuckfailedError && error.code === 'FORBIDDEN') {
      this.errors.push({ type: 'forbidden', message: `${forbiddenRule(what)}: ${error.message}` });
      return;
    }
    if (isStatus(error, 404)) {
      this.errors.push({
        type: 'not-found',
        message: `${what.resource} not served by this cluster: ${errorText(error)}`,
      });
      return;
    }
    // Logs of one pod can vanish mid-read (the pod was deleted); that must not sink the report either.
    if (what.verb === 'get' && what.subresource === 'log' && !isFatal(error)) {
      this.errors.push({
        type: 'logs',
        message: `cannot read the log of ${what.name ?? '?'}: ${errorText(error)}`,
      });
      return;
    }
    throw error;
  }

  add(type: string, message: string): void {
    this.errors.push({ type, message });
  }
}

interface GuardTarget {
  verb: 'list' | 'get';
  resource: ResourceName;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** The RBAC rule a 403 asks for, spelled as a Role rule so it can be pasted (deploy/rbac.yaml). */
function forbiddenRule({ verb, resource, subresource, namespace }: GuardTarget): string {
  const group = RESOURCES[resource].group;
  const resourceName = subresource ? `${resource}/${subresource}` : resource;
  const scope = namespace ? ` in namespace ${namespace}` : ' cluster-wide';
  return `missing RBAC rule {apiGroups: ["${group}"], resources: ["${resourceName}"], verbs: ["${verb}"]}${scope}`;
}

function isStatus(error: unknown, code: number): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === code
  );
}

function isFatal(error: unknown): boolean {
  return (
    error instanceof StuckfailedError && ['UNREACHABLE', 'UNAUTHORIZED', 'KUBECONFIG'].includes(error.code)
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function increment(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

export function sortedCounts(map: Map<string, number>, limit = Number.POSITIVE_INFINITY): Count[] {
  return [...map]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, limit);
}

function conditionOf(
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }> | undefined,
  type: string,
) {
  return conditions?.find((condition) => condition.type === type);
}

/** Reads the cluster for diagnose. Throws only when there is no cluster to read (unreachable, 401, kubeconfig). */
/** Reads the cluster for diagnose. Throws only when there is no cluster to read (unreachable, 401, kubeconfig). */
export async function gather(reader: ClusterReader, options: GatherOptions = {}): Promise<GatherResult> {
  const sink = new ErrorSink();
  const progress = options.onProgress ?? (() => {});
  const limit = new ConcurrencyLimit(options.concurrency ?? 4);
  const artifacts: Artifact[] = [];

  const prometheusRead = readPrometheus(options.prometheus, sink, progress);
  // Everything the pods are joined with is read first, so that each pod is folded into its final group as it
  // streams by and no per-pod state outlives the list (DESIGN §3 "Streaming, not loading").
  const [nodes, kubevirt, vmims, events] = await Promise.all([
    sink.guard({ verb: 'list', resource: 'nodes' }, () => readNodes(reader, progress), new Map()),
    sink.guard({ verb: 'list', resource: 'kubevirts' }, () => readKubevirt(reader, progress), undefined),
    sink.guard(
      {
        verb: 'list',
        resource: 'virtualmachineinstancemigrations',
        ...definedProps({ namespace: options.namespace }),
      },
      () => readMigrations(reader, options.namespace, progress),
      undefined,
    ),
    readEvents(reader, options.namespace, options.eventBudget ?? EVENT_BUDGET, sink, progress),
  ]);
  const launchers = await readFailedLaunchers(reader, options, nodes, events, vmims, sink, progress);
  countEventsOnFailedLaunchers(events);

  const [componentLogs, prometheus] = await Promise.all([
    readComponentLogs(reader, options, kubevirt?.metadata.namespace, launchers.byNode, sink, limit, progress),
    prometheusRead,
  ]);

  const groups = finalGroups(launchers);
  const migrations = migrationFacts(vmims, launchers.vmiChurn.entries());
  const controlPlane = controlPlaneFacts(kubevirt, componentLogs.lines);
  const eventsOf = (key: string): Sample['events'] => events.byPod.get(key)?.events ?? [];

  for (const group of launchers.baseGroups) {
    for (const example of group.examples) {
      artifacts.push({
        path: `pods/${artifactSegment(example.namespace)}/${artifactSegment(example.name)}.json`,
        content: example.manifest,
      });
      const podEvents = eventsOf(example.key);
      if (podEvents.length > 0) {
        artifacts.push({
          path: `events/${artifactSegment(example.namespace)}/${artifactSegment(example.name)}.json`,
          content: podEvents,
        });
      }
    }
  }
  if (kubevirt) artifacts.push({ path: 'kubevirt.json', content: kubevirt });
  if (vmims) artifacts.push({ path: 'vmims.json', content: vmims.kept });
  const sickNodes = [...nodes.values()].filter((node) => node.facts.ready !== 'True');
  if (sickNodes.length > 0)
    artifacts.push({ path: 'nodes-not-ready.json', content: sickNodes.map((node) => node.facts) });
  artifacts.push(...componentLogs.artifacts);
  for (const result of prometheus) {
    artifacts.push({ path: `prometheus/${artifactSegment(result.name)}.json`, content: result });
  }

  const samples: GatheredSample[] = [];
  for (const group of groups) {
    for (const example of group.examples) {
      samples.push({
        groupId: group.id,
        sample: {
          namespace: example.namespace,
          name: example.name,
          ...definedProps({ node: example.node, reason: example.reason, message: example.message }),
          events: eventsOf(`${example.namespace}/${example.name}`),
        },
      });
    }
  }

  return {
    facts: {
      failedLaunchers: launchers.count,
      groups,
      events: sortedEventGroups(events.groups),
      migrations,
      nodes: [...nodes.values()].map((node) => ({
        ...node.facts,
        failedLaunchers: launchers.byNode.get(node.facts.name) ?? 0,
      })),
      controlPlane,
    },
    byNamespace: sortedCounts(launchers.byNamespace),
    byNode: sortedCounts(launchers.byNode),
    byReason: sortedCounts(launchers.byReason),
    samples,
    gatherErrors: sink.errors,
    artifacts,
  };
}

interface NodeEntry {
  index: number;
  facts: Omit<NodeFacts, 'failedLaunchers'>;
}

async function readNodes(
  reader: ClusterReader,
  progress: (progress: GatherProgress) => void,
): Promise<Map<string, NodeEntry>> {
  const nodes = new Map<string, NodeEntry>();
  for await (const node of reader.list<Node>('nodes')) {
    const conditions = node.status?.conditions ?? [];
    const ready = conditionOf(conditions, 'Ready');
    const status = ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
    nodes.set(node.metadata.name, {
      index: nodes.size + 1,
      facts: {
        name: node.metadata.name,
        ready: status,
        unschedulable: node.spec?.unschedulable ?? false,
        pressure: conditions
          .filter((condition) => condition.type.endsWith('Pressure') && condition.status === 'True')
          .map((condition) => condition.type),
        taints: (node.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`),
        ...definedProps({ readyReason: ready?.reason, readyMessage: ready?.message }),
      },
    });
    if (nodes.size % 500 === 0) progress({ phase: 'nodes', done: nodes.size });
  }
  progress({ phase: 'nodes', done: nodes.size });
  return nodes;
}

/** Failed launchers of one signature group and one set of event classes: exact counts by node and namespace. */
interface GroupShare {
  base: BaseGroup;
  bits: number;
  count: number;
  nodes: Map<string, number>;
  namespaces: Map<string, number>;
  examples: PodExample[];
}

/** The pods of one signature group whose events lay past the event budget, shared out at the end. */
interface UnreadShare {
  count: number;
  nodes: Map<string, number>;
  namespaces: Map<string, number>;
}

interface LauncherAggregate {
  count: number;
  byNamespace: Map<string, number>;
  byNode: Map<string, number>;
  byReason: Map<string, number>;
  vmiChurn: VmiChurn;
  baseGroups: BaseGroup[];
  groupByKey: Map<string, BaseGroup>;
  /** `${base group id}:${event class bits}` -> its pods. */
  shares: Map<string, GroupShare>;
  /** Base group id -> its pods past the event budget. */
  unread: Map<number, UnreadShare>;
}

/**
 * Failed launchers per VMI, for the VMIs that can be churning: those with migrations, and those with two Failed
 * launchers or more. A VMI's launchers are named `virt-launcher-<vmi>-<5 chars>` and so lie next to each other in
 * the list's key order, which lets a bounded structure count them exactly: a VMI seen once waits in a bounded
 * first-in-first-out set of singles, and only its second launcher makes it a counted entry. Counted entries past
 * the bound are cut to the half with the most failures (only the top 20 are reported); VMIs with migrations are
 * never cut. A VMI whose launchers sort thousands of other launchers apart (its name a prefix of thousands of
 * other VMIs' names) may be undercounted: the price of memory that does not grow with the pods.
 */
export class VmiChurn {
  readonly #capacity: number;
  readonly #migrating: ReadonlySet<string>;
  readonly #singles = new Map<string, { targets: number }>();
  readonly #counted = new Map<string, { failed: number; targets: number }>();

  constructor(options: { capacity: number; migrating: ReadonlySet<string> }) {
    this.#capacity = options.capacity;
    this.#migrating = options.migrating;
  }

  add(vmiKey: string, target: boolean): void {
    const entry = this.#counted.get(vmiKey);
    if (entry !== undefined) {
      entry.failed += 1;
      if (target) entry.targets += 1;
      return;
    }
    const single = this.#singles.get(vmiKey);
    if (single === undefined && !this.#migrating.has(vmiKey)) {
      this.#singles.set(vmiKey, { targets: target ? 1 : 0 });
      if (this.#singles.size > this.#capacity) {
        const oldest = this.#singles.keys().next().value;
        if (oldest !== undefined) this.#singles.delete(oldest);
      }
      return;
    }
    this.#singles.delete(vmiKey);
    this.#counted.set(vmiKey, {
      failed: (single ? 1 : 0) + 1,
      targets: (single?.targets ?? 0) + (target ? 1 : 0),
    });
    if (this.#counted.size > this.#capacity) this.#cut(vmiKey);
  }

  /** `namespace/vmi` -> counts, for every VMI with migrations or at least two Failed launchers. */
  entries(): ReadonlyMap<string, { failed: number; targets: number }> {
    return this.#counted;
  }

  /** Drops the lighter half of the counted VMIs, but never `keep` (the VMI being counted) nor migrating ones. */
  #cut(keep: string): void {
    const cuttable = [...this.#counted]
      .filter(([key]) => key !== keep && !this.#migrating.has(key))
      .sort(([, a], [, b]) => a.failed + a.targets - (b.failed + b.targets));
    for (const [key] of cuttable.slice(0, Math.ceil(cuttable.length / 2))) this.#counted.delete(key);
  }
}

async function readFailedLaunchers(
  reader: ClusterReader,
  options: GatherOptions,
  nodes: Map<string, NodeEntry>,
  events: EventAggregate,
  vmims: MigrationAggregate | undefined,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): Promise<LauncherAggregate> {
  const aggregate: LauncherAggregate = {
    count: 0,
    byNamespace: new Map(),
    byNode: new Map(),
    byReason: new Map(),
    vmiChurn: new VmiChurn({
      capacity: MAX_CHURN_VMIS,
      migrating: new Set(vmims?.byVmi.keys() ?? []),
    }),
    baseGroups: [],
    groupByKey: new Map(),
    shares: new Map(),
    unread: new Map(),
  };
  const labelSelector = options.labelSelector
    ? `${FAILED_LAUNCHER_LABEL_SELECTOR},${options.labelSelector}`
    : FAILED_LAUNCHER_LABEL_SELECTOR;
  const samplesPerGroup = options.samplesPerGroup ?? 3;
  const read = async () => {
    const pods = reader.list<Pod>('pods', {
      labelSelector,
      fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
      ...definedProps({ namespace: options.namespace }),
    });
    for await (const pod of pods) {
      // The server applied both selectors; the name prefix is the half of the definition it cannot check.
      if (!isFailedLauncher(pod)) continue;
      aggregate.count += 1;
      const namespace = pod.metadata.namespace ?? '';
      const node = launcherNode(pod);
      const nodeName = node ?? '<none>';
      const signature = failureSignature(pod);
      increment(aggregate.byNamespace, namespace);
      increment(aggregate.byNode, nodeName);
      increment(aggregate.byReason, signature.reason);
      const target = migrationRole(pod) === 'target';
      const vmi = launcherVmi(pod);
      if (vmi) aggregate.vmiChurn.add(`${vmi.namespace}/${vmi.name}`, target);
      const nodeReady: PodGroup['nodeReady'] = node
        ? (nodes.get(node)?.facts.ready ?? (nodes.size > 0 ? 'missing' : 'Unknown'))
        : 'unscheduled';
      const fields: BaseGroup['fields'] = {
        kind: signature.kind,
        reason: signature.reason,
        initContainer: signature.initContainer,
        migrationTarget: target,
        nodeReady,
        ...definedProps({
          message: signature.message,
          container: signature.container,
          exitCode: signature.exitCode,
          resource: signature.resource,
          image: signature.image,
          launcherImage: launcherImage(pod),
        }),
      };
      const fine = JSON.stringify([
        fields.kind,
        fields.reason,
        fields.container,
        fields.initContainer,
        fields.exitCode,
        fields.resource,
        fields.image,
        fields.launcherImage,
        fields.migrationTarget,
        fields.nodeReady,
        fields.message === undefined ? undefined : messageShape(fields.message),
      ]);
      const key =
        aggregate.groupByKey.has(fine) || aggregate.baseGroups.length < MAX_GROUPS
          ? fine
          : JSON.stringify([
              fields.kind,
              fields.reason,
              fields.container,
              fields.migrationTarget,
              fields.nodeReady,
            ]);
      let group = aggregate.groupByKey.get(key);
      if (!group) {
        group = { id: aggregate.baseGroups.length, key, fields, examples: [] };
        aggregate.baseGroups.push(group);
        aggregate.groupByKey.set(key, group);
      }
      const podKey = `${namespace}/${pod.metadata.name}`;
      let example: PodExample | undefined;
      if (group.examples.length < samplesPerGroup) {
        example = {
          namespace,
          name: pod.metadata.name,
          ...definedProps({ node, reason: signature.reason, message: signature.message }),
        };
        group.examples.push({ ...example, key: podKey, manifest: pod });
      }
      const podEvents = events.byPod.get(podKey);
      if (podEvents) podEvents.onFailedLauncher = true;
      if (eventsUnread(events, podKey)) {
        let unread = aggregate.unread.get(group.id);
        if (!unread) {
          unread = { count: 0, nodes: new Map(), namespaces: new Map() };
          aggregate.unread.set(group.id, unread);
        }
        unread.count += 1;
        increment(unread.nodes, nodeName);
        increment(unread.namespaces, namespace);
      } else {
        const share = groupShare(aggregate.shares, group, podEvents?.bits ?? 0);
        share.count += 1;
        increment(share.nodes, nodeName);
        increment(share.namespaces, namespace);
        if (example) share.examples.push(example);
      }
      if (aggregate.count % 500 === 0) progress({ phase: 'pods', done: aggregate.count });
    }
    progress({ phase: 'pods', done: aggregate.count });
  };
  await sink.guard(
    { verb: 'list', resource: 'pods', ...definedProps({ namespace: options.namespace }) },
    read,
    undefined,
  );
  return aggregate;
}

function groupShare(shares: Map<string, GroupShare>, base: BaseGroup, bits: number): GroupShare {
  const key = `${base.id}:${bits}`;
  let share = shares.get(key);
  if (!share) {
    share = { base, bits, count: 0, nodes: new Map(), namespaces: new Map(), examples: [] };
    shares.set(key, share);
  }
  return share;
}

async function readKubevirt(
  reader: ClusterReader,
  progress: (progress: GatherProgress) => void,
): Promise<KubeVirt | undefined> {
  // The runbook takes .items[0] of `get kubevirt -A`; a cluster has one KubeVirt CR (virt-operator refuses a second).
  let first: KubeVirt | undefined;
  for await (const kubevirt of reader.list<KubeVirt>('kubevirts')) {
    first ??= kubevirt;
  }
  progress({ phase: 'kubevirt', done: first ? 1 : 0 });
  return first;
}

interface MigrationAggregate {
  total: number;
  inFlight: number;
  failed: number;
  succeeded: number;
  evacuation: number;
  workloadUpdate: number;
  byVmi: Map<string, { migrations: number; failed: number; inFlight: number }>;
  failedExamples: Evidence[];
  /** The in-flight and failed vmims (bounded) for the bundle. */
  kept: VirtualMachineInstanceMigration[];
}

async function readMigrations(
  reader: ClusterReader,
  namespace: string | undefined,
  progress: (progress: GatherProgress) => void,
): Promise<MigrationAggregate> {
  const aggregate: MigrationAggregate = {
    total: 0,
    inFlight: 0,
    failed: 0,
    succeeded: 0,
    evacuation: 0,
    workloadUpdate: 0,
    byVmi: new Map(),
    failedExamples: [],
    kept: [],
  };
  const list = reader.list<VirtualMachineInstanceMigration>(
    'virtualmachineinstancemigrations',
    definedProps({ namespace }),
  );
  for await (const vmim of list) {
    aggregate.total += 1;
    const phase = vmim.status?.phase;
    const wave = migrationWave(vmim);
    if (wave === 'evacuation') aggregate.evacuation += 1;
    if (wave === 'workload-update') aggregate.workloadUpdate += 1;
    const key = `${vmim.metadata.namespace ?? ''}/${vmim.spec.vmiName}`;
    const perVmi = aggregate.byVmi.get(key) ?? { migrations: 0, failed: 0, inFlight: 0 };
    perVmi.migrations += 1;
    if (phase === 'Succeeded') aggregate.succeeded += 1;
    if (phase === 'Failed') {
      aggregate.failed += 1;
      perVmi.failed += 1;
      if (aggregate.failedExamples.length < 5) aggregate.failedExamples.push(failedMigrationEvidence(vmim));
    }
    if (!isFinalMigration(vmim)) {
      aggregate.inFlight += 1;
      perVmi.inFlight += 1;
    }
    aggregate.byVmi.set(key, perVmi);
    if (phase !== 'Succeeded' && aggregate.kept.length < MAX_VMIM_ARTIFACT) aggregate.kept.push(vmim);
    if (aggregate.total % 500 === 0) progress({ phase: 'migrations', done: aggregate.total });
  }
  progress({ phase: 'migrations', done: aggregate.total });
  return aggregate;
}

function failedMigrationEvidence(vmim: VirtualMachineInstanceMigration): Evidence {
  const state = vmim.status?.migrationState;
  const failedCondition = vmim.status?.conditions?.find((condition) => condition.message);
  const message =
    state?.failureReason ?? failedCondition?.message ?? `migration of VMI ${vmim.spec.vmiName} failed`;
  return {
    kind: 'VirtualMachineInstanceMigration',
    name: vmim.metadata.name,
    reason: 'Failed',
    message: `vmi ${vmim.spec.vmiName}: ${message}`,
    ...definedProps({ namespace: vmim.metadata.namespace }),
  };
}

function migrationFacts(
  vmims: MigrationAggregate | undefined,
  failedByVmi: ReadonlyMap<string, { failed: number; targets: number }>,
): MigrationFacts {
  const keys = new Set([...(vmims?.byVmi.keys() ?? []), ...failedByVmi.keys()]);
  const vmis: VmiMigrations[] = [];
  for (const key of keys) {
    const migrations = vmims?.byVmi.get(key);
    const launchers = failedByVmi.get(key);
    // A VMI with one Failed launcher and no migration is no churn: leave it out, the list stays short.
    if (!migrations && (launchers?.failed ?? 0) < 2) continue;
    const slash = key.indexOf('/');
    vmis.push({
      namespace: key.slice(0, slash),
      vmi: key.slice(slash + 1),
      migrations: migrations?.migrations ?? 0,
      failed: migrations?.failed ?? 0,
      inFlight: migrations?.inFlight ?? 0,
      failedLaunchers: launchers?.failed ?? 0,
      failedTargetLaunchers: launchers?.targets ?? 0,
    });
  }
  vmis.sort(
    (a, b) =>
      b.failed + b.failedTargetLaunchers - (a.failed + a.failedTargetLaunchers) ||
      b.migrations - a.migrations ||
      b.failedLaunchers - a.failedLaunchers ||
      `${a.namespace}/${a.vmi}`.localeCompare(`${b.namespace}/${b.vmi}`),
  );
  return {
    total: vmims?.total ?? 0,
    inFlight: vmims?.inFlight ?? 0,
    failed: vmims?.failed ?? 0,
    succeeded: vmims?.succeeded ?? 0,
    evacuation: vmims?.evacuation ?? 0,
    workloadUpdate: vmims?.workloadUpdate ?? 0,
    // The top 20 for the report, and every looping VMI besides: cancel-migrations --looping acts on all of them.
    vmis: vmis.filter((vmi, index) => index < 20 || isLoopingVmi(vmi)),
    failedExamples: vmims?.failedExamples ?? [],
  };
}

/** The Warning events read of one pod. */
interface PodEvents {
  /** Bit set of the classes of its events (EVENT_CLASSES order). */
  bits: number;
  /** The first few, for samples and the bundle. */
  events: Sample['events'];
  /** Set once the pod list shows it is a Failed launcher. */
  onFailedLauncher: boolean;
}

interface EventAggregate {
  groups: Map<string, EventGroup>;
  /** namespace/name of a pod -> its events read (at most one entry per event read: bounded by the budget). */
  byPod: Map<string, PodEvents>;
  /** Each pod event read, by group, to count the events on Failed launchers once the pods are known. */
  onPods: Array<{ group: EventGroup; podKey: string }>;
  /** Storage key (namespace/name) of the first event left unread; undefined when every event was read. */
  cutoff: string | undefined;
}

/**
 * One cluster-wide list (or one namespace's, with -n) of the Warning events of pods, filtered by the server
 * (event strategy.go selectable fields `involvedObject.kind`, `type`), read before the pods and cut at the
 * budget: a 100k-pod incident has hundreds of thousands of events, and reading them all, or one list per
 * namespace, would cost more requests than the pods themselves. The budget counts the events of pods named
 * virt-launcher-*; other pods' events are read on the way, up to as many again, so that a noisy namespace
 * sorting first cannot spend the requests. VMI and vmim events are left out (the vmims themselves carry the
 * migration failures).
 */
async function readEvents(
  reader: ClusterReader,
  namespace: string | undefined,
  eventBudget: number,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): Promise<EventAggregate> {
  const aggregate: EventAggregate = { groups: new Map(), byPod: new Map(), onPods: [], cutoff: undefined };
  let launcherEvents = 0;
  let otherEvents = 0;
  const read = async () => {
    const events = reader.list<Event>('events', {
      fieldSelector: EVENT_FIELD_SELECTOR,
      ...definedProps({ namespace }),
    });
    for await (const event of events) {
      const involved = event.involvedObject;
      const onLauncher = involved.kind === 'Pod' && (involved.name ?? '').startsWith(LAUNCHER_NAME_PREFIX);
      if ((onLauncher ? launcherEvents : otherEvents) >= eventBudget) {
        // Events are listed by key, `<namespace>/<involved object>.<id>`: every pod sorting before this one
        // was read whole.
        aggregate.cutoff = `${event.metadata.namespace ?? ''}/${event.metadata.name}`;
        break;
      }
      if (onLauncher) launcherEvents += 1;
      else otherEvents += 1;
      const eventClass = classifyEvent(event);
      const group = addEventToGroups(aggregate.groups, event, eventClass);
      if (involved.kind === 'Pod') {
        const podKey = `${involved.namespace ?? event.metadata.namespace ?? ''}/${involved.name ?? ''}`;
        aggregate.onPods.push({ group, podKey });
        let pod = aggregate.byPod.get(podKey);
        if (!pod) {
          pod = { bits: 0, events: [], onFailedLauncher: false };
          aggregate.byPod.set(podKey, pod);
        }
        if (eventClass !== 'other') pod.bits |= 1 << EVENT_CLASSES.indexOf(eventClass);
        if (pod.events.length < MAX_EVENTS_PER_SAMPLE) {
          pod.events.push(
            definedProps({
              type: event.type,
              reason: event.reason,
              message: event.message,
              count: event.count,
              lastTimestamp: event.lastTimestamp ?? event.eventTime ?? undefined,
            }),
          );
        }
      }
      const seen = launcherEvents + otherEvents;
      if (seen % 500 === 0) progress({ phase: 'events', done: seen });
    }
  };
  await sink.guard({ verb: 'list', resource: 'events', ...definedProps({ namespace }) }, read, undefined);
  progress({ phase: 'events', done: launcherEvents + otherEvents });
  return aggregate;
}

/** Whether the events of this pod (namespace/name) lay, even partly, past the budget. */
function eventsUnread(events: EventAggregate, podKey: string): boolean {
  // `${podKey}/` sorts after every `${podKey}.<id>` event key ('/' > '.') and before the next pod's.
  return events.cutoff !== undefined && `${podKey}/` > events.cutoff;
}

/** Once the pods are known: how many of each group's events are on Failed launchers. */
function countEventsOnFailedLaunchers(events: EventAggregate): void {
  for (const { group, podKey } of events.onPods) {
    if (events.byPod.get(podKey)?.onFailedLauncher) group.onFailedLaunchers += 1;
  }
}

function sortedEventGroups(groups: Map<string, EventGroup>): EventGroup[] {
  return [...groups.values()].sort(
    (a, b) =>
      b.onFailedLaunchers - a.onFailedLaunchers ||
      b.objects - a.objects ||
      `${a.eventClass}/${a.involvedKind}/${a.reason}/${a.shape}`.localeCompare(
        `${b.eventClass}/${b.involvedKind}/${b.reason}/${b.shape}`,
      ),
  );
}

function addEventToGroups(groups: Map<string, EventGroup>, event: Event, eventClass: EventClass): EventGroup {
  const involvedKind = event.involvedObject.kind ?? '';
  const reason = event.reason ?? '';
  const shape = messageShape(event.message ?? '');
  let key = JSON.stringify([eventClass, involvedKind, reason, shape]);
  if (!groups.has(key) && groups.size >= MAX_EVENT_GROUPS)
    key = JSON.stringify([eventClass, involvedKind, reason]);
  const group = groups.get(key);
  const occurrences = event.count ?? 1;
  if (group) {
    group.objects += 1;
    group.occurrences += occurrences;
    // The example is the first by namespace/name, whatever order the events were read in.
    if (exampleKey(eventExample(event)) < exampleKey(group.example)) group.example = eventExample(event);
    return group;
  }
  const created: EventGroup = {
    eventClass,
    involvedKind,
    reason,
    shape,
    objects: 1,
    occurrences,
    onFailedLaunchers: 0,
    example: eventExample(event),
  };
  groups.set(key, created);
  return created;
}

function eventExample(event: Event): Evidence {
  return {
    kind: event.involvedObject.kind || 'Event',
    name: event.involvedObject.name ?? event.metadata.name,
    ...definedProps({
      namespace: event.involvedObject.namespace ?? event.metadata.namespace,
      reason: event.reason,
      message: event.message,
    }),
  };
}

function exampleKey(evidence: Evidence): string {
  return `${evidence.namespace ?? ''}/${evidence.name}/${evidence.message ?? ''}`;
}

/**
 * The groups of Failed launchers: each signature group split by the event classes of its pods, with exact node
 * and namespace counts. Pods whose events lay past the budget are shared out like the pods of their signature
 * group whose events were read (largest remainder, so the counts stay exact).
 */
function finalGroups(launchers: LauncherAggregate): PodGroup[] {
  const { shares } = launchers;
  for (const [baseId, pending] of launchers.unread) {
    const base = launchers.baseGroups[baseId];
    if (!base) continue;
    const read = [...shares.values()].filter((candidate) => candidate.base === base);
    const split =
      read.length > 0
        ? splitByShares(
            pending.count,
            read.map((candidate) => candidate.count),
          )
        : [];
    const targets = read.length > 0 ? read : [groupShare(shares, base, 0)];
    targets.forEach((target, index) => {
      const share = read.length > 0 ? (split[index] ?? 0) : pending.count;
      if (share === 0) return;
      const fraction = share / pending.count;
      target.count += share;
      for (const [name, count] of pending.nodes) increment(target.nodes, name, Math.round(count * fraction));
      for (const [name, count] of pending.namespaces)
        increment(target.namespaces, name, Math.round(count * fraction));
    });
  }
  const groups: PodGroup[] = [];
  for (const entry of shares.values()) {
    if (entry.count === 0) continue;
    groups.push({
      ...entry.base.fields,
      id: groups.length,
      count: entry.count,
      eventClasses: EVENT_CLASSES.filter((_, index) => (entry.bits & (1 << index)) !== 0),
      namespaces: sortedCounts(entry.namespaces, 10),
      nodes: sortedCounts(entry.nodes, 10),
      // A split-off group whose pods were not sampled shows the samples of its signature.
      examples:
        entry.examples.length > 0
          ? entry.examples
          : entry.base.examples.map(({ key: _key, manifest: _manifest, ...example }) => example),
    });
  }
  return groups.sort((a, b) => b.count - a.count).map((group, id) => ({ ...group, id }));
}

export function splitByShares(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map(() => 0);
  const exact = weights.map((weight) => (total * weight) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (left === 0) break;
    shares[index] = (shares[index] ?? 0) + 1;
    left -= 1;
  }
  return shares;
}

interface ComponentLogs {
  lines: KubevirtLogLine[];
  artifacts: Artifact[];
}

async function readComponentLogs(
  reader: ClusterReader,
  options: GatherOptions,
  kubevirtNamespace: string | undefined,
  failedByNode: Map<string, number>,
  sink: ErrorSink,
  limit: ConcurrencyLimit,
  progress: (progress: GatherProgress) => void,
): Promise<ComponentLogs> {
  const pods = await sink.guard({
    verb: 'list',
    resource: 'pods',
    ...definedProps({ namespace: kubevirtNamespace }),
  }, async () => {
    const found: Pod[] = [];
    // The KubeVirt CR's namespace when we know it (the runbook's step 4); else wherever the components run.
    const list = reader.list<Pod>('pods', {
      labelSelector: COMPONENT_SELECTOR,
      ...definedProps({ namespace: kubevirtNamespace }),
    });
    for await (const pod of list) found.push(pod);
    return found;
  }, []);
  const componentOf = (pod: Pod) => pod.metadata.labels?.['kubevirt.io'] ?? '';
  const running = (pod: Pod) => (pod.status?.phase === 'Running' ? 0 : 1);
  const controllers = pods
    .filter((pod) => componentOf(pod) === 'virt-controller')
    .sort((a, b) => running(a) - running(b) || a.metadata.name.localeCompare(b.metadata.name))
    .slice(0, options.controllerLogPods ?? 2);
  // The virt-handlers of the nodes holding the most Failed launchers say the most about them.
  const handlers = pods
    .filter((pod) => componentOf(pod) === 'virt-handler')
    .sort(
      (a, b) =>
        (failedByNode.get(b.spec.nodeName ?? '') ?? 0) - (failedByNode.get(a.spec.nodeName ?? '') ?? 0) ||
        running(a) - running(b) ||
        a.metadata.name.localeCompare(b.metadata.name),
    )
    .slice(0, options.handlerLogPods ?? 3);
  let read = 0;
  // Read in parallel, kept in pod order, so that the bursts' examples do not depend on which answer came first.
  const tails = await Promise.all(
    [...controllers, ...handlers].map((pod) =>
      limit.run(async () => {
        const component = componentOf(pod);
        const container =
          pod.spec.containers.find((candidate) => candidate.name === component)?.name ??
          pod.spec.containers[0]?.name;
        const namespace = pod.metadata.namespace ?? '';
        if (!container) return undefined;
        const text = await sink.guard(
          { verb: 'get', resource: 'pods', subresource: 'log', namespace, name: pod.metadata.name },
          () =>
            reader.readLog({
              namespace,
              pod: pod.metadata.name,
              container,
              tailLines: options.logTailLines ?? 200,
            }),
          undefined,
        );
        if (!text) return undefined;
        read += 1;
        progress({ phase: 'logs', done: read });
        return { namespace, pod: pod.metadata.name, container, text };
      }),
    ),
  );
  const lines: KubevirtLogLine[] = [];
  const artifacts: Artifact[] = [];
  for (const tail of tails) {
    if (!tail) continue;
    artifacts.push({
      path: `logs/${artifactSegment(tail.namespace)}/${artifactSegment(tail.pod)}/${artifactSegment(tail.container)}.log`,
      content: tail.text.length > 0 ? `${tail.text.join('\n')}\n` : '',
    });
    for (const line of tail.text) {
      const parsed = parseKubevirtLogLine(line);
      if (parsed) lines.push(parsed);
    }
  }
  return { lines, artifacts };
}

function controlPlaneFacts(kubevirt: KubeVirt | undefined, lines: KubevirtLogLine[]): ControlPlaneFacts {
  const errorBursts = groupErrorBursts(lines);
  if (!kubevirt) return { upgrading: false, errorBursts };
  const status = kubevirt.status ?? {};
  const progressing = conditionOf(status.conditions, 'Progressing');
  const degraded = conditionOf(status.conditions, 'Degraded');
  const observed = status.observedKubeVirtVersion;
  const target = status.targetKubeVirtVersion;
  return {
    name: kubevirt.metadata.name,
    upgrading:
      (observed !== undefined && target !== undefined && observed !== target) ||
      progressing?.status === 'True',
    errorBursts,
    ...definedProps({
      namespace: kubevirt.metadata.namespace,
      observedVersion: observed,
      targetVersion: target,
      outdatedWorkloads: status.outdatedVirtualMachineInstanceWorkloads,
      degraded:
        degraded?.status === 'True'
          ? definedProps({ reason: degraded.reason, message: degraded.message })
          : undefined,
    }),
  };
}

async function readPrometheus(
  prometheus: PrometheusGatherer | undefined,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): Promise<PrometheusResult[]> {
  if (!prometheus) return [];
  try {
    const results = await prometheus.gather();
    progress({ phase: 'prometheus', done: results.length });
    return results;
  } catch (error) {
    // Prometheus is a second opinion: the API already gave the counts, so its outage degrades, never fails.
    sink.add(
      'prometheus',
      `Prometheus at ${prometheus.url} failed, counts come from the API alone: ${errorText(error)}`,
    );
    return [];
  }
}
