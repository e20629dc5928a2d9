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
  samples: Sample[];
  gatherErrors: GatherError[];
}
