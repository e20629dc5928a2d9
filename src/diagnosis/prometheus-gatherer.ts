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

// The runbook's step 1 in PromQL (src/prometheus/queries.ts), plus the alert's state and the trend over the last
// hours: the second opinion diagnose keeps in the bundle beside the API's own counts.

export interface PrometheusGathererOptions {
  /** Hours of trend (default 6) and its resolution (default 5 minutes). */
  trendHours?: number;
  trendStepSeconds?: number;
  now?: () => Date;
}

export interface TrendSample {
  time: string;
  value: number;
}

export function createPrometheusGatherer(
  client: PrometheusClient,
  options: PrometheusGathererOptions = {},
): PrometheusGatherer & { trend(): TrendSample[] } {
  let trendPoints: TrendSample[] = [];
  return {
    url: client.url,
    trend: () => trendPoints,
    async gather(): Promise<PrometheusResult[]> {
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
      trendPoints = trend.points.map((point) => ({
        time: point.timestamp.toISOString(),
        value: point.count,
      }));
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
