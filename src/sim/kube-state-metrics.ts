import type { ContainerStatus, Pod, PodPhase } from '../kube/types.js';

// The pod series of kube-state-metrics v2 (kubernetes/kube-state-metrics internal/store/pod.go), in the text exposition
// format, for the simulator's GET /metrics. Same names, HELP texts (STABLE ones prefixed "[STABLE] "), label names and
// order (namespace, pod, uid first: wrapPodFunc prepends them) and the same rules for when a series exists, so that the
// project's rules and queries are tested against what a real cluster exposes.
//
// The exposition format wants each family's samples in one group, so the pods are read once into compact views (only
// the fields the series need, a few hundred bytes each) and the families are then written view by view through `write`,
// which lets a caller stream the body of a 100,000-pod cluster without building it, from any iterable, generators
// included, and parse each pod only once.

interface ContainerView {
  name: string;
  waitingReason: string | undefined;
  terminatedReason: string | undefined;
  lastTerminatedReason: string | undefined;
  lastTerminatedExitCode: number | undefined;
}

/** What the series need of a pod; `id` is its escaped namespace, pod and uid labels, shared by every series. */
interface PodView {
  id: string;
  phase: PodPhase | undefined;
  statusReasons: string[];
  info: string;
  owners: string[];
  containers: ContainerView[];
  initContainers: ContainerView[];
}

interface Family {
  name: string;
  help: string;
  series(pod: PodView, emit: (labels: string, value: number) => void): void;
}

// kube_pod_status_phase emits the phases in this order (internal/store/pod.go createPodStatusPhaseFamilyGenerator).
const PHASES: readonly PodPhase[] = ['Pending', 'Succeeded', 'Failed', 'Unknown', 'Running'];

