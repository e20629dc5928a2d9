import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import {
  allRules,
  DEFAULT_RULE_FILE_PATH,
  isAlertingRule,
  loadRuleFile,
  parseRuleFile,
} from './rule-file.js';

function isInputError(pattern: RegExp) {
  return (error: unknown) =>
    error instanceof StuckfailedError && error.code === 'INPUT' && pattern.test(error.message);
}

describe('the rule file', () => {
  it('is found beside the package, two levels above this module (src/rules under tsx, dist/bin once bundled)', () => {
    assert.ok(DEFAULT_RULE_FILE_PATH.endsWith('/rules/stuckfailed.rules.yaml'));
    assert.ok(existsSync(DEFAULT_RULE_FILE_PATH));
  });

  it('loads and validates the shipped rules', async () => {
    const loaded = await loadRuleFile();
    const names = allRules(loaded.rules).map((rule) => (isAlertingRule(rule) ? rule.alert : rule.record));
    assert.deepEqual(names, [
      'cluster:kubevirt_virt_launcher_failed:count',
      'VirtLauncherPodsStuckFailed',
      'VirtLauncherPodsStuckFailedPredicted',
      'namespace:kubevirt_virt_launcher_failed:count',
      'node:kubevirt_virt_launcher_failed:count',
      'reason:kubevirt_virt_launcher_failed:count',
    ]);
  });

  it('rejects a misspelt key instead of ignoring it', () => {
    const text =
      'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        anotations: {summary: s}\n';
    assert.throws(
      () => parseRuleFile(text, 'typo.yaml'),
      isInputError(/typo\.yaml is not a Prometheus rule file/),
    );
  });

  it('rejects a bad duration and broken YAML', () => {
    const badFor =
      'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: ten minutes\n';
    assert.throws(() => parseRuleFile(badFor, 'for.yaml'), isInputError(/Prometheus duration/));
    assert.throws(
      () => parseRuleFile('groups: [', 'broken.yaml'),
      isInputError(/broken\.yaml is not valid YAML/),
    );
  });

  it('reports an unreadable file as an input error naming it', async () => {
    await assert.rejects(
      loadRuleFile({ path: '/nonexistent/rules.yaml' }),
      isInputError(/cannot read the rule file \/nonexistent\/rules\.yaml/),
    );
  });
});
