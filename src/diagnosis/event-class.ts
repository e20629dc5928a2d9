import type { Event } from '../kube/types.js';

// Which failure mechanism a Warning event speaks of. Reasons are the kubelet's and the controllers' own constants;
// messages are matched only where the reason is generic ("Failed", "BackOff"), with the wording the OpenShift
// runbook greps for (image: 'Failed to pull|ErrImagePull|ImagePullBackOff|unauthorized|pull image'; network:
// 'CNI|FailedCreatePodSandBox|network plugin'; storage: 'mount|attach|volume|FailedMount|FailedAttach').

export const EVENT_CLASSES = [
  'image-pull',
  'sandbox-network',
  'volume',
  'eviction',
  'oom',
  'admission',
  'node',
  'migration',
  'other',
] as const;

export type EventClass = (typeof EVENT_CLASSES)[number];

/** kubelet events.go: FailedToPullImage = "Failed", BackOffPullImage = "BackOff", ErrImageNeverPull... */
const IMAGE_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'InspectFailed',
]);
const NETWORK_REASONS = new Set(['FailedCreatePodSandBox', 'NetworkNotReady', 'FailedKillPod', 'NoAddress']);
const VOLUME_REASONS = new Set([
  'FailedMount',
  'FailedAttachVolume',
  'FailedMapVolume',
  'FailedUnMount',
  'VolumeFailedDelete',
  'FailedBinding',
  'ProvisioningFailed',
  'FailedPvcNotFound',
]);
const EVICTION_REASONS = new Set(['Evicted', 'EvictionThresholdMet', 'Preempting', 'Preempted']);
const OOM_REASONS = new Set(['OOMKilling', 'OOMKilled', 'SystemOOM']);
const ADMISSION_REASONS = new Set(['UnexpectedAdmissionError', 'OutOfcpu', 'OutOfmemory', 'OutOfpods']);
const NODE_REASONS = new Set([
  'NodeNotReady',
  'NodeAffinity',
  'Shutdown',
  'NodeShutdown',
  'Rebooted',
  'NodeLost',
  'TaintManagerEviction',
  'NodeNotSchedulable',
]);
const MIGRATION_REASONS = new Set([
  'FailedMigration',
  'MigrationBackoff',
  'migrationTargetPodUnschedulable',
  'FailedAbortMigration',
]);

export function classifyEvent(event: Pick<Event, 'reason' | 'message'>): EventClass {
  const reason = event.reason ?? '';
  const message = event.message ?? '';
  if (IMAGE_REASONS.has(reason)) return 'image-pull';
  if (NETWORK_REASONS.has(reason)) return 'sandbox-network';
  if (VOLUME_REASONS.has(reason)) return 'volume';
  if (EVICTION_REASONS.has(reason)) return 'eviction';
  if (OOM_REASONS.has(reason)) return 'oom';
  if (ADMISSION_REASONS.has(reason)) return 'admission';
  if (NODE_REASONS.has(reason)) return 'node';
  if (MIGRATION_REASONS.has(reason)) return 'migration';
  // Generic reasons ("Failed", "BackOff", "FailedSync") carry the mechanism in their message.
  if (/pull(ing)? image|ErrImagePull|ImagePullBackOff|manifest unknown|pull access denied/i.test(message)) {
    return 'image-pull';
  }
  if (/pod sandbox|\bCNI\b|network plugin|failed to setup network|networkPlugin/i.test(message)) {
    return 'sandbox-network';
  }
  if (/MountVolume|AttachVolume|unmounted volumes|Multi-Attach|failed to (mount|attach)/i.test(message)) {
    return 'volume';
  }
  return 'other';
}
