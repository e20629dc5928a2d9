import type { ContainerStatus, Pod } from '../kube/types.js';
import { definedProps } from '../util/defined-props.js';

// Why a virt-launcher pod ended in phase Failed. Launchers run with restartPolicy Never, so the first container
// failure is final (template.go); the pod-level status.reason, when the kubelet set one, names the mechanism
// (eviction, admission rejection, node shutdown) more precisely than any container.

export type FailureKind =
  /** Kubelet eviction under node pressure: status.reason Evicted (kubelet eviction_manager.go). */
  | 'evicted'
  /** Preempted to admit a critical pod (status.reason Preempting) or by the scheduler (DisruptionTarget condition). */
  | 'preempted'
  /** Kubelet admission rejected the pod: OutOfcpu/OutOfmemory/UnexpectedAdmissionError (kubelet lifecycle/predicate.go). */
  | 'admission-rejected'
  /** "Predicate NodeAffinity failed" after a kubelet restart (kubevirt issues #11662, #11843). */
  | 'node-affinity'
  /** Graceful node shutdown: reason Terminated, older Shutdown/NodeShutdown (kubelet nodeshutdown_manager_linux.go). */
  | 'node-shutdown'
  /** The node controller gave up on the node: reason NodeLost. */
  | 'node-lost'
  /** A container was OOM-killed (terminated reason OOMKilled; exit code 137 alone is any SIGKILL). */
  | 'oom-killed'
  /** The image of a container could not be pulled (ErrImagePull, ImagePullBackOff, InvalidImageName...). */
  | 'image'
  /** The runtime could not create or start a container (StartError, ContainerCannotRun, CreateContainerError). */
  | 'container-start'
  /** A container exited non-zero. */
  | 'container-error'
  /** activeDeadlineSeconds passed (status.reason DeadlineExceeded). */
  | 'deadline'
  /** Failed with no reason and no failed container, or ContainerStatusUnknown: the kubelet's record was lost. */
  | 'unknown';

export interface FailureSignature {
  kind: FailureKind;
  /** status.reason, else the terminated/waiting reason of the container that ended the pod, else "Unknown". */
  reason: string;
  message?: string;
  /** The container that ended the pod, when a container did. */
  container?: string;
  initContainer: boolean;
  exitCode?: number;
  /** The resource named by an eviction or an admission rejection (memory, ephemeral-storage, cpu, a device...). */
  resource?: string;
  /** The image of the container that ended the pod (the registry and tag an image remediation names). */
  image?: string;
  /**
   * Every container of the pod (two or more) terminated in failure and no pod-level reason says why: what a node
   * that lost power or rebooted leaves behind. A crash ends one container; the others exit 0 after it. Only set
   * when true, so that groups of ordinary failures keep their shape.
   */
  everyContainerFailed?: true;
}

/** Kubelet's image pull and image name reasons (pkg/kubelet/images/types.go). */
const IMAGE_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'ImageInspectError',
  'RegistryUnavailable',
  'SignatureValidationFailed',
]);

/** Container runtime start failures (kubelet kuberuntime_container.go, dockershim's ContainerCannotRun). */
const START_REASONS = new Set([
  'StartError',
  'ContainerCannotRun',
  'CreateContainerError',
  'CreateContainerConfigError',
  'RunContainerError',
]);

const NODE_SHUTDOWN_REASONS = new Set(['Terminated', 'Shutdown', 'NodeShutdown']);

export function failureSignature(pod: Pod): FailureSignature {
  const status = pod.status ?? {};
  const podReason = status.reason;
  const podMessage = status.message || undefined;
  const ended = endingContainer(pod);
  const base: FailureSignature = {
    kind: 'unknown',
    reason: podReason || ended?.reason || 'Unknown',
    initContainer: ended?.init ?? false,
    ...definedProps({
      message: podMessage ?? ended?.message,
      container: ended?.status.name,
      exitCode: ended?.exitCode,
      image: ended ? imageOf(pod, ended.status) : undefined,
    }),
  };
  const podKind = podReason ? kindOfPodReason(podReason, podMessage) : undefined;
  if (podKind) {
    const resource = resourceOf(podKind, podReason ?? '', podMessage ?? '');
    return { ...base, kind: podKind, ...definedProps({ resource }) };
  }
  if (isPreemptedByCondition(pod)) return { ...base, kind: 'preempted' };
  if (!ended) return base;
  const everyContainerFailed = !podReason && !ended.init && allContainersFailed(pod);
  return {
    ...base,
    kind: kindOfContainerEnd(ended),
    ...(everyContainerFailed ? { everyContainerFailed } : {}),
  };
}

/**
 * Whether all of the pod's main containers (two or more) terminated non-zero. A vanished host leaves them so:
 * containerd restores each as exit 255 "Unknown" (cri helpers.go unknownExitCode/unknownExitReason), the kubelet
 * writes ContainerStatusUnknown (137) for those the runtime no longer knows, or each reads Error 255/137.
 */
