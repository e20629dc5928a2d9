import type { AlertState, PrometheusClient, Sample } from './client.js';

// The runbook's PromQL, corrected, written once: diagnose and validate call these functions, and a test holds
// rules/stuckfailed.rules.yaml to the same expressions. The corrections (shared/real-components.md, checked with promtool):
// - the count returns 0, not nothing, when no launcher failed (`or vector(0)`);
// - the node join is on (namespace, pod): the runbook's `on(pod)` fails with "many-to-many matching not allowed" as soon
//   as one launcher name exists in two namespaces;
// - the reasons come from kube_pod_status_reason and the current terminated reasons of the Failed pods' containers: the
//   runbook's kube_pod_container_status_last_terminated_reason exists only after a restart, and launchers never restart.

export const ALERT_NAME = 'VirtLauncherPodsStuckFailed';
export const PREDICTED_ALERT_NAME = 'VirtLauncherPodsStuckFailedPredicted';

const FAILED_LAUNCHERS =
  'max by (namespace, pod) (kube_pod_status_phase{phase="Failed", pod=~"virt-launcher-.*"} == 1)';

/** Each breakdown: the recording rule that precomputes it and the expression that computes it without the rules. */
export interface LauncherQuery {
  record: string;
  expr: string;
}

export const FAILED_LAUNCHER_COUNT: LauncherQuery = {
  record: 'cluster:kubevirt_virt_launcher_failed:count',
  expr: `count(${FAILED_LAUNCHERS}) or vector(0)`,
};

export const FAILED_LAUNCHERS_BY_NAMESPACE: LauncherQuery = {
  record: 'namespace:kubevirt_virt_launcher_failed:count',
  expr: `count by (namespace) (${FAILED_LAUNCHERS})`,
};

export const FAILED_LAUNCHERS_BY_NODE: LauncherQuery = {
  record: 'node:kubevirt_virt_launcher_failed:count',
  expr:
    `count by (node) (${FAILED_LAUNCHERS} * on (namespace, pod) group_left (node) ` +
    'max by (namespace, pod, node) (kube_pod_info{pod=~"virt-launcher-.*", node!=""}))',
};

export const FAILED_LAUNCHERS_BY_REASON: LauncherQuery = {
  record: 'reason:kubevirt_virt_launcher_failed:count',
  expr:
    'count by (reason) ((' +
    'max by (namespace, pod, reason) (kube_pod_status_reason{pod=~"virt-launcher-.*"} == 1) or ' +
    'max by (namespace, pod, reason) (kube_pod_container_status_terminated_reason{pod=~"virt-launcher-.*", reason!="Completed"} == 1) or ' +
    'max by (namespace, pod, reason) (kube_pod_init_container_status_terminated_reason{pod=~"virt-launcher-.*", reason!="Completed"} == 1)' +
    `) * on (namespace, pod) group_left () ${FAILED_LAUNCHERS})`,
};

export const LAUNCHER_QUERIES: readonly LauncherQuery[] = [
  FAILED_LAUNCHER_COUNT,
  FAILED_LAUNCHERS_BY_NAMESPACE,
  FAILED_LAUNCHERS_BY_NODE,
  FAILED_LAUNCHERS_BY_REASON,
];

/** Where a number came from: our recording rule, or the raw expression when the rules are not installed. */
export type QuerySource = 'recording-rule' | 'expression';

export interface QueryOptions {
  /** Evaluation time (default: the server's now). */
  time?: Date;
}

export interface FailedLauncherCount {
  count: number;
  source: QuerySource;
}

export interface Breakdown {
  /** Largest first, then by key: the shape of Diagnosis byNamespace/byNode/byReason. */
  items: Array<{ key: string; count: number }>;
  source: QuerySource;
}

/**
 * The recording rule first (cheap: one series), the raw expression when the rule yields nothing. The count's rule
 * always yields a sample (`or vector(0)`), so its absence means the rules are not installed; a breakdown's rule is
 * also empty when nothing failed, and then the fallback costs one more (equally empty) query.
 */
async function queryWithFallback(
  client: PrometheusClient,
  query: LauncherQuery,
  options: QueryOptions,
): Promise<{ samples: Sample[]; source: QuerySource }> {
  const instant = options.time === undefined ? {} : { time: options.time };
  const recorded = await client.query(query.record, instant);
  if (recorded.length > 0) return { samples: recorded, source: 'recording-rule' };
  return { samples: await client.query(query.expr, instant), source: 'expression' };
}

