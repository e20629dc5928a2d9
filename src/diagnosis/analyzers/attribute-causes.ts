import { CAUSE_CATEGORIES, type Cause, type CauseCategory } from '../types.js';
import { type Analyzer, countOf } from './analyzer.js';
import { ANALYZERS } from './analyzer-registry.js';
import type { DiagnosisFacts } from './facts.js';

/**
 * Runs every analyzer and gives each group of Failed launchers to the strongest claim (ties go to the earlier
 * cause of the closed list), so that each pod counts for exactly one cause and the shares add up to
 * failedLaunchers. Each winning analyzer then runs again on the groups it won alone, so that its summary,
 * evidence and remediation speak of exactly those pods. Causes come out most important first: most pods, then
 * highest confidence.
 */
export interface Attribution {
  /** Most important first. */
  causes: Cause[];
  /** The cause each group of facts.groups went to, by group id. */
  categoryOfGroup: Map<number, CauseCategory>;
}

export function attributeCauses(
  facts: DiagnosisFacts,
  analyzers: Record<CauseCategory, Analyzer> = ANALYZERS,
): Attribution {
  const winners = new Map<number, { category: CauseCategory; confidence: number }>();
  for (const category of CAUSE_CATEGORIES) {
    for (const claim of analyzers[category](facts).claims) {
      const best = winners.get(claim.groupId);
      if (!best || claim.confidence > best.confidence)
        winners.set(claim.groupId, { category, confidence: claim.confidence });
    }
  }
  const causes: Cause[] = [];
  for (const category of CAUSE_CATEGORIES) {
    const won = facts.groups.filter((group) => winners.get(group.id)?.category === category);
    const pods = countOf(won);
    if (pods === 0) continue;
    const weighted = won.reduce(
      (sum, group) => sum + group.count * (winners.get(group.id)?.confidence ?? 0),
      0,
    );
    const finding = analyzers[category]({ ...facts, groups: won });
    causes.push({
      category,
      pods,
      confidence: Math.round((weighted / pods) * 100) / 100,
      summary: finding.summary,
      evidence: finding.evidence,
      remediation: finding.remediation,
    });
  }
  causes.sort(
    (a, b) =>
      b.pods - a.pods ||
      b.confidence - a.confidence ||
      CAUSE_CATEGORIES.indexOf(a.category) - CAUSE_CATEGORIES.indexOf(b.category),
  );
  const categoryOfGroup = new Map([...winners].map(([groupId, winner]) => [groupId, winner.category]));
  return { causes, categoryOfGroup };
}
