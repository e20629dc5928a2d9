// What the web page shows of an incident, derived from the Incident contract alone (pure, no I/O), so a saved
// incident re-renders to the same page. The page's inline script (page-script.ts) repeats two of these rules
// (failedLaunchersNow, stepProgressOf) on the JSON it polls; keep the two in step.
import type { Cause, Diagnosis } from '../../diagnosis/types.js';
import type {
  JournalEntry,
  JournalOutcome,
  PlanStep,
  PlanTarget,
  StepProgress,
} from '../../mitigation/plan.js';
import { JOURNAL_OUTCOMES, targetKey } from '../../mitigation/plan.js';
import type { Incident, IncidentStatus } from '../incident.js';

/** Statuses during which the page follows progress live. */
export const LIVE_STATUSES: readonly IncidentStatus[] = ['acting', 'validating'];

export function isLive(status: IncidentStatus): boolean {
  return LIVE_STATUSES.includes(status);
}

export interface FailedLaunchersNow {
  /** What the latest diagnosis counted. */
  atDiagnosis: number;
  /** Launchers the incident's clean steps deleted (or found gone) since that diagnosis. */
  removed: number;
  /** atDiagnosis - removed: the count the page shows falling while the plan runs. */
  now: number;
}

/**
 * The Failed launcher count as the plan runs: the diagnosis's count less what was cleaned since. Only entries after
 * the diagnosis count, so a diagnosis re-made mid-run (which already misses the pods cleaned before it) is not
 * subtracted from twice. `gone` counts too: the pod is not Failed any more, whoever deleted it.
 */
export function failedLaunchersNow(incident: Incident): FailedLaunchersNow | undefined {
  const { diagnosis } = incident;
  if (diagnosis === undefined) return undefined;
  const since = Date.parse(diagnosis.generatedAt);
  const removed = incident.actions.filter(
    (entry) =>
      entry.action === 'clean' &&
      (entry.outcome === 'done' || entry.outcome === 'gone') &&
      !(Date.parse(entry.time) < since),
  ).length;
  const atDiagnosis = diagnosis.failedLaunchers;
  return { atDiagnosis, removed, now: Math.max(0, atDiagnosis - removed) };
}

/**
 * How far a step has got: the service's live progress when it has one for the step, else the distinct targets the
 * journal settled (any outcome; a target retried after a failure counts once).
 */
export function stepProgressOf(incident: Incident, step: PlanStep): StepProgress {
  const live = incident.progress?.[step.id];
  if (live !== undefined) return live;
  const settled = new Set(
    incident.actions.filter((entry) => entry.step === step.id).map((entry) => targetKey(entry.step, entry)),
  ).size;
  return { step: step.id, action: step.action, settled, total: step.count };
}

/** Journal entries of one step by outcome, every outcome present (0 when none). */
export function outcomeCounts(
  actions: readonly JournalEntry[],
  stepId: string,
): Record<JournalOutcome, number> {
  const counts = Object.fromEntries(JOURNAL_OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    JournalOutcome,
    number
  >;
  for (const entry of actions) if (entry.step === stepId) counts[entry.outcome] += 1;
  return counts;
}

export interface NamespaceCount {
  /** '' for cluster-scoped targets. */
  namespace: string;
  count: number;
}

export interface TargetsSummary {
  top: NamespaceCount[];
  /** Namespaces not in `top`, and their targets. */
  otherNamespaces: number;
  otherTargets: number;
}

/** A step's targets per namespace, largest first: a plan of 5,000 pods is read as a few lines, not a list. */
export function targetsByNamespace(targets: readonly PlanTarget[], limit: number): TargetsSummary {
  const counts = new Map<string, number>();
  for (const target of targets) counts.set(target.namespace, (counts.get(target.namespace) ?? 0) + 1);
  const sorted = [...counts]
    .map(([namespace, count]) => ({ namespace, count }))
    .sort((a, b) => b.count - a.count || a.namespace.localeCompare(b.namespace));
  const rest = sorted.slice(limit);
  return {
    top: sorted.slice(0, limit),
    otherNamespaces: rest.length,
    otherTargets: rest.reduce((sum, entry) => sum + entry.count, 0),
  };
}

/** The most important cause (the diagnosis sorts them), if any. */
export function topCause(diagnosis: Diagnosis | undefined): Cause | undefined {
  return diagnosis?.causes[0];
}

/** True when someone (or the policy) approved the plan as it is now; a re-made plan has a new digest. */
export function isPlanApproved(incident: Incident): boolean {
  const { plan } = incident;
  return plan !== undefined && incident.approvals.some((approval) => approval.digest === plan.digest);
}

/**
 * The plan can be approved from the page: there is one with steps, it is not approved yet, and the incident is open
 * (the service takes approvals only then; while it acts or validates it would answer 409).
 */
export function canApprove(incident: Incident): boolean {
  return (
    incident.plan !== undefined &&
    incident.plan.steps.length > 0 &&
    incident.status === 'open' &&
    !isPlanApproved(incident)
  );
}

/** The newest `limit` journal entries, newest first. */
export function recentActions(actions: readonly JournalEntry[], limit: number): JournalEntry[] {
  return actions.slice(Math.max(0, actions.length - limit)).reverse();
}
