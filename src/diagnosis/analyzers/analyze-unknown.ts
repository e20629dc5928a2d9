import { type Analyzer, evidenceRows, listNames, podEvidence } from './analyzer.js';

// What no analyzer explains: every group gets the weakest possible claim, so it wins only what is left and the
// shares still add up to failedLaunchers.

export const UNKNOWN_CONFIDENCE = 0.05;

export const analyzeUnknown: Analyzer = (facts) => {
  const reasons = [...new Set(facts.groups.map((group) => group.reason))];
  return {
    category: 'unknown',
    claims: facts.groups.map((group) => ({ groupId: group.id, confidence: UNKNOWN_CONFIDENCE })),
    summary: `No known failure signature (reasons: ${listNames(reasons, 4) || 'none recorded'})`,
    evidence: evidenceRows(podEvidence(facts.groups, 2)),
    remediation: [
      'Read the sample pods (kubectl describe pod, kubectl logs -c compute) and their events in the bundle.',
      'Open a support case with the bundle (stuckfailed diagnose --bundle incident.tar.gz).',
    ],
  };
};
