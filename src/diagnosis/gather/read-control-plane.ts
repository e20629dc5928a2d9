import type { ConcurrencyLimit } from '../../cluster/concurrency-limit.js';
import type { ClusterReader } from '../../cluster/reader.js';
import type { KubeVirt, Pod } from '../../kube/types.js';
import { definedProps } from '../../util/defined-props.js';
import type { ControlPlaneFacts } from '../analyzers/facts.js';
import { type Artifact, artifactSegment } from '../artifacts.js';
import type { GatherOptions, GatherProgress } from '../gather.js';
import { groupErrorBursts, type KubevirtLogLine, parseKubevirtLogLine } from '../log-lines.js';
import type { ErrorSink } from './error-sink.js';
import { conditionOf } from './read-nodes.js';

// Runbook step 4, the control plane: the KubeVirt CR (versions, conditions) and the virt-controller and
// virt-handler log tails, parsed and ranked into error bursts.

const COMPONENT_SELECTOR = 'kubevirt.io in (virt-controller,virt-handler)';

export async function readKubevirt(
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

interface ComponentLogs {
  lines: KubevirtLogLine[];
  artifacts: Artifact[];
}

export async function readComponentLogs(
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

export function controlPlaneFacts(
  kubevirt: KubeVirt | undefined,
  lines: KubevirtLogLine[],
): ControlPlaneFacts {
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
