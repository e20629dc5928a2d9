import type { CauseCategory } from '../types.js';
import type { PodGroup } from './facts.js';

// A launcher's init container that the runtime cannot create or start (kind container-start): `container-disk-binary`
// (the virt-launcher image, copying the container-disk binary) or `volume<name>-init` (the containerDisk image)
// (kubevirt template.go). The reason only says which CRI call failed: CreateContainerError (kubelet
// kuberuntime_container.go, the runtime's error as message; CRI-O runs runc at create), StartError with exit 128
// (containerd, cri helpers.go errorStartReason), ContainerCannotRun (cri-dockerd, Docker's State.Error). The
// runtime's message says what went wrong, and decides the cause:
// - image: the image's content is missing or unusable: a layer or snapshot the store lost (containers/storage
//   "layer not known", containerd "failed to extract layer ... not found"), or no runnable entrypoint in it (runc
//   `exec: "<path>": stat <path>: no such file or directory`, `executable file not found in $PATH`, `exec format
//   error` for an image of another architecture; kubevirt#17460, #6637);
// - storage: the runtime cannot mount the pod's volumes into the container (runc `error mounting "<src>" to rootfs
//   at "<dst>"`, a full or read-only disk, I/O errors);
// - resources: the container was OOM-killed while it started (runc "container init was OOM-killed (memory limit too
//   low?)"; the containerDisk containers have a 40M limit, kubevirt#2603, PR #2687).
// Anything else stays unexplained: the unknown cause shows the reason and the message.

const PROBLEMS: Array<{ category: CauseCategory; pattern: RegExp }> = [
  { category: 'resources', pattern: /OOM-killed|out of memory|memory limit too low/i },
  {
    category: 'storage',
    pattern:
      /error mounting|failed to mount|no space left on device|read-only file system|input\/output error/i,
  },
  {
    category: 'image',
    pattern:
      /\blayer\b|snapshot|unpack|manifest|\bimage\b|exec format error|executable file not found|exec: "[^"]+": stat [^:]+: no such file or directory/i,
  },
];

/** Which cause an init container's start failure points at, or undefined when its message says nothing known. */
export function initStartProblem(
  group: Pick<PodGroup, 'kind' | 'initContainer' | 'message'>,
): CauseCategory | undefined {
  if (group.kind !== 'container-start' || !group.initContainer || !group.message) return undefined;
  return PROBLEMS.find((problem) => problem.pattern.test(group.message ?? ''))?.category;
}

/** "volumecontainerdisk-init (CreateContainerError: layer not known)" for a summary. */
export function initFailureLabel(group: Pick<PodGroup, 'container' | 'reason' | 'message'>): string {
  const tail =
    group.message?.split(': ').at(-1) === 'unknown'
      ? group.message.split(': ').at(-2)
      : group.message?.split(': ').at(-1);
  return `${group.container ?? 'an init container'} (${group.reason}${tail ? `: ${tail}` : ''})`;
}