// The reasons kube_pod_status_reason reports, one series each (docs/metrics/workload/pod-metrics.md). Other reasons,
// e.g. "Terminated" from graceful node shutdown, are not visible.
export const POD_STATUS_REASONS = [
  'Evicted',
  'NodeAffinity',
  'NodeLost',
  'PreemptionByScheduler',
  'SchedulingGated',
  'Shutdown',
  'TerminationByKubelet',
  'UnexpectedAdmissionError',
] as const;

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPING.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const NEEDS_ESCAPING = /[\\"\n]/;

function label(name: string, value: string): string {
  return `${name}="${escapeLabelValue(value)}"`;
}

// kube-state-metrics' getPodStatusReasonValue: the pod's reason, a condition's reason (DisruptionTarget carries
// PreemptionByScheduler / TerminationByKubelet) or a container's terminated reason.
function statusReasonsOf(pod: Pod): string[] {
  const status = pod.status;
  return POD_STATUS_REASONS.filter(
    (reason) =>
      status?.reason === reason ||
      status?.conditions?.some((condition) => condition.reason === reason) === true ||
      status?.containerStatuses?.some((container) => container.state?.terminated?.reason === reason) === true,
  );
}

// A state that exists with an empty reason still yields a series with reason="" (kube-state-metrics does not skip it).
function containerView(status: ContainerStatus): ContainerView {
  const last = status.lastState?.terminated;
  return {
    name: status.name,
    waitingReason: status.state?.waiting === undefined ? undefined : (status.state.waiting.reason ?? ''),
    terminatedReason:
      status.state?.terminated === undefined ? undefined : (status.state.terminated.reason ?? ''),
    lastTerminatedReason: last === undefined ? undefined : (last.reason ?? ''),
    lastTerminatedExitCode: last?.exitCode,
  };
}

function podView(pod: Pod): PodView {
  const controller = pod.metadata.ownerReferences?.find((owner) => owner.controller === true);
  const owners = pod.metadata.ownerReferences ?? [];
  return {
    id: `${label('namespace', pod.metadata.namespace ?? '')},${label('pod', pod.metadata.name)},${label('uid', pod.metadata.uid ?? '')}`,
    phase: pod.status?.phase,
    statusReasons: statusReasonsOf(pod),
    info: [
      label('host_ip', pod.status?.hostIP ?? ''),
      label('pod_ip', pod.status?.podIP ?? ''),
      label('node', pod.spec.nodeName ?? ''),
      label('created_by_kind', controller?.kind ?? ''),
      label('created_by_name', controller?.name ?? ''),
      label('priority_class', pod.spec.priorityClassName ?? ''),
      label('host_network', String(pod.spec.hostNetwork ?? false)),
    ].join(','),
    owners:
      owners.length === 0
        ? [
            `${label('owner_kind', '<none>')},${label('owner_name', '<none>')},${label('owner_is_controller', '<none>')}`,
          ]
        : owners.map(
            (owner) =>
              `${label('owner_kind', owner.kind)},${label('owner_name', owner.name)},${label('owner_is_controller', String(owner.controller ?? false))}`,
          ),
    containers: (pod.status?.containerStatuses ?? []).map(containerView),
    initContainers: (pod.status?.initContainerStatuses ?? []).map(containerView),
  };
}

function containerReasonFamily(
  name: string,
  help: string,
  statuses: (pod: PodView) => ContainerView[],
  reasonOf: (container: ContainerView) => string | undefined,
): Family {
  return {
    name,
    help,
    series(pod, emit) {
      for (const container of statuses(pod)) {
        const reason = reasonOf(container);
        if (reason !== undefined) emit(`${label('container', container.name)},${label('reason', reason)}`, 1);
      }
    },
  };
}

const containers = (pod: PodView) => pod.containers;
const initContainers = (pod: PodView) => pod.initContainers;
const waitingReason = (container: ContainerView) => container.waitingReason;
const terminatedReason = (container: ContainerView) => container.terminatedReason;
const lastTerminatedReason = (container: ContainerView) => container.lastTerminatedReason;

const FAMILIES: readonly Family[] = [
  {
    name: 'kube_pod_info',
    help: '[STABLE] Information about pod.',
    series(pod, emit) {
      emit(pod.info, 1);
    },
  },
  {
    name: 'kube_pod_owner',
    help: "[STABLE] Information about the Pod's owner.",
    series(pod, emit) {
      for (const owner of pod.owners) emit(owner, 1);
    },
  },
  {
    name: 'kube_pod_status_phase',
    help: '[STABLE] The pods current phase.',
    series(pod, emit) {
      // No series at all while the phase is unset.
      if (pod.phase === undefined) return;
      for (const phase of PHASES) emit(label('phase', phase), phase === pod.phase ? 1 : 0);
    },
  },
  {
    name: 'kube_pod_status_reason',
    help: 'The pod status reasons',
    series(pod, emit) {
      for (const reason of POD_STATUS_REASONS)
        emit(label('reason', reason), pod.statusReasons.includes(reason) ? 1 : 0);
    },
  },
  containerReasonFamily(
    'kube_pod_container_status_waiting_reason',
    '[STABLE] Describes the reason the container is currently in waiting state.',
    containers,
    waitingReason,
  ),
  containerReasonFamily(
    'kube_pod_container_status_terminated_reason',
    'Describes the reason the container is currently in terminated state.',
    containers,
    terminatedReason,
  ),
  containerReasonFamily(
    'kube_pod_container_status_last_terminated_reason',
    'Describes the last reason the container was in terminated state.',
    containers,
    lastTerminatedReason,
  ),
  {
    name: 'kube_pod_container_status_last_terminated_exitcode',
    help: 'Describes the exit code for the last container in terminated state.',
    series(pod, emit) {
      for (const container of pod.containers) {
        if (container.lastTerminatedExitCode !== undefined) {
          emit(label('container', container.name), container.lastTerminatedExitCode);
        }
      }
    },
  },
  containerReasonFamily(
    'kube_pod_init_container_status_waiting_reason',
    'Describes the reason the init container is currently in waiting state.',
    initContainers,
    waitingReason,
  ),
  containerReasonFamily(
    'kube_pod_init_container_status_terminated_reason',
    'Describes the reason the init container is currently in terminated state.',
    initContainers,
    terminatedReason,
  ),
  containerReasonFamily(
    'kube_pod_init_container_status_last_terminated_reason',
    'Describes the last reason the init container was in terminated state.',
    initContainers,
    lastTerminatedReason,
  ),
];

/** The names of the families written, in order. */
export const KUBE_STATE_METRICS_FAMILIES: readonly string[] = FAMILIES.map((family) => family.name);

/**
 * Writes kube-state-metrics' pod series for `pods`: every pod, whatever its kind, since the rules must tell launchers
 * from the rest. `pods` is iterated once.
 */
export function writeKubeStateMetrics(pods: Iterable<Pod>, write: (chunk: string) => void): void {
  const views = Array.from(pods, podView);
  for (const family of FAMILIES) {
    write(`# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n`);
    for (const pod of views) {
      let chunk = '';
      family.series(pod, (labels, value) => {
        chunk += `${family.name}{${pod.id},${labels}} ${value}\n`;
      });
      if (chunk !== '') write(chunk);
    }
  }
}
