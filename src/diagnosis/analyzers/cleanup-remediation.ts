import { listNames, mergeCounts } from './analyzer.js';
import type { PodGroup } from './facts.js';

// Once a cause is fixed, its Failed launchers are debris: KubeVirt does not delete them (kubevirt.md), and they load
// the API server and Prometheus until someone does. The advice names what works today (kubectl, per namespace, the
// bundle first), not the runbook's `-o name | xargs oc delete`, which deletes nothing outside the context namespace
// (shared/apiserver.md §0).

/** The closing step of a cause's remediation: keep the evidence, then delete its launchers where they are. */
export function cleanupRemediation(groups: PodGroup[], when: string): string {
  const namespaces = mergeCounts(
    groups.map((group) => group.namespaces),
    Number.POSITIVE_INFINITY,
  ).map((count) => count.key);
  const where = namespaces.length > 0 ? ` in ${listNames(namespaces)}` : '';
  return (
    `${when}, write the support bundle first (stuckfailed diagnose --bundle incident.tar.gz: deleting destroys the ` +
    `evidence), then delete the Failed launchers${where} one namespace at a time: kubectl delete pods -n NAMESPACE ` +
    '-l kubevirt.io=virt-launcher --field-selector=status.phase=Failed --wait=false (the Next steps spell out each one).'
  );
}
