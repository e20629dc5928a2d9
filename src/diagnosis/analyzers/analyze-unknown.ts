import { type Analyzer, evidenceRows, listNames, podEvidence } from './analyzer.js';
import type { PodGroup } from './facts.js';

// What no analyzer explains: every group gets the weakest possible claim, so it wins only what is left and the
// shares still add up to failedLaunchers. The summary and the evidence say what was seen (reason, container, exit
// code, message), so that "unknown" is a starting point for a human, not a dead end.

export const UNKNOWN_CONFIDENCE = 0.05;

/** "StartError in container-disk-binary (exit 128): 12" */
function seen(group: PodGroup): string {
  const where = group.container ? ` in ${group.container}${group.initContainer ? ' (init)' : ''}` : '';
  const exit = group.exitCode === undefined ? '' : ` exit ${group.exitCode}`;
  return `${group.reason}${where}${exit}: ${group.count}`;
}

export const analyzeUnknown: Analyzer = (facts) => {
  const byCount = [...facts.groups].sort((a, b) => b.count - a.count);
  const shapes = [...new Set(byCount.map(seen))];
  return {
    category: 'unknown',
    claims: facts.groups.map((group) => ({ groupId: group.id, confidence: UNKNOWN_CONFIDENCE })),
    summary: `No known failure signature; seen: ${listNames(shapes, 4) || 'no reason recorded'}`,
    // A pod with no message still shows what ended it.
    evidence: evidenceRows(
      ...byCount.map((group) =>
        podEvidence([group], 2).map((row) => ({ ...row, message: row.message ?? endOf(group) })),
      ),
    ),
    remediation: [
      'Read the sample pods (kubectl describe pod, kubectl logs -c compute) and their events in the bundle.',
      'Open a support case with the bundle (stuckfailed diagnose --bundle incident.tar.gz).',
    ],
  };
};

/** What ended a group's pods when no message says. */
function endOf(group: PodGroup): string {
  if (!group.container) return 'no container ended it and no reason was recorded';
  return `container ${group.container} ended with ${group.reason}${group.exitCode === undefined ? '' : ` (exit ${group.exitCode})`}`;
}
