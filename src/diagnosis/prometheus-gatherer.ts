import type { PrometheusClient } from '../prometheus/client.js';
import {
  ALERT_NAME,
  FAILED_LAUNCHER_COUNT,
  FAILED_LAUNCHERS_BY_NAMESPACE,
  FAILED_LAUNCHERS_BY_NODE,
  FAILED_LAUNCHERS_BY_REASON,
  queryAlertState,
  queryByNamespace,
  queryByNode,
  queryByReason,
  queryFailedLauncherCount,
  queryTrend,
} from '../prometheus/queries.js';
import type { PrometheusGatherer, PrometheusResult } from './gather.js';
import type { PrometheusSummary, TrendPoint } from './types.js';

// The runbook's step 1 in PromQL (src/prometheus/queries.ts), plus the alert's state and the trend over the last
// hours: the raw results go to the bundle (prometheus/*.json), and summary() to the Diagnosis, so that every
// report format says whether the alert fires and what Prometheus counts beside the API's own counts.

export interface PrometheusGathererOptions {
  /** diagnose -n: the summary's count is this namespace's, comparable with the API's scoped count. */
  namespace?: string;
  /** Hours of trend (default 6) and its resolution (default 5 minutes). */
  trendHours?: number;
  trendStepSeconds?: number;
  now?: () => Date;
}

export interface DiagnosisPrometheusGatherer extends PrometheusGatherer {
  /** The Diagnosis's `prometheus` field once gather() succeeded; undefined before, or when it failed. */
  summary(): PrometheusSummary | undefined;
}

export function createPrometheusGatherer(
  client: PrometheusClient,
  options: PrometheusGathererOptions = {},
): DiagnosisPrometheusGatherer {
  let summary: PrometheusSummary | undefined;
  return {
    url: client.url,
    summary: () => summary,
    async gather(): Promise<PrometheusResult[]> {
      summary = undefined;
      const [count, byNamespace, byNode, byReason, alert, trend] = await Promise.all([
        queryFailedLauncherCount(client),
        queryByNamespace(client),
        queryByNode(client),
        queryByReason(client),
        queryAlertState(client, ALERT_NAME),
        queryTrend(client, {
          hours: options.trendHours ?? 6,
          stepSeconds: options.trendStepSeconds ?? 300,
          ...(options.now === undefined ? {} : { now: options.now }),
        }),
      ]);
      const trendPoints: TrendPoint[] = trend.points.map((point) => ({
        time: point.timestamp.toISOString(),
        value: point.count,
      }));
      const { namespace } = options;
      // The by-namespace rule yields no series for a namespace without Failed launchers: that is a count of 0.
      const scoped =
        namespace === undefined
          ? { failedLaunchers: count.count, source: count.source }
          : {
              failedLaunchers: byNamespace.items.find((item) => item.key === namespace)?.count ?? 0,
              source: byNamespace.source,
              namespace,
            };
      summary = {
        url: withoutCredentials(client.url),
        ...scoped,
        alert: {
          state: alert.state,
          ...(alert.activeAt === undefined ? {} : { activeAt: alert.activeAt }),
        },
        trend: trendPoints,
      };
      return [
        { name: 'failed-launchers', query: FAILED_LAUNCHER_COUNT.record, result: count },
        { name: 'by-namespace', query: FAILED_LAUNCHERS_BY_NAMESPACE.record, result: byNamespace },
        { name: 'by-node', query: FAILED_LAUNCHERS_BY_NODE.record, result: byNode },
        { name: 'by-reason', query: FAILED_LAUNCHERS_BY_REASON.record, result: byReason },
        { name: 'alert', query: `ALERTS{alertname="${ALERT_NAME}"}`, result: alert },
        {
          name: 'trend',
          query: FAILED_LAUNCHER_COUNT.record,
          result: { source: trend.source, points: trendPoints },
        },
      ];
    },
  };
}

/** A URL may carry basic-auth credentials (https://user:pass@host); the report names the server, not them. */
function withoutCredentials(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
