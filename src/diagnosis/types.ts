// The diagnosis report: the JSON contract of DESIGN §4 (`diagnose -o json`, schemaVersion 1). Renderers, the
// bundle, the service and the tests all read this one shape.

export const CAUSE_CATEGORIES = [
  'image',
  'network',
  'storage',
  'migration',
  'resources',
  'node',
  'control-plane',
  'unknown',
] as const;

export type CauseCategory = (typeof CAUSE_CATEGORIES)[number];

export interface Count {
  key: string;
  count: number;
}

export interface Evidence {
  kind: string;
  namespace?: string;
  name: string;
  reason?: string;
  message?: string;
}

export interface Cause {
  category: CauseCategory;
  /** Failed launchers attributed to this cause. */
  pods: number;
  /** 0..1: how sure the analyzer is that this is the cause of those pods. */
  confidence: number;
  summary: string;
  evidence: Evidence[];
  remediation: string[];
}

export interface MigrationSummary {
  inFlight: number;
  failed: number;
  storm: boolean;
  topVMIs: Array<{ namespace: string; vmi: string; migrations: number; failedLaunchers: number }>;
}

export interface ErrorBurst {
  component: string;
  level: string;
  /** The message with names, UIDs and numbers replaced, so that one shape groups many lines. */
  shape: string;
  count: number;
  example: string;
  firstSeen?: string;
  lastSeen?: string;
}

export interface ControlPlaneSummary {
  namespace?: string;
  version?: string;
  targetVersion?: string;
  errorBursts: ErrorBurst[];
}

export interface Sample {
  namespace: string;
  name: string;
  node?: string;
  category: CauseCategory;
  reason?: string;
  message?: string;
  events: Array<{ type?: string; reason?: string; message?: string; count?: number; lastTimestamp?: string }>;
}

export interface GatherError {
  /** e.g. forbidden, unreachable, prometheus, not-found. */
  type: string;
  message: string;
}

/** One point of a trend: RFC 3339 time, Failed virt-launcher pods then. */
export interface TrendPoint {
  time: string;
  value: number;
}

/**
 * What Prometheus says (diagnose --prometheus-url): the alert's own view, a second opinion beside the API's counts.
 * Absent when no Prometheus was given or it failed (then gatherErrors has an entry of type `prometheus`).
 */
export interface PrometheusSummary {
  /** The Prometheus (or Thanos Querier) asked, without credentials. */
  url: string;
  /** Failed launchers by Prometheus: cluster-wide, or in `namespace` when the diagnosis was scoped to one. */
  failedLaunchers: number;
  /** The namespace the count covers (diagnose -n); absent for the whole cluster, as the alert counts. */
  namespace?: string;
  /** From our recording rule, or from the raw expression when the rules are not installed. */
  source: 'recording-rule' | 'expression';
  /** The VirtLauncherPodsStuckFailed alert as Prometheus evaluates it (cluster-wide). */
  alert: { state: 'inactive' | 'pending' | 'firing'; activeAt?: string };
  /** The cluster-wide count over the last hours (range query), oldest first. */
  trend: TrendPoint[];
}

/** The VirtLauncherPodsStuckFailed alert's state: from Prometheus's ALERTS when asked, else estimated from the API. */
export interface AlertSummary {
  state: 'firing' | 'pending' | 'inactive';
  /** When the condition started to hold (ISO time); null when it does not hold or nobody knows. */
  since: string | null;
  /** `api-estimate`: the moment the threshold-th launcher still Failed terminated, a lower bound on how long it held. */
  source: 'prometheus' | 'api-estimate';
  /** `namespace` when the estimate counts only the namespace of `diagnose -n`; the alert itself is cluster-wide. */
  scope: 'cluster' | 'namespace';
}

/** Failed launchers whose last container terminated in [start, start + the bucket size). */
export interface TimelineBucket {
  start: string;
  count: number;
}

/** A moment that may explain the timeline: known from the KubeVirt CR, the nodes, the migrations. */
export interface TimelineMark {
  time: string;
  kind: 'kubevirt-version' | 'node' | 'migrations';
  /** One line: what happened then. */
  text: string;
}

export interface Attribution {
  /** Pods whose cause came from their own status and events. */
  fromOwnEvidence: number;
  /** Pods whose events lay past their namespace's cap, that took the event classes of pods like them. */
  inferred: number;
}

/** What diagnose was asked to look at: its -n and -l. */
export interface DiagnosisScope {
  namespace?: string;
  /** ANDed with kubevirt.io=virt-launcher. */
  labelSelector?: string;
}

export interface Diagnosis {
  schemaVersion: 1;
  generatedAt: string;
  source: 'api' | 'snapshot';
  threshold: number;
  failedLaunchers: number;
  conditionMet: boolean;
  byNamespace: Count[];
  byNode: Count[];
  byReason: Count[];
  causes: Cause[];
  migrations: MigrationSummary;
  controlPlane: ControlPlaneSummary;
  alert: AlertSummary;
  /** Failed launchers by termination time, oldest first, evenly spaced (empty buckets kept). */
  timeline: TimelineBucket[];
  /** Moments on the timeline's span that may explain it, oldest first. */
  timelineMarks: TimelineMark[];
  /** How many Failed launchers' causes were read from their own status and events, and how many were inferred. */
  attribution: Attribution;
  samples: Sample[];
  gatherErrors: GatherError[];
  /** Added in schemaVersion 1 without a bump: optional, so earlier reports stay valid. */
  prometheus?: PrometheusSummary;
  /** Added in schemaVersion 1 without a bump: absent when diagnose looked at every namespace with no selector. */
  scope?: DiagnosisScope;
}
