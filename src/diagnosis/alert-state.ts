import type { AlertSummary, PrometheusSummary } from './types.js';

// The alert's real state (DESIGN §4 `alert`): VirtLauncherPodsStuckFailed fires once its condition, count >= 200, has
// held for 10 minutes. Prometheus's ALERTS says so when it was asked; otherwise the API gives an estimate.

/** The alert's `for:` upstream (kubevirt pkg/monitoring/rules/alerts). */
export const ALERT_FOR_MS = 10 * 60 * 1000;

export interface AlertInput {
  threshold: number;
  failedLaunchers: number;
  /** When each Failed launcher's last container terminated (ms), ascending; pods that do not say are left out. */
  terminations: readonly number[];
  now: Date;
  /** diagnose -n: the count covers one namespace, the alert the whole cluster. */
  namespace?: string | undefined;
  prometheus?: PrometheusSummary | undefined;
}

export function alertState(input: AlertInput): AlertSummary {
  const { prometheus } = input;
  if (prometheus !== undefined) {
    // ALERTS is cluster-wide whatever the scope of the diagnosis; activeAt is when the condition started to hold.
    return {
      state: prometheus.alert.state,
      since: prometheus.alert.state === 'inactive' ? null : (prometheus.alert.activeAt ?? null),
      source: 'prometheus',
      scope: 'cluster',
    };
  }
  const scope = input.namespace === undefined ? 'cluster' : 'namespace';
  if (input.failedLaunchers < input.threshold)
    return { state: 'inactive', since: null, source: 'api-estimate', scope };
  // The count reached the threshold, at the latest, when the threshold-th of the launchers still Failed terminated.
  // Pods that were Failed earlier and are gone since may have met it sooner: a lower bound on how long it has held.
  // Pods that do not say when they ended are taken to have ended now, which keeps it a lower bound.
  const reached = input.terminations[input.threshold - 1];
  const since = Math.min(reached ?? input.now.getTime(), input.now.getTime());
  return {
    state: input.now.getTime() - since >= ALERT_FOR_MS ? 'firing' : 'pending',
    since: new Date(since).toISOString(),
    source: 'api-estimate',
    scope,
  };
}
