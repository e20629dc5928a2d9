import type { Pod } from '../kube/types.js';

// What makes a pod a virt-launcher pod, and the facts about it that every analyzer reads. KubeVirt's pod template
// (pkg/virt-controller/services/template.go) names launchers `virt-launcher-<vmi>-<5 chars>` and labels them
// `kubevirt.io=virt-launcher`; the migration controller (pkg/virt-controller/watch/migration/migration.go) adds
// `kubevirt.io/migrationJobUID` to target pods.

export const LAUNCHER_LABEL = 'kubevirt.io';
export const LAUNCHER_LABEL_VALUE = 'virt-launcher';
export const LAUNCHER_NAME_PREFIX = 'virt-launcher-';
export const MIGRATION_JOB_UID_LABEL = 'kubevirt.io/migrationJobUID';
export const MIGRATION_JOB_NAME_ANNOTATION = 'kubevirt.io/migrationJobName';
export const NODE_NAME_LABEL = 'kubevirt.io/nodeName';
export const CREATED_BY_LABEL = 'kubevirt.io/created-by';

/** The server-side selectors that narrow a pod list to Failed launchers (DESIGN §4, the runbook's kubectl). */
export const FAILED_LAUNCHER_LABEL_SELECTOR = `${LAUNCHER_LABEL}=${LAUNCHER_LABEL_VALUE}`;
export const FAILED_LAUNCHER_FIELD_SELECTOR = 'status.phase=Failed';

/**
 * A virt-launcher pod carries the label AND the name prefix: the runbook's kubectl selects by label and its PromQL
 * by name, so a pod must pass both to count (DESIGN §4); a user's pod merely named like a launcher does not.
 */
export function isVirtLauncher(pod: Pod): boolean {
  return (
    pod.metadata.labels?.[LAUNCHER_LABEL] === LAUNCHER_LABEL_VALUE &&
    pod.metadata.name.startsWith(LAUNCHER_NAME_PREFIX)
  );
}

export function isFailedLauncher(pod: Pod): boolean {
  return isVirtLauncher(pod) && pod.status?.phase === 'Failed';
}

export interface VmiRef {
  namespace: string;
  name: string;
  uid?: string;
}

/**
 * The VMI that owns the launcher: its one controller ownerReference. Falls back to the name KubeVirt puts in the
 * `kubevirt.io/domain` annotation when the ownerReference was stripped (e.g. by an export tool).
 */
export function launcherVmi(pod: Pod): VmiRef | undefined {
  const namespace = pod.metadata.namespace ?? '';
  const owner = pod.metadata.ownerReferences?.find(
    (reference) => reference.kind === 'VirtualMachineInstance' && reference.controller !== false,
  );
  if (owner) return { namespace, name: owner.name, uid: owner.uid };
  const domain = pod.metadata.annotations?.['kubevirt.io/domain'];
  if (domain) return { namespace, name: domain };
  return undefined;
}

export type MigrationRole = 'target' | 'none';

/** Migration target pods carry the vmim's UID as a label; any other launcher is a source or a plain start. */
export function migrationRole(pod: Pod): MigrationRole {
  return pod.metadata.labels?.[MIGRATION_JOB_UID_LABEL] ? 'target' : 'none';
}

export function migrationJobUid(pod: Pod): string | undefined {
  return pod.metadata.labels?.[MIGRATION_JOB_UID_LABEL];
}

/** The node the pod ran on; KubeVirt's `kubevirt.io/nodeName` label when the pod was never bound. */
export function launcherNode(pod: Pod): string | undefined {
  return pod.spec.nodeName || pod.metadata.labels?.[NODE_NAME_LABEL] || undefined;
}

/** The virt-launcher image of the compute container: its tag is the KubeVirt version that created the pod. */
export function launcherImage(pod: Pod): string | undefined {
  return pod.spec.containers.find((container) => container.name === 'compute')?.image;
}

/**
 * When the pod ended, in ms since the epoch: the last of its containers' terminations (init containers included),
 * else its creation time (a pod rejected at admission never ran a container). Undefined when neither is readable.
 */
export function launcherEndedAt(pod: Pod): number | undefined {
  let ended: number | undefined;
  for (const status of [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ]) {
    const finishedAt = (status.state?.terminated ?? status.lastState?.terminated)?.finishedAt;
    const time = finishedAt === undefined ? Number.NaN : Date.parse(finishedAt);
    if (!Number.isNaN(time) && (ended === undefined || time > ended)) ended = time;
  }
  if (ended !== undefined) return ended;
  const created = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(created) ? undefined : created;
}

/**
 * A key naming the launcher's VMI within its namespace, to group the launchers of one VMI: the controller
 * ownerReference's uid, else the `kubevirt.io/created-by` label (the VMI's uid too), else the domain name.
 */
export function launcherVmiKey(pod: Pod): string | undefined {
  const vmi = launcherVmi(pod);
  const id = vmi?.uid ?? pod.metadata.labels?.[CREATED_BY_LABEL] ?? vmi?.name;
  return id === undefined ? undefined : `${pod.metadata.namespace ?? ''}/${id}`;
}
