// init-container: the launchers' init containers cannot start. A launcher with a containerDisk first runs
// `container-disk-binary` (the virt-launcher image copies /usr/bin/container-disk into the virt-bin-share-dir
// emptyDir) and then `volume<name>-init` (the containerDisk image, running that binary with --no-op) (template.go,
// pkg/container-disk). The pod has restartPolicy Never, so an init container that terminates non-zero fails it, and
// kubectl shows STATUS `Init:<reason>` (printers.go printPod; kubevirt#6637 shows `Init:ContainerCannotRun`).
//
// The story: the container runtime's image store on the nodes is damaged (a disk that filled up mid-pull): layers
// of the images are gone, and on the nodes whose disk is still full the runtime cannot even mount the pod's volumes.
// Each launcher fails in one of the three ways the runtimes word it:
// - CRI-O, at CreateContainer: the kubelet reports the waiting reason CreateContainerError with the runtime's error
//   (containers/storage: `error creating read-write layer with ID "<id>": layer not known`);
// - containerd, at StartContainer: terminated, reason StartError, exit code 128 ("128 is the same with Docker's
//   behavior", cri server helpers.go errorStartReason/errorStartExitCode) with runc's error for a binary the
//   damaged image no longer holds (`exec: "/usr/bin/cp": stat /usr/bin/cp: no such file or directory`, the shape
//   of kubevirt#17460);
// - cri-dockerd, at StartContainer: terminated, reason ContainerCannotRun, with Docker's error for a volume it
//   cannot mount into the container's rootfs (runc's `error mounting "<src>" to rootfs at "<dst>"`, here with
//   `no space left on device`).
// A real cluster runs one runtime; the scenario mixes the three wordings so that every one is exercised.
// Simulation licence: the kubelet retries a CreateContainerError, so such a pod stays Pending until something else
// ends it; these launchers are shown Failed with the init container's last waiting state, as image-pull does.

import type { ContainerState } from '../../kube/types.js';
import { podReference, secondsAfter, secondsBefore, terminated, type VmIdentity } from '../objects.js';
import type { ClusterBuilder, FailureSlot } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

export const VOLUME_INIT_CONTAINER = 'volumecontainerdisk-init';
export const BINARY_INIT_CONTAINER = 'container-disk-binary';

/** Shares of the three wordings: the two image problems first, so `image` ranks first. */
export const INIT_CONTAINER_SHARES = {
  createContainerError: 0.45,
  startError: 0.35,
  cannotRun: 0.2,
} as const;

/** containers/storage's ErrLayerUnknown, as CRI-O returns it from CreateContainer. */
export function layerNotKnownMessage(layerId: string): string {
  return `error creating read-write layer with ID "${layerId}": layer not known`;
}

/** containerd's StartContainer error around runc's exec failure (the `: unknown` is the gRPC code runc reports). */
export const START_ERROR_MESSAGE =
  'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: ' +
  'unable to start container process: error during container init: exec: "/usr/bin/cp": stat /usr/bin/cp: ' +
  'no such file or directory: unknown';

/** Docker's error (State.Error, which cri-dockerd reports as ContainerCannotRun) for a volume it cannot mount. */
export function cannotRunMessage(podUid: string, vmiUid: string, layerId: string): string {
  return (
    'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create ' +
    'failed: unable to start container process: error during container init: error mounting ' +
    `"/var/lib/kubelet/pods/${podUid}/volumes/kubernetes.io~empty-dir/container-disks" to rootfs at ` +
    `"/var/run/kubevirt-ephemeral-disks/container-disk-data/${vmiUid}": mkdir ` +
    `/var/lib/docker/overlay2/${layerId}/merged/var/run/kubevirt-ephemeral-disks: no space left on device: unknown`
  );
}

type Wording = keyof typeof INIT_CONTAINER_SHARES;

interface InitFailure {
  container: string;
  /** The failed init container's state, and the init containers' states that ran before it. */
  states(slot: FailureSlot, vm: VmIdentity, podUid: string): Record<string, ContainerState>;
  /** The kubelet's Warning event for it (kuberuntime_container.go startContainer: "Error: <err>"). */
  eventMessage(state: ContainerState): string;
}

