import { ConcurrencyLimit } from '../cluster/concurrency-limit.js';
import type { ClusterReader } from '../cluster/reader.js';
import { sortedCounts } from '../util/counts.js';
import { definedProps } from '../util/defined-props.js';
import { plural } from '../util/plural.js';
import type { DiagnosisFacts } from './analyzers/facts.js';
import { type Artifact, artifactSegment } from './artifacts.js';
import { ErrorSink } from './gather/error-sink.js';
import { controlPlaneFacts, readComponentLogs, readKubevirt } from './gather/read-control-plane.js';
import {
  type EventAggregate,
  eventsUnread,
  sortedEventGroups,
  startReadingEvents,
} from './gather/read-events.js';
import {
  finalGroups,
  type LauncherAggregate,
  type NamespaceLaunchers,
  readFailedLaunchers,
} from './gather/read-launchers.js';
import { migrationFacts, readMigrations } from './gather/read-migrations.js';
import { readNodes } from './gather/read-nodes.js';
import { readPrometheus } from './gather/read-prometheus.js';
import { timelineMarks } from './gather/timeline-marks.js';
import { NODE_EVENTS_NAMESPACE, readNodeReboots } from './node-reboots.js';
import type { Count, GatherError, Sample, TimelineMark } from './types.js';

// The I/O of diagnose: the runbook's Diagnosis steps 1 to 5 as a handful of streamed, server-filtered lists, one
// module per step under gather/. Nodes, migrations and the KubeVirt CR are read first; then the Failed launchers
// are counted as they stream by, each kept only as its name, signature group and node; then the Warning events of
// the namespaces that hold them, most failures first, each namespace bounded by its own cap; then each pod meets
// its events and lands in its final group (signature x event classes).

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
  /** Warning events of Failed launchers read per namespace (default EVENTS_PER_NAMESPACE). */
  eventsPerNamespace?: number;
  /** Requests in flight at once for the per-namespace and per-pod reads. Default 4. */
  concurrency?: number;
  prometheus?: PrometheusGatherer;
  /** What the source could not give whole (OpenedClusterReader.problems), read once the lists are done. */
  sourceProblems?: readonly GatherError[];
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
  /** Failed launchers whose cause rests on their own status and events, and those inferred from pods like them. */
  attribution: { fromOwnEvidence: number; inferred: number };
  /** When each Failed launcher's last container terminated (ms since the epoch), ascending; untimed pods left out. */
  terminations: number[];
  /** Moments that may explain the timeline (an upgrade, nodes NotReady, migration waves). */
  marks: TimelineMark[];
}

/**
 * Warning events of Failed launchers read per namespace (and as many of other pods'), at most: ten pages of 500
 * between them. Past it, a namespace's remaining launchers take the event classes of pods of their signature that
 * were read, and the report counts them as inferred.
 */
export const EVENTS_PER_NAMESPACE = 2500;

