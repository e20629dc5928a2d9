import type { ClusterReader } from '../../cluster/reader.js';
import type { Pod } from '../../kube/types.js';
import { failureSignature } from '../../launcher/failure-signature.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
  launcherImage,
  launcherNode,
  launcherVmi,
  migrationRole,
} from '../../launcher/launcher-pod.js';
import { increment, sortedCounts } from '../../util/counts.js';
import { definedProps } from '../../util/defined-props.js';
import type { PodExample, PodGroup } from '../analyzers/facts.js';
import { EVENT_CLASSES } from '../event-class.js';
import type { GatherOptions, GatherProgress } from '../gather.js';
import { MessageShapes } from '../message-shape.js';
import type { ErrorSink } from './error-sink.js';
import { type EventAggregate, eventsUnread } from './read-events.js';
import type { MigrationAggregate } from './read-migrations.js';
import type { NodeEntry } from './read-nodes.js';
import { VmiChurn } from './vmi-churn.js';

// Runbook step 1, scope: the Failed launchers counted by namespace, node and reason, and folded as they stream by
// into groups (failure signature x event classes) that the analyzers read.

/** Groups past this many fold into coarser keys, so the number of groups stays bounded whatever the cluster. */
const MAX_GROUPS = 2000;
/** Counted VMIs (and, apart, VMIs seen once) kept for the migration churn ranking; see VmiChurn. */
const MAX_CHURN_VMIS = 4096;

export interface BaseGroup {
  id: number;
  key: string;
  fields: Omit<PodGroup, 'id' | 'count' | 'eventClasses' | 'namespaces' | 'nodes' | 'examples'>;
  examples: Array<PodExample & { key: string; manifest: Pod }>;
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

/**
 * What the join with the events needs of each Failed launcher, and nothing more: its name, its signature group and
 * its node, per namespace in list order. A few dozen bytes a pod (a few MB at 100k pods), where the pods themselves
 * would take gigabytes: the events are read per namespace after the pods (so that the namespaces with the most
 * failures go first and no namespace's noise starves another), and this is what lets each pod meet its events.
 */
export interface NamespaceLaunchers {
  names: string[];
  groups: number[];
  nodes: string[];
}

export interface LauncherAggregate {
  count: number;
  byNamespace: Map<string, number>;
  byNode: Map<string, number>;
  byReason: Map<string, number>;
  vmiChurn: VmiChurn;
  baseGroups: BaseGroup[];
  groupByKey: Map<string, BaseGroup>;
  /** Failed launchers per namespace, for the join with the events (see NamespaceLaunchers). */
  launchers: Map<string, NamespaceLaunchers>;
  /** namespace/name of the sampled pods (the examples of every group), whose events are kept whole. */
  sampled: Set<string>;
  /** Failed launchers listed after their namespace was announced as complete (the list was out of key order). */
  late: Map<string, number>;
  /** When each Failed launcher's last container terminated (ms since the epoch), ascending once read. */
  terminations: number[];
  /** Failed launchers whose termination time the pod does not say. */
  untimed: number;
  /** Pods folded into coarse groups past MAX_GROUPS (their groups carry no message of their own). */
  folded: number;
}

export async function readFailedLaunchers(
  reader: ClusterReader,
  options: GatherOptions,
  nodes: Map<string, NodeEntry>,
  vmims: MigrationAggregate | undefined,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
  join: {
    /** Filled with namespace/name of the sampled pods as they stream by (LauncherAggregate.sampled). */
    sampled?: Set<string>;
    /**
     * Called with each namespace once the list has moved past it: lists come in key order (namespace/name), so its
     * Failed launchers are all known then, and its events can be read while the rest of the pods stream by.
     */
    onNamespaceListed?: (namespace: string, launchers: NamespaceLaunchers) => void;
  } = {},
): Promise<LauncherAggregate> {
  const { onNamespaceListed } = join;
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
    launchers: new Map(),
    sampled: join.sampled ?? new Set(),
    late: new Map(),
    terminations: [],
    untimed: 0,
    folded: 0,
  };
  const labelSelector = options.labelSelector
    ? `${FAILED_LAUNCHER_LABEL_SELECTOR},${options.labelSelector}`
    : FAILED_LAUNCHER_LABEL_SELECTOR;
  const samplesPerGroup = options.samplesPerGroup ?? 3;
  const shapes = new MessageShapes();
  // One string per node, not one per pod: the join keeps a node name for every Failed launcher.
  const nodeNames = new Map<string, string>();
  let listing: string | undefined;
  const listed = new Set<string>();
  const moveTo = (namespace: string | undefined) => {
    if (listing !== undefined && listing !== namespace) {
      listed.add(listing);
      const pods = aggregate.launchers.get(listing);
      if (pods && onNamespaceListed) onNamespaceListed(listing, pods);
    }
    listing = namespace;
  };
  const read = async () => {
    const pods = reader.list<Pod>('pods', {
      labelSelector,
      fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
      readsAll: true,
      ...definedProps({ namespace: options.namespace }),
    });
    for await (const pod of pods) {
      // The server applied both selectors; the name prefix is the half of the definition it cannot check.
      if (!isFailedLauncher(pod)) continue;
      aggregate.count += 1;
      const namespace = pod.metadata.namespace ?? '';
      moveTo(namespace);
      if (listed.has(namespace)) increment(aggregate.late, namespace);
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
          everyContainerFailed: signature.everyContainerFailed,
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
        fields.message === undefined ? undefined : shapes.of(fields.message),
        fields.everyContainerFailed,
      ]);
      const coarse = !aggregate.groupByKey.has(fine) && aggregate.baseGroups.length >= MAX_GROUPS;
      // Past MAX_GROUPS, pods group by what their kind, reason and container say, and the group keeps no message:
      // one pod's message must not stand for pods whose messages differ (the samples keep their own).
      const key = coarse
        ? JSON.stringify([
            fields.kind,
            fields.reason,
            fields.container,
            fields.migrationTarget,
            fields.nodeReady,
          ])
        : fine;
      let group = aggregate.groupByKey.get(key);
      if (!group) {
        const { message: _message, image: _image, exitCode: _exitCode, ...coarseFields } = fields;
        group = {
          id: aggregate.baseGroups.length,
          key,
          fields: coarse ? coarseFields : fields,
          examples: [],
        };
        aggregate.baseGroups.push(group);
        aggregate.groupByKey.set(key, group);
      }
      if (group.key !== fine) aggregate.folded += 1;
      if (group.examples.length < samplesPerGroup) {
        aggregate.sampled.add(`${namespace}/${pod.metadata.name}`);
        group.examples.push({
          namespace,
          name: pod.metadata.name,
          ...definedProps({ node, reason: signature.reason, message: signature.message }),
          key: `${namespace}/${pod.metadata.name}`,
          manifest: pod,
        });
      }
      let inNamespace = aggregate.launchers.get(namespace);
      if (!inNamespace) {
        inNamespace = { names: [], groups: [], nodes: [] };
        aggregate.launchers.set(namespace, inNamespace);
      }
      inNamespace.names.push(pod.metadata.name);
      inNamespace.groups.push(group.id);
      let sharedNodeName = nodeNames.get(nodeName);
      if (sharedNodeName === undefined) {
        sharedNodeName = nodeName;
        nodeNames.set(nodeName, nodeName);
      }
      inNamespace.nodes.push(sharedNodeName);
      const terminated = terminationTime(pod);
      if (terminated === undefined) aggregate.untimed += 1;
      else aggregate.terminations.push(terminated);
      if (aggregate.count % 500 === 0) progress({ phase: 'pods', done: aggregate.count });
    }
    moveTo(undefined);
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

