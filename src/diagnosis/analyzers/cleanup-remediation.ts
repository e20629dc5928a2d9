import { listNames, mergeCounts } from './analyzer.js';
import type { PodGroup } from './facts.js';

// Once a cause is fixed, its Failed launchers are debris: KubeVirt does not delete them (kubevirt.md), and they load
// the API server and Prometheus until someone does. The advice names stuckfailed clean (the bundle first; clean
// archives each pod too), not the runbook's `-o name | xargs oc delete`, which deletes nothing outside the context
// namespace (shared/apiserver.md §0).

/** The closing step of a cause's remediation: keep the evidence, then delete its launchers where they are. */
export function cleanupRemediation(groups: PodGroup[], when: string): string {
  const namespaces = mergeCounts(
    groups.map((group) => group.namespaces),
    Number.POSITIVE_INFINITY,
  ).map((count) => count.key);
  const where = namespaces.length > 0 ? ` in ${listNames(namespaces)}` : '';
  return (
    `${when}, write the support bundle first (stuckfailed diagnose --bundle incident.tar.gz: deleting destroys the ` +
    `evidence), then delete the Failed launchers${where}: stuckfailed clean -n NAMESPACE --yes in each, or -A for ` +
    'all of them (each pod is archived with its events before its delete).'
  );
}
