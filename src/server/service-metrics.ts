// The service's own metrics, on the registry it is given (never prom-client's global one), so two servers in one
// process (tests) or a future leader/follower pair never mix their series.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Diagnosis } from '../diagnosis/types.js';
import { INCIDENT_STATUSES } from './incident.js';
import type { IncidentStore } from './incident-store.js';

export const WEBHOOK_OUTCOMES = [
  'accepted',
  'ignored',
  'unauthorized',
  'invalid',
  'too-large',
  'unsupported-media-type',
  'error',
] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export interface ServiceMetrics {
  registry: Registry;
  diagnosisDuration: Histogram<'outcome'>;
  actions: Counter<'action' | 'outcome'>;
  webhookRequests: Counter<'outcome'>;
  otherAlerts: Counter;
  recordDiagnosis(diagnosis: Diagnosis): void;
}

export function createServiceMetrics(registry: Registry, store: IncidentStore): ServiceMetrics {
  new Gauge({
    name: 'stuckfailed_incidents',
    help: 'Incidents by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = new Map<string, number>(INCIDENT_STATUSES.map((state) => [state, 0]));
      let stored: Awaited<ReturnType<IncidentStore['list']>>;
      try {
        stored = await store.list();
      } catch {
        // An unreadable store has no counts to give, but the other series (the webhook's errors first) still
        // must be scraped: the gauge is left out rather than the whole page failing.
        this.reset();
        return;
      }
      for (const { incident } of stored) {
        counts.set(incident.status, (counts.get(incident.status) ?? 0) + 1);
      }
      for (const [state, count] of counts) this.set({ state }, count);
    },
  });
  const failedLaunchers = new Gauge({
    name: 'stuckfailed_failed_launchers',
    help: 'Failed virt-launcher pods by cause, from the latest diagnosis',
    labelNames: ['cause'],
    registers: [registry],
  });
  const webhookRequests = new Counter({
    name: 'stuckfailed_webhook_requests_total',
    help: 'Alertmanager webhook requests by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of WEBHOOK_OUTCOMES) webhookRequests.inc({ outcome }, 0);
  return {
    registry,
    diagnosisDuration: new Histogram({
      name: 'stuckfailed_diagnosis_duration_seconds',
      help: 'How long a diagnosis took',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    actions: new Counter({
      name: 'stuckfailed_actions_total',
      help: 'Actions on the cluster by kind and outcome (one per target, as journaled)',
      labelNames: ['action', 'outcome'],
      registers: [registry],
    }),
    webhookRequests,
    otherAlerts: new Counter({
      name: 'stuckfailed_other_alerts_total',
      help: 'Webhook notifications without a VirtLauncherPodsStuckFailed alert: acknowledged, nothing more',
      registers: [registry],
    }),
    recordDiagnosis(diagnosis) {
      failedLaunchers.reset();
      failedLaunchers.set({ cause: 'all' }, diagnosis.failedLaunchers);
      for (const cause of diagnosis.causes) failedLaunchers.set({ cause: cause.category }, cause.pods);
    },
  };
}
