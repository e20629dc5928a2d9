// The incident contract of DESIGN §4 ("Service"): what `serve` stores, what GET /api/v1/incidents returns and what
// the web page renders. One incident per Alertmanager alert group of VirtLauncherPodsStuckFailed.
import type { Diagnosis } from '../diagnosis/types.js';
import type { JournalEntry, Plan, PlanStep, StepProgress } from '../mitigation/plan.js';

export const INCIDENT_STATUSES = ['open', 'acting', 'validating', 'closed'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** The alert as Alertmanager last described it (labels are the group's common labels). */
export interface IncidentAlert {
  name: string;
  /** Alertmanager's groupKey: a repeat or retry of the same group joins this incident. */
  groupKey: string;
  fingerprint?: string;
  labels: Record<string, string>;
  startsAt: string;
  state: 'firing' | 'resolved';
}

/** One webhook delivery recorded against the incident (repeats and retries included). */
export interface IncidentNotification {
  receivedAt: string;
  status: 'firing' | 'resolved';
  /** A digest of the body: a retry of the same delivery has the same one. */
  bodyDigest: string;
}

export interface IncidentApproval {
  /** The plan digest approved. */
  digest: string;
  /** The name of the token that approved (never the token). */
  by: string;
  at: string;
  /** automatic when the policy allowed the step without a person. */
  mode: 'manual' | 'automatic';
}

/** The audit trail: every action's outcome (the journal), plus the moments that are not actions. */
export interface IncidentAuditEvent {
  time: string;
  what: string;
  detail?: string;
}

export interface IncidentValidation {
  verdict: 'cleared' | 'not-cleared' | 'running';
  reason: string;
  startedAt: string;
  finishedAt?: string;
}

export interface Incident {
  id: string;
  status: IncidentStatus;
  alert: IncidentAlert;
  openedAt: string;
  closedAt?: string;
  notifications: IncidentNotification[];
  /** The latest diagnosis; absent while the first one runs. */
  diagnosis?: Diagnosis;
  /** The plan waiting for approval (or being run); absent until diagnosed. */
  plan?: Plan;
  approvals: IncidentApproval[];
  /** One entry per action and outcome, as the journal records them. */
  actions: JournalEntry[];
  /** Live progress of the step being applied, per step id. */
  progress?: Record<PlanStep['id'], StepProgress>;
  audit: IncidentAuditEvent[];
  validation?: IncidentValidation;
}
