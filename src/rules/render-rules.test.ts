import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Command, CommanderError } from 'commander';
import { parse } from 'yaml';
import { memoryIo } from '../cli/memory-io.js';
import { registerRulesCommand } from '../cli/rules.js';
import { StuckfailedError } from '../errors.js';
import { buildPrometheusRule, renderPrometheusRule, renderRuleFile } from './render-rules.js';
import { allRules, isAlertingRule, type LoadedRuleFile, loadRuleFile, parseRuleFile } from './rule-file.js';
import { RUNBOOK_URL_PRESETS } from './runbook-url.js';

const OPENSHIFT_URL =
  'https://github.com/openshift/runbooks/blob/master/alerts/openshift-virtualization-operator/VirtLauncherPodsStuckFailed.md';

function runbookUrls(text: string): string[] {
  return allRules(parseRuleFile(text, 'rendered'))
    .filter(isAlertingRule)
    .map((rule) => rule.annotations?.runbook_url ?? '');
}

/** The rules command alone on a bare program (main.ts's error handling is tested in src/cli/main.test.ts). */
async function runCli(argv: string[]): Promise<{ out: string; err: string; error: unknown }> {
  const memory = memoryIo();
  const { io } = memory;
  const program = new Command('stuckfailed').exitOverride();
  registerRulesCommand(program, { io, setExitCode: () => {} });
  for (const command of program.commands) {
    command.exitOverride().configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  }
  let error: unknown;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (caught) {
    error = caught;
  }
  return { out: memory.stdout(), err: memory.stderr(), error };
}

describe('rendering the rules', () => {
  let loaded: LoadedRuleFile;
  before(async () => {
    loaded = await loadRuleFile();
  });

  it('-o prometheus with the upstream template is the shipped file, byte for byte', () => {
    assert.equal(renderRuleFile(loaded, { runbookUrlTemplate: RUNBOOK_URL_PRESETS.upstream }), loaded.text);
  });

  it('-o prometheus with the OpenShift template changes the runbook URLs and nothing else', () => {
    const rendered = renderRuleFile(loaded, { runbookUrlTemplate: RUNBOOK_URL_PRESETS.openshift });
    assert.deepEqual(runbookUrls(rendered), [OPENSHIFT_URL, OPENSHIFT_URL]);
    const changed = rendered.split('\n').filter((line, index) => line !== loaded.text.split('\n')[index]);
    assert.deepEqual(changed, [
      `          runbook_url: ${OPENSHIFT_URL}`,
      `          runbook_url: ${OPENSHIFT_URL}`,
    ]);
  });

  it('quotes a template URL that plain YAML could not carry', () => {
    const rendered = renderRuleFile(loaded, { runbookUrlTemplate: 'https://wiki.example/runbooks #%s' });
    assert.deepEqual(runbookUrls(rendered), [
      'https://wiki.example/runbooks #VirtLauncherPodsStuckFailed',
      'https://wiki.example/runbooks #VirtLauncherPodsStuckFailed',
    ]);
  });

  it('-o prometheusrule wraps the same groups in a monitoring.coreos.com/v1 PrometheusRule', () => {
    const manifest = parse(
      renderPrometheusRule(loaded.rules, {
        name: 'stuckfailed',
        namespace: 'monitoring',
        labels: { release: 'kube-prometheus-stack' },
        runbookUrlTemplate: RUNBOOK_URL_PRESETS.upstream,
      }),
    );
    assert.deepEqual(manifest, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'stuckfailed',
        namespace: 'monitoring',
        labels: { release: 'kube-prometheus-stack' },
      },
      spec: loaded.rules,
    });
  });

  it('leaves namespace and labels out when none are given, and does not touch its input', () => {
    const before = structuredClone(loaded.rules);
    const manifest = buildPrometheusRule(loaded.rules, {
      name: 'x',
      labels: {},
      runbookUrlTemplate: RUNBOOK_URL_PRESETS.openshift,
    });
    assert.deepEqual(manifest.metadata, { name: 'x' });
    assert.deepEqual(loaded.rules, before);
    assert.deepEqual(
      allRules(manifest.spec)
        .filter(isAlertingRule)
        .map((rule) => rule.annotations?.runbook_url),
      [OPENSHIFT_URL, OPENSHIFT_URL],
    );
  });
});

describe('stuckfailed rules', () => {
  it('prints the rule file by default', async () => {
    const { error, out } = await runCli(['rules']);
    assert.equal(error, undefined);
    assert.equal(out, (await loadRuleFile()).text);
  });

  it('prints a PrometheusRule with --name, -n and repeated --label, and the OpenShift runbooks', async () => {
    const { error, out } = await runCli([
      'rules',
      '-o',
      'prometheusrule',
      '--name',
      'kubevirt-stuckfailed',
      '-n',
      'openshift-cnv',
      '--label',
      'app.kubernetes.io/part-of=stuckfailed',
      '--label',
      'team=',
      '--runbook-url-template',
      'openshift',
    ]);
    assert.equal(error, undefined);
    const manifest = parse(out);
    assert.deepEqual(manifest.metadata, {
      name: 'kubevirt-stuckfailed',
      namespace: 'openshift-cnv',
      labels: { 'app.kubernetes.io/part-of': 'stuckfailed', team: '' },
    });
    assert.deepEqual(runbookUrls(JSON.stringify(manifest.spec)), [OPENSHIFT_URL, OPENSHIFT_URL]);
  });

  it('refuses a bad template as a usage error, a bad label and an unknown format as commander errors', async () => {
    const template = await runCli(['rules', '--runbook-url-template', 'https://x/%s/%s']);
    assert.ok(template.error instanceof StuckfailedError && template.error.code === 'USAGE');
    assert.match(template.error.message, /exactly one %s/);
    const label = await runCli(['rules', '--label', 'no-equals-sign']);
    assert.ok(label.error instanceof CommanderError);
    assert.match(label.err, /expected key=value/);
    const format = await runCli(['rules', '-o', 'json']);
    assert.ok(format.error instanceof CommanderError);
    assert.match(format.err, /prometheus, prometheusrule/);
    assert.equal(format.out, '');
  });
});
