// Alertmanager's webhook body, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config),
// validated at the edge: everything past this point trusts its shape. Unknown fields are kept out, not refused, so a
// newer Alertmanager that adds one still gets through.
import { z } from 'zod';
import { ALERT_NAME } from '../prometheus/queries.js';

/** Label and annotation values are short in practice; the cap keeps one body from filling an incident file. */
const MAX_VALUE = 8_192;
const labels = z.record(z.string().max(256), z.string().max(MAX_VALUE));
const status = z.enum(['firing', 'resolved']);

const alertSchema = z.object({
  status,
  labels,
  annotations: labels,
  startsAt: z.string().max(64),
  endsAt: z.string().max(64),
  generatorURL: z.string().max(MAX_VALUE),
  fingerprint: z.string().max(64),
});

export const webhookSchema = z.object({
  version: z.literal('4'),
  groupKey: z.string().min(1).max(MAX_VALUE),
  truncatedAlerts: z.number().int().nonnegative(),
  status,
  receiver: z.string().max(MAX_VALUE),
  groupLabels: labels,
  commonLabels: labels,
  commonAnnotations: labels,
  externalURL: z.string().max(MAX_VALUE),
  alerts: z.array(alertSchema).max(10_000),
});

export type AlertmanagerWebhook = z.infer<typeof webhookSchema>;
export type AlertmanagerAlert = z.infer<typeof alertSchema>;

/** The first problems, each naming its field (`alerts.0.status: ...`), for a 400 a person can act on. */
export function describeWebhookError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      return `${field === '' ? 'body' : field}: ${issue.message}`;
    })
    .join('; ');
}

/** The alerts of the body that are ours; the group may hold others when Alertmanager groups by other labels. */
export function ourAlerts(body: AlertmanagerWebhook): AlertmanagerAlert[] {
  return body.alerts.filter((alert) => alert.labels.alertname === ALERT_NAME);
}
