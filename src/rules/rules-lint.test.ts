import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { LAUNCHER_QUERIES } from '../prometheus/queries.js';
import {
  type AlertingRule,
  allRules,
  isAlertingRule,
  isRecordingRule,
  loadRuleFile,
  type RuleFile,
} from './rule-file.js';
import { RUNBOOK_URL_PRESETS, runbookNameFromUrl } from './runbook-url.js';

// The lint KubeVirt runs over its own rules (pkg/monitoring/rules and hack/prom-rule-ci), applied to ours: a page
// without a runbook, a severity or the operator labels is a page that the routing and the on-call cannot act on.

const REQUIRED_LABELS = [
  'severity',
  'operator_health_impact',
  'kubernetes_operator_part_of',
  'kubernetes_operator_component',
] as const;
const REQUIRED_ANNOTATIONS = ['summary', 'description', 'runbook_url'] as const;

// https://prometheus.io/docs/practices/rules/#naming-and-aggregation: level:metric:operations.
const RECORDING_RULE_NAME = /^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$/;

function normalizePromql(expr: string): string {
  return expr.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim();
}

describe('rules lint', () => {
  let rules: RuleFile;
  let alerts: AlertingRule[];
  before(async () => {
    rules = (await loadRuleFile()).rules;
    alerts = allRules(rules).filter(isAlertingRule);
  });

  it('has the alert and its early warning', () => {
    assert.deepEqual(
      alerts.map((alert) => alert.alert),
      ['VirtLauncherPodsStuckFailed', 'VirtLauncherPodsStuckFailedPredicted'],
    );
  });

  it('gives every alert severity, operator health impact and the operator labels', () => {
    for (const alert of alerts) {
      for (const name of REQUIRED_LABELS) {
        assert.ok(alert.labels?.[name], `${alert.alert} lacks label ${name}`);
      }
      assert.match(alert.labels?.severity ?? '', /^(critical|warning|info)$/, `${alert.alert} severity`);
      assert.match(
        alert.labels?.operator_health_impact ?? '',
        /^(critical|warning|none)$/,
        `${alert.alert} impact`,
      );
      assert.equal(alert.labels?.kubernetes_operator_part_of, 'kubevirt', `${alert.alert} part_of`);
    }
  });

  it('gives every alert a summary, a description and a runbook URL built from the upstream template', () => {
    for (const alert of alerts) {
      for (const name of REQUIRED_ANNOTATIONS) {
        assert.ok(alert.annotations?.[name]?.trim(), `${alert.alert} lacks annotation ${name}`);
      }
      const runbook = runbookNameFromUrl(RUNBOOK_URL_PRESETS.upstream, alert.annotations?.runbook_url ?? '');
      assert.ok(
        runbook,
        `${alert.alert}: runbook_url must follow ${RUNBOOK_URL_PRESETS.upstream} (no .html suffix)`,
      );
    }
  });

  it('keeps upstream semantics for VirtLauncherPodsStuckFailed: cluster-wide, >= 200, for 10m, critical', () => {
    const alert = alerts.find((candidate) => candidate.alert === 'VirtLauncherPodsStuckFailed');
    assert.equal(alert?.expr.trim(), 'cluster:kubevirt_virt_launcher_failed:count >= 200');
    assert.equal(alert?.for, '10m');
    assert.equal(alert?.labels?.severity, 'critical');
    assert.equal(
      alert?.annotations?.summary,
      'At least 200 virt-launcher pods are stuck in Failed state and not deleted for 10 minutes.',
    );
  });

  it('puts the description of every alert to use: it quotes the value', () => {
    for (const alert of alerts) assert.match(alert.annotations?.description ?? '', /\$value/, alert.alert);
  });

  it('names every recording rule level:metric:operations', () => {
    for (const rule of allRules(rules).filter(isRecordingRule)) {
      assert.match(rule.record, RECORDING_RULE_NAME, rule.record);
    }
  });

  it('records exactly the expressions src/prometheus/queries.ts falls back to (the queries live once)', () => {
    const recorded = new Map(
      allRules(rules)
        .filter(isRecordingRule)
        .map((rule) => [rule.record, rule.expr]),
    );
    assert.deepEqual([...recorded.keys()].sort(), LAUNCHER_QUERIES.map((query) => query.record).sort());
    for (const query of LAUNCHER_QUERIES) {
      assert.equal(
        normalizePromql(recorded.get(query.record) ?? ''),
        normalizePromql(query.expr),
        query.record,
      );
    }
  });
});