function allContainersFailed(pod: Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return (
    statuses.length >= 2 &&
    statuses.every((status) => {
      const terminated = status.state?.terminated;
      return terminated !== undefined && terminated.exitCode !== 0 && terminated.reason !== 'OOMKilled';
    })
  );
}

function kindOfPodReason(reason: string, message: string | undefined): FailureKind | undefined {
  if (reason === 'Evicted') return 'evicted';
  if (reason === 'Preempting' || reason === 'PreemptionByScheduler') return 'preempted';
  if (reason === 'NodeAffinity') return 'node-affinity';
  if (NODE_SHUTDOWN_REASONS.has(reason)) return 'node-shutdown';
  if (reason === 'NodeLost') return 'node-lost';
  if (reason === 'DeadlineExceeded') return 'deadline';
  // Kubelet admission failures are `OutOf<resource>` or UnexpectedAdmissionError, each with "Pod was rejected"
  // or "Allocate failed" wording (pkg/kubelet/lifecycle/predicate.go, cm/devicemanager).
  if (reason.startsWith('OutOf') || reason === 'UnexpectedAdmissionError') return 'admission-rejected';
  if (message?.startsWith('Pod was rejected')) return 'admission-rejected';
  return undefined;
}

function resourceOf(kind: FailureKind, reason: string, message: string): string | undefined {
  if (kind === 'evicted') {
    // "The node was low on resource: ephemeral-storage. ..." (kubelet eviction/helpers.go nodeLowMessageFmt)
    return /low on resource: ([\w./-]+?)\.?(?:\s|$)/.exec(message)?.[1];
  }
  if (kind === 'admission-rejected') {
    if (reason.startsWith('OutOf')) return reason.slice('OutOf'.length);
    // "Allocate failed due to can't allocate unhealthy devices devices.kubevirt.io/kvm, which is unexpected"
    return /devices ([\w./-]+\/[\w.-]+)/.exec(message)?.[1];
  }
  return undefined;
}

function isPreemptedByCondition(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some(
    (condition) =>
      condition.type === 'DisruptionTarget' &&
      condition.status === 'True' &&
      condition.reason === 'PreemptionByScheduler',
  );
}

interface EndingContainer {
  status: ContainerStatus;
  init: boolean;
  reason: string;
  message?: string;
  exitCode?: number;
  finishedAt?: string;
  waiting: boolean;
}

/**
 * The container whose end made the pod Failed: a failed init container first (the pod never got further), then
 * the main container that terminated non-zero first (the others were killed after it), preferring `compute` on
 * a tie; a container stuck waiting on its image when none terminated.
 */
function endingContainer(pod: Pod): EndingContainer | undefined {
  const init = (pod.status?.initContainerStatuses ?? []).map((status) => endOf(status, true));
  const failedInit = init.find((end) => end !== undefined && (end.waiting || (end.exitCode ?? 0) !== 0));
  if (failedInit) return failedInit;
  const main = (pod.status?.containerStatuses ?? [])
    .map((status) => endOf(status, false))
    .filter((end): end is EndingContainer => end !== undefined);
  const terminatedNonZero = main.filter((end) => !end.waiting && (end.exitCode ?? 0) !== 0);
  const candidates = terminatedNonZero.length > 0 ? terminatedNonZero : main.filter((end) => end.waiting);
  return candidates.sort(compareEnds)[0];
}

function compareEnds(a: EndingContainer, b: EndingContainer): number {
  const byTime = (a.finishedAt ?? '\uffff').localeCompare(b.finishedAt ?? '\uffff');
  if (byTime !== 0) return byTime;
  return Number(b.status.name === 'compute') - Number(a.status.name === 'compute');
}

function endOf(status: ContainerStatus, init: boolean): EndingContainer | undefined {
  const terminated = status.state?.terminated ?? status.lastState?.terminated;
  if (terminated) {
    return {
      status,
      init,
      waiting: false,
      reason: terminated.reason || (terminated.exitCode === 0 ? 'Completed' : 'Error'),
      exitCode: terminated.exitCode,
      ...definedProps({ message: terminated.message || undefined, finishedAt: terminated.finishedAt }),
    };
  }
  const waiting = status.state?.waiting;
  if (waiting?.reason && (IMAGE_REASONS.has(waiting.reason) || START_REASONS.has(waiting.reason))) {
    return {
      status,
      init,
      waiting: true,
      reason: waiting.reason,
      ...definedProps({ message: waiting.message }),
    };
  }
  return undefined;
}

function kindOfContainerEnd(end: EndingContainer): FailureKind {
  if (IMAGE_REASONS.has(end.reason)) return 'image';
  // The kubelet writes ContainerStatusUnknown (exit 137) when it never saw the container end, e.g. its node
  // vanished (kubelet status_manager.go): the 137 is made up, not a kill, so it says nothing about memory.
  if (end.reason === 'ContainerStatusUnknown') return 'unknown';
  if (end.reason === 'OOMKilled') return 'oom-killed';
  if (START_REASONS.has(end.reason)) return 'container-start';
  return 'container-error';
}

function imageOf(pod: Pod, status: ContainerStatus): string | undefined {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  return containers.find((container) => container.name === status.name)?.image ?? status.image;
}