function completedBinary(slot: FailureSlot): ContainerState {
  return terminated(0, 'Completed', secondsBefore(slot.failedAt, 3), secondsBefore(slot.failedAt, 2));
}

function failureOf(wording: Wording, builder: ClusterBuilder): InitFailure {
  const { random } = builder;
  if (wording === 'createContainerError') {
    return {
      container: VOLUME_INIT_CONTAINER,
      states: (slot) => ({
        [BINARY_INIT_CONTAINER]: completedBinary(slot),
        [VOLUME_INIT_CONTAINER]: {
          waiting: { reason: 'CreateContainerError', message: layerNotKnownMessage(random.hex(64)) },
        },
      }),
      eventMessage: (state) => `Error: ${state.waiting?.message ?? ''}`,
    };
  }
  if (wording === 'startError') {
    return {
      container: BINARY_INIT_CONTAINER,
      states: (slot) => ({
        [BINARY_INIT_CONTAINER]: terminated(
          128,
          'StartError',
          new Date(0),
          slot.failedAt,
          START_ERROR_MESSAGE,
        ),
        // Init containers run in order: the next one never started.
        [VOLUME_INIT_CONTAINER]: { waiting: { reason: 'PodInitializing' } },
      }),
      eventMessage: () => `Error: ${START_ERROR_MESSAGE}`,
    };
  }
  return {
    container: VOLUME_INIT_CONTAINER,
    states: (slot, vm, podUid) => ({
      [BINARY_INIT_CONTAINER]: completedBinary(slot),
      [VOLUME_INIT_CONTAINER]: terminated(
        128,
        'ContainerCannotRun',
        slot.failedAt,
        slot.failedAt,
        cannotRunMessage(podUid, vm.vmiUid, random.hex(64)),
      ),
    }),
    eventMessage: (state) => `Error: ${state.terminated?.message ?? ''}`,
  };
}

function initFailures(wording: Wording, category: FailureKind['category']): FailureKind {
  return {
    category,
    prepare() {
      // Nothing cluster-wide: the damaged image store shows only in the pods' init containers and events.
    },
    layDown(builder, count) {
      const { random } = builder;
      const failure = failureOf(wording, builder);
      for (const slot of builder.slots(count)) {
        const livedSeconds = random.int(8, 40);
        let failed: ContainerState = {};
        const { pod } = layDownFailedVm(builder, {
          slot,
          disk: 'containerDisk',
          livedSeconds,
          outcome: (vm, podUid) => {
            const initContainerStates = failure.states(slot, vm, podUid);
            failed = initContainerStates[failure.container] ?? {};
            return { phase: 'Failed', notInitialized: true, initContainerStates };
          },
          printableStatus: 'CrashLoopBackOff',
        });
        builder.event({
          involved: podReference(pod, `spec.initContainers{${failure.container}}`),
          reason: 'Failed',
          message: failure.eventMessage(failed),
          type: 'Warning',
          count: 1,
          first: secondsAfter(secondsBefore(slot.failedAt, livedSeconds), 4),
          last: slot.failedAt,
          component: 'kubelet',
          host: slot.node.name,
        });
      }
    },
  };
}

export const createContainerErrorFailures = initFailures('createContainerError', 'image');
export const startErrorFailures = initFailures('startError', 'image');
export const cannotRunFailures = initFailures('cannotRun', 'storage');

export const initContainerScenario = defineScenario({
  name: 'init-container',
  summary:
    "Launchers' init containers cannot start (damaged image store): CreateContainerError, StartError, ContainerCannotRun",
  expectedTopCause: 'image',
  causes: [
    { kind: createContainerErrorFailures, share: INIT_CONTAINER_SHARES.createContainerError },
    { kind: startErrorFailures, share: INIT_CONTAINER_SHARES.startError },
    { kind: cannotRunFailures, share: INIT_CONTAINER_SHARES.cannotRun },
  ],
});
