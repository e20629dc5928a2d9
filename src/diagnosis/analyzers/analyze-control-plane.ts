import { plural } from '../../util/plural.js';
import { type Analyzer, evidenceRows, listNames, podEvidence } from './analyzer.js';
import type { PodGroup } from './facts.js';

// The control plane: launchers that crash with no infrastructure signature while KubeVirt is mid-upgrade
// (status.observedKubeVirtVersion != targetKubeVirtVersion, or Progressing=True), Degraded, or while virt-handler /
// virt-controller log error bursts, point at a KubeVirt regression (the runbook's "control-plane regressions").
// Launchers built from the new virt-launcher image, failing while the old ones ran, name the version to roll back.

/** Crash kinds a regression produces: the launcher starts and dies, or cannot start at all. */
const CRASH_KINDS = new Set(['container-error', 'container-start', 'unknown']);
/** Error lines of one shape in a 200-line tail that make a burst worth blaming. */
export const BURST_THRESHOLD = 5;

export const analyzeControlPlane: Analyzer = (facts) => {
  const { controlPlane } = facts;
  const bursts = controlPlane.errorBursts.filter(
    (burst) => burst.count >= BURST_THRESHOLD && (burst.level === 'error' || burst.level === 'fatal'),
  );
  const targetImageTag = controlPlane.targetVersion;
  const signals = controlPlane.upgrading || controlPlane.degraded !== undefined || bursts.length > 0;
  const claimed: PodGroup[] = [];
  const claims = signals
    ? facts.groups.flatMap((group) => {
        if (!CRASH_KINDS.has(group.kind) || group.migrationTarget) return [];
        if (group.eventClasses.some((eventClass) => eventClass !== 'other' && eventClass !== 'migration'))
          return [];
        const onNewImage =
          targetImageTag !== undefined && group.launcherImage?.endsWith(`:${targetImageTag}`) === true;
        const confidence = onNewImage || controlPlane.upgrading || controlPlane.degraded ? 0.75 : 0.5;
        claimed.push(group);
        return [{ groupId: group.id, confidence }];
      })
    : [];
  const images = [...new Set(claimed.flatMap((group) => (group.launcherImage ? [group.launcherImage] : [])))];
  const crEvidence = controlPlane.name
    ? [
        {
          kind: 'KubeVirt',
          ...(controlPlane.namespace ? { namespace: controlPlane.namespace } : {}),
          name: controlPlane.name,
          reason: controlPlane.upgrading
            ? 'UpgradeInProgress'
            : (controlPlane.degraded?.reason ?? 'Deployed'),
          message: [
            `observed ${controlPlane.observedVersion ?? '?'}, target ${controlPlane.targetVersion ?? '?'}`,
            controlPlane.degraded?.message,
          ]
            .filter(Boolean)
            .join('; '),
        },
      ]
    : [];
  const burstEvidence = bursts.slice(0, 4).map((burst) => ({
    kind: 'Log',
    ...(controlPlane.namespace ? { namespace: controlPlane.namespace } : {}),
    name: burst.component,
    reason: plural(burst.count, `${burst.level} line`),
    message: burst.example,
  }));
  const summaryParts = [
    controlPlane.upgrading
      ? `KubeVirt upgrade ${controlPlane.observedVersion ?? '?'} -> ${controlPlane.targetVersion ?? '?'} in flight`
      : '',
    controlPlane.degraded ? `KubeVirt Degraded (${controlPlane.degraded.reason ?? 'no reason'})` : '',
    bursts.length > 0
      ? `${listNames([...new Set(bursts.map((burst) => burst.component))])} logging error bursts`
      : '',
  ].filter(Boolean);
  const remediation: string[] = [];
  if (controlPlane.upgrading && controlPlane.targetVersion) {
    remediation.push(
      `Launchers fail on KubeVirt ${controlPlane.targetVersion}${images.length > 0 ? ` (${listNames(images, 2)})` : ''}: halt the rollout and roll back from ${controlPlane.targetVersion} to ${controlPlane.observedVersion ?? 'the previous version'}, and stop workload updates (spec.workloadUpdateStrategy.workloadUpdateMethods: []).`,
    );
  }
  if (bursts.length > 0) {
    remediation.push(
      `Read the ${listNames([...new Set(bursts.map((burst) => burst.component))])} errors in ${controlPlane.namespace ?? 'the KubeVirt namespace'}: "${bursts[0]?.example ?? ''}".`,
    );
  }
  remediation.push(
    'Attach the bundle (stuckfailed diagnose --bundle incident.tar.gz) to a KubeVirt issue or support case.',
  );
  return {
    category: 'control-plane',
    claims,
    summary: summaryParts.length > 0 ? summaryParts.join('; ') : 'KubeVirt components regress',
    evidence: evidenceRows(crEvidence, burstEvidence, podEvidence(claimed, 2)),
    remediation,
  };
};
