import { ConcurrencyLimit } from '../cluster/concurrency-limit.js';
import type { ClusterReader } from '../cluster/reader.js';
import { sortedCounts } from '../util/counts.js';
import { definedProps } from '../util/defined-props.js';
import type { DiagnosisFacts } from './analyzers/facts.js';
import { type Artifact, artifactSegment } from './artifacts.js';
import { ErrorSink } from './gather/error-sink.js';
import { controlPlaneFacts, readComponentLogs, readKubevirt } from './gather/read-control-plane.js';
import { countEventsOnFailedLaunchers, readEvents, sortedEventGroups } from './gather/read-events.js';
import { finalGroups, readFailedLaunchers } from './gather/read-launchers.js';
import { migrationFacts, readMigrations } from './gather/read-migrations.js';
import { readNodes } from './gather/read-nodes.js';
import { readPrometheus } from './gather/read-prometheus.js';
import type { Count, GatherError, Sample } from './types.js';

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

export const EVENT_BUDGET = 5000;

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
