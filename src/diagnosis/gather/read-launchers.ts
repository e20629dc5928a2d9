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
import { messageShape } from '../message-shape.js';
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
export interface GroupShare {
  base: BaseGroup;
  bits: number;
  count: number;
  nodes: Map<string, number>;
  namespaces: Map<string, number>;
  examples: PodExample[];
}

/** The pods of one signature group whose events lay past the event budget, shared out at the end. */
export interface UnreadShare {
  count: number;
  nodes: Map<string, number>;
  namespaces: Map<string, number>;
}

export interface LauncherAggregate {
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

export async function readFailedLaunchers(
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

export function groupShare(shares: Map<string, GroupShare>, base: BaseGroup, bits: number): GroupShare {
  const key = `${base.id}:${bits}`;
  let share = shares.get(key);
  if (!share) {
    share = { base, bits, count: 0, nodes: new Map(), namespaces: new Map(), examples: [] };
    shares.set(key, share);
  }
  return share;
}
/**
 * The groups of Failed launchers: each signature group split by the event classes of its pods, with exact node
 * and namespace counts. Pods whose events lay past the budget are shared out like the pods of their signature
 * group whose events were read (largest remainder, so the counts stay exact).
 */
export function finalGroups(launchers: LauncherAggregate): PodGroup[] {
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