/** When the pod's last container terminated: the moment it became Failed, as near as the pod says. */
export function terminationTime(pod: Pod): number | undefined {
  let latest: number | undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const finished = status.state?.terminated?.finishedAt;
    const time = finished === undefined ? Number.NaN : Date.parse(finished);
    if (Number.isFinite(time) && (latest === undefined || time > latest)) latest = time;
  }
  if (latest !== undefined) return latest;
  // Evicted and rejected pods may have no terminated container: their Ready condition turned False then.
  const ready = pod.status?.conditions?.find((condition) => condition.type === 'Ready');
  const time = ready?.lastTransitionTime === undefined ? Number.NaN : Date.parse(ready.lastTransitionTime);
  return Number.isFinite(time) ? time : undefined;
}

export interface FinalGroups {
  groups: PodGroup[];
  /** Failed launchers whose cause rests on their own status and events. */
  fromOwnEvidence: number;
  /** Failed launchers whose events lay past their namespace's cap and took the classes of pods like them. */
  inferred: number;
}

/**
 * The groups of Failed launchers: each signature group split by the event classes of its pods, with exact node
 * and namespace counts. A pod whose events lay past its namespace's cap is inferred: it goes to one of the event
 * classes read on pods of its signature, in proportion (largest remainder), whole, so that every count is an
 * integer that adds up; a signature none of whose pods had events read stays on its own status alone.
 */
export function finalGroups(launchers: LauncherAggregate, events: EventAggregate): FinalGroups {
  const shares = new Map<string, GroupShare>();
  const unread = new Map<number, Array<{ namespace: string; node: string; key: string }>>();
  const exampleKeys = new Map<string, PodExample>();
  for (const base of launchers.baseGroups) {
    for (const { key, manifest: _manifest, ...example } of base.examples) exampleKeys.set(key, example);
  }
  for (const [namespace, pods] of launchers.launchers) {
    pods.names.forEach((name, index) => {
      const base = launchers.baseGroups[pods.groups[index] ?? -1];
      const node = pods.nodes[index] ?? '<none>';
      if (!base) return;
      const key = `${namespace}/${name}`;
      if (eventsUnread(events, namespace, name)) {
        let pending = unread.get(base.id);
        if (!pending) {
          pending = [];
          unread.set(base.id, pending);
        }
        pending.push({ namespace, node, key });
        return;
      }
      addToShare(
        groupShare(shares, base, events.bitsOf(namespace, name)),
        namespace,
        node,
        exampleKeys.get(key),
      );
    });
  }
  let inferred = 0;
  for (const [baseId, pending] of unread) {
    const base = launchers.baseGroups[baseId];
    if (!base) continue;
    const read = [...shares.values()].filter((candidate) => candidate.base === base && candidate.count > 0);
    if (read.length === 0) {
      const alone = groupShare(shares, base, 0);
      for (const pod of pending) addToShare(alone, pod.namespace, pod.node, exampleKeys.get(pod.key));
      continue;
    }
    inferred += pending.length;
    const split = splitByShares(
      pending.length,
      read.map((candidate) => candidate.count),
    );
    let next = 0;
    read.forEach((target, index) => {
      for (const pod of pending.slice(next, next + (split[index] ?? 0)))
        addToShare(target, pod.namespace, pod.node, exampleKeys.get(pod.key));
      next += split[index] ?? 0;
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
  return {
    groups: groups.sort((a, b) => b.count - a.count).map((group, id) => ({ ...group, id })),
    fromOwnEvidence: launchers.count - inferred,
    inferred,
  };
}

function addToShare(
  share: GroupShare,
  namespace: string,
  node: string,
  example: PodExample | undefined,
): void {
  share.count += 1;
  increment(share.nodes, node);
  increment(share.namespaces, namespace);
  if (example) share.examples.push(example);
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
