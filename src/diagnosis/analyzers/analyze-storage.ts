import {
  type Analyzer,
  captures,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  messagesOf,
  podEvidence,
  topNodes,
} from './analyzer.js';
import { cleanupRemediation } from './cleanup-remediation.js';
import type { PodGroup } from './facts.js';
import { initFailureLabel, initStartProblem } from './init-start-problem.js';

// Volumes: the kubelet and the attach/detach controller report FailedMount ("MountVolume.SetUp failed for volume
// "pvc-...": ...", "Unable to attach or mount volumes: unmounted volumes=[...]") and FailedAttachVolume
// ("AttachVolume.Attach failed for volume ...", "Multi-Attach error for volume ...") (kubelet volumemanager,
// pkg/volume/util/operationexecutor). An init container the runtime cannot start because it cannot mount the pod's
// volumes into it (runc "error mounting ... to rootfs", a full disk) is a storage problem too (init-start-problem.ts).

const VOLUME_MESSAGE = /MountVolume|AttachVolume|unmounted volumes|Multi-Attach|failed to (mount|attach)/i;

export const analyzeStorage: Analyzer = (facts) => {
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence = group.eventClasses.includes('volume')
      ? 0.85
      : initStartProblem(group) === 'storage'
        ? 0.85
        : group.message && VOLUME_MESSAGE.test(group.message) && group.kind !== 'evicted'
          ? 0.75
          : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const events = eventGroupsOf(facts, ['volume']);
  const texts = messagesOf(claimed, events);
  const volumes = captures(texts, /volume "([^"]+)"/);
  const unmounted = captures(texts, /unmounted volumes=\[([^\]]+)\]/);
  const drivers = captures(texts, /(?:driver name|CSI driver) ([\w.-]+)/);
  const nodes = topNodes(claimed);
  const subject =
    volumes.length > 0 ? listNames(volumes) : unmounted.length > 0 ? listNames(unmounted) : 'VM volumes';
  const unmountable = claimed.filter((group) => initStartProblem(group) === 'storage');
  const onNodes = nodes.length > 0 ? ` on ${listNames(nodes)}` : '';
  // Init containers the runtime cannot mount volumes into, and nothing else: the PVC and CSI advice does not apply.
  const onlyInit = unmountable.length > 0 && unmountable.length === claimed.length;
  const initSummary = `the runtime cannot mount the volumes of init containers ${listNames(
    [...new Set(unmountable.map(initFailureLabel))],
    2,
  )}`;
  return {
    category: 'storage',
    claims,
    summary: onlyInit
      ? `Volumes cannot be mounted: ${initSummary}${onNodes}`
      : `Volumes cannot be attached or mounted: ${subject}${onNodes}${unmountable.length > 0 ? `; ${initSummary}` : ''}`,
    evidence: evidenceRows(eventEvidence(events), podEvidence(claimed, 2)),
    remediation: [
      ...(unmountable.length > 0
        ? [
            `Free or repair the container runtime's disk${onNodes} (df -h /var/lib/containers /var/lib/kubelet; the runtime's log): it cannot create the launchers' volume mounts.`,
          ]
        : []),
      ...(onlyInit
        ? []
        : [
            `Check the PVCs and VolumeAttachments behind ${subject} (kubectl get pvc,volumeattachment) and their StorageClass provisioner.`,
            `Check the CSI driver${drivers.length > 0 ? ` ${listNames(drivers)}` : ''} node and controller pods${nodes.length > 0 ? ` on ${listNames(nodes)}` : ''} and their logs.`,
            'A Multi-Attach error means a RWO volume is still attached to the old node: finish or cancel that migration or detach it first.',
          ]),
      ...(unmountable.length > 0
        ? [cleanupRemediation(unmountable, 'Once the runtime can mount volumes again')]
        : []),
    ],
  };
};