export async function queryFailedLauncherCount(
  client: PrometheusClient,
  options: QueryOptions = {},
): Promise<FailedLauncherCount> {
  const { samples, source } = await queryWithFallback(client, FAILED_LAUNCHER_COUNT, options);
  // A rule evaluated by two Prometheus replicas behind Thanos is deduplicated there; should two samples still arrive
  // (two rule sources with different external labels), they measure the same pods: take the largest, never the sum.
  const count = samples.reduce((largest, sample) => Math.max(largest, sample.value), 0);
  return { count, source };
}

async function queryBreakdown(
  client: PrometheusClient,
  query: LauncherQuery,
  label: string,
  options: QueryOptions,
): Promise<Breakdown> {
  const { samples, source } = await queryWithFallback(client, query, options);
  const counts = new Map<string, number>();
  for (const sample of samples) {
    const key = sample.labels[label] ?? '';
    counts.set(key, Math.max(counts.get(key) ?? 0, sample.value));
  }
  const items = [...counts].map(([key, count]) => ({ key, count }));
  items.sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  return { items, source };
}

export function queryByNamespace(client: PrometheusClient, options: QueryOptions = {}): Promise<Breakdown> {
  return queryBreakdown(client, FAILED_LAUNCHERS_BY_NAMESPACE, 'namespace', options);
}

/** Scheduled pods only: a pod never bound to a node has node="" in kube_pod_info and is left out. */
export function queryByNode(client: PrometheusClient, options: QueryOptions = {}): Promise<Breakdown> {
  return queryBreakdown(client, FAILED_LAUNCHERS_BY_NODE, 'node', options);
}

/** A pod counts once per distinct reason it shows (its own and its containers'), so the sum can exceed the count. */
export function queryByReason(client: PrometheusClient, options: QueryOptions = {}): Promise<Breakdown> {
  return queryBreakdown(client, FAILED_LAUNCHERS_BY_REASON, 'reason', options);
}

export interface TrendOptions {
  hours: number;
  stepSeconds: number;
  /** End of the window (default: `now()`). */
  end?: Date;
  /** The clock (default: the system's). */
  now?: () => Date;
}

export interface Trend {
  points: Array<{ timestamp: Date; count: number }>;
  source: QuerySource;
}

/**
 * The count over the last hours, for validate and the report. The recording rule's history starts when the rules were
 * installed; when it has nothing in the window the raw expression is evaluated over it instead (expensive on a large
 * cluster, which is why the rule exists).
 */
export async function queryTrend(client: PrometheusClient, options: TrendOptions): Promise<Trend> {
  const end = options.end ?? (options.now ?? (() => new Date()))();
  const range = {
    start: new Date(end.getTime() - options.hours * 3_600_000),
    end,
    stepSeconds: options.stepSeconds,
  };
  let source: QuerySource = 'recording-rule';
  let series = await client.queryRange(FAILED_LAUNCHER_COUNT.record, range);
  if (series.length === 0) {
    source = 'expression';
    series = await client.queryRange(FAILED_LAUNCHER_COUNT.expr, range);
  }
  const byTime = new Map<number, number>();
  for (const { points } of series) {
    for (const point of points)
      byTime.set(point.timestamp, Math.max(byTime.get(point.timestamp) ?? 0, point.value));
  }
  const points = [...byTime]
    .sort(([a], [b]) => a - b)
    .map(([timestamp, count]) => ({ timestamp: new Date(timestamp * 1000), count }));
  return { points, source };
}

export interface AlertStatus {
  alertname: string;
  state: AlertState;
  /** When the condition started to hold (pending since), for the most advanced instance. */
  activeAt: string | undefined;
  value: number | undefined;
  labels: Record<string, string> | undefined;
}

const STATE_RANK: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/**
 * The alert as Prometheus evaluates it. KubeVirt's own rule (prometheus-kubevirt-rules) has the same name as ours, so
 * several instances may be active: the most advanced state wins, then the earliest activeAt.
 */
export async function queryAlertState(
  client: PrometheusClient,
  alertname: string = ALERT_NAME,
): Promise<AlertStatus> {
  const active = (await client.alerts()).filter((alert) => alert.labels.alertname === alertname);
  active.sort(
    (a, b) => STATE_RANK[b.state] - STATE_RANK[a.state] || (a.activeAt ?? '').localeCompare(b.activeAt ?? ''),
  );
  const top = active[0];
  if (top === undefined)
    return { alertname, state: 'inactive', activeAt: undefined, value: undefined, labels: undefined };
  return { alertname, state: top.state, activeAt: top.activeAt, value: top.value, labels: top.labels };
}