/** Reads the cluster for diagnose. Throws only when there is no cluster to read (unreachable, 401, kubeconfig). */
export async function gather(reader: ClusterReader, options: GatherOptions = {}): Promise<GatherResult> {
  const sink = new ErrorSink();
  const progress = options.onProgress ?? (() => {});
  const limit = new ConcurrencyLimit(options.concurrency ?? 4);
  const artifacts: Artifact[] = [];
  const eventsPerNamespace = options.eventsPerNamespace ?? EVENTS_PER_NAMESPACE;

  const prometheusRead = readPrometheus(options.prometheus, sink, progress);
  // What each pod is folded with as it streams by (its node's health, its VMI's migrations) is read first.
  const [nodes, kubevirt, vmims, reboots] = await Promise.all([
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
    sink.guard(
      { verb: 'list', resource: 'events', namespace: NODE_EVENTS_NAMESPACE },
      () => readNodeReboots(reader),
      new Map(),
    ),
  ]);
  // The events of the namespaces that hold Failed launchers. The API lists pods in key order, so a namespace's
  // launchers are all known once the list has moved past it: its events are read then, while the rest of the pods
  // stream by. A snapshot's order is the files', so there they are read once every pod is, most failures first.
  const sampled = new Set<string>();
  const events = startReadingEvents(reader, { sampled, cap: eventsPerNamespace }, limit, sink, progress);
  const indexes = (names: string[]) => new Map(names.map((name, index) => [name, index]));
  const launchers = await readFailedLaunchers(reader, options, nodes, vmims, sink, progress, {
    sampled,
    ...definedProps({
      onNamespaceListed:
        reader.source === 'api'
          ? (namespace: string, pods: NamespaceLaunchers) => events.add(namespace, indexes(pods.names))
          : undefined,
    }),
  });
  for (const [namespace, pods] of [...launchers.launchers].sort(
    ([a, podsA], [b, podsB]) => podsB.names.length - podsA.names.length || a.localeCompare(b),
  )) {
    if (!events.has(namespace)) events.add(namespace, indexes(pods.names));
  }
  const [eventAggregate, componentLogs, prometheus] = await Promise.all([
    events.done(),
    readComponentLogs(reader, options, kubevirt?.metadata.namespace, launchers.byNode, sink, limit, progress),
    prometheusRead,
  ]);

  const { groups, fromOwnEvidence, inferred } = finalGroups(launchers, eventAggregate);
  reportEstimates(sink, launchers, eventAggregate, eventsPerNamespace);
  const migrations = migrationFacts(vmims, launchers.vmiChurn.entries());
  const controlPlane = controlPlaneFacts(kubevirt, componentLogs.lines);
  const eventsOf = (key: string): Sample['events'] => eventAggregate.sampleEvents.get(key) ?? [];
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
      events: sortedEventGroups(eventAggregate.groups),
      migrations,
      nodes: [...nodes.values()].map((node) => ({
        ...node.facts,
        failedLaunchers: launchers.byNode.get(node.facts.name) ?? 0,
        ...definedProps({ rebooted: reboots.get(node.facts.name) }),
      })),
      controlPlane,
    },
    byNamespace: sortedCounts(launchers.byNamespace),
    byNode: sortedCounts(launchers.byNode),
    byReason: sortedCounts(launchers.byReason),
    attribution: { fromOwnEvidence, inferred },
    terminations: launchers.terminations.sort((a, b) => a - b),
    marks: timelineMarks(kubevirt, nodes, vmims),
    samples,
    gatherErrors: [...(options.sourceProblems ?? []), ...sink.errors],
    artifacts,
  };
}

/** Says where the report rests on estimates: namespaces cut at their event cap, groups folded past their bound. */
function reportEstimates(
  sink: ErrorSink,
  launchers: LauncherAggregate,
  events: EventAggregate,
  eventsPerNamespace: number,
): void {
  for (const [namespace, pods] of launchers.launchers) {
    if (!events.cutoffs.has(namespace)) continue;
    const past = pods.names.filter((name) => eventsUnread(events, namespace, name)).length;
    sink.add(
      'events-capped',
      `namespace ${namespace} holds more Warning events than the cap of ${eventsPerNamespace} per namespace: ` +
        `the events of ${plural(past, 'Failed launcher')} were not read, and their causes are inferred from pods ` +
        'with the same failure signature (raise --max-events-per-namespace to read more)',
    );
  }
  for (const [namespace, late] of launchers.late) {
    sink.add(
      'pods-out-of-order',
      `the pod list was not in key order: ${plural(late, 'Failed launcher')} of namespace ${namespace} came after ` +
        "the namespace's events were read, and their causes rest on their status alone",
    );
  }
  if (launchers.folded > 0) {
    sink.add(
      'groups-folded',
      `more distinct failure signatures than can be kept apart: ${plural(launchers.folded, 'Failed launcher')} ` +
        'are grouped by kind, reason and container only, and such groups carry no message of their own (the samples keep theirs)',
    );
  }
}
