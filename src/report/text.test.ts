import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import type { Diagnosis } from '../diagnosis/types.js';
import { buildReportView } from './report-view.js';
import { diagnosisSchema } from './schema.js';
import { renderText, shellWords, wrapCommand } from './text.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for ANSI escape sequences
const ANSI = /\u001b\[/;

describe('renderText', () => {
  it('leads with the verdict: count against threshold', () => {
    const [first, second] = renderText(fixture(), { color: false }).split('\n');
    assert.equal(first, 'VirtLauncherPodsStuckFailed  FIRING');
    assert.equal(second, '412 Failed virt-launcher pods >= threshold 200 (condition met)');
  });

  it('lists the causes in rank order with pods, share and confidence', () => {
    const output = renderText(fixture(), { color: false });
    assert.match(output, /^ {2}1\. migration {2}236 pods \(57%\) {2}confidence 0\.90$/m);
    assert.match(output, /^ {2}2\. image {2}121 pods \(29%\) {2}confidence 0\.80$/m);
    assert.match(output, /^ {2}3\. node {2}55 pods \(13%\) {2}confidence 0\.60$/m);
    assert.ok(output.indexOf('1. migration') < output.indexOf('2. image'));
    assert.ok(output.indexOf('2. image') < output.indexOf('3. node'));
  });

  it('shows at most 3 evidence rows per cause and says how many more there are', () => {
    const output = renderText(fixture(), { color: false });
    assert.match(output, /• FailedMigration +vmim vm-prod\/kubevirt-evacuation-8xk2p/);
    assert.match(output, /• MigrationBackoff +vmi vm-prod\/db-01/);
    // The fourth piece of migration evidence is left to -o json.
    assert.doesNotMatch(output, /virt-launcher-web-3-pq9zt/);
    assert.match(output, /\(\+1 more evidence in -o json\)/);
  });

  it('keeps the end of a long message, where the actual error is', () => {
    const output = renderText(fixture(), { color: false });
    assert.match(output, /Failed to pull image .*….*401 Unauthorized$/m);
  });

  it('fits every line in the width it is given, but for a command word that cannot be split', () => {
    for (const width of [80, 100, 140]) {
      const lines = renderText(fixture(), { color: false, width }).split('\n');
      // A shell word (an awk program, a custom-columns spec) broken in two would break the command.
      const tooLong = lines.filter(
        (line) =>
          line.length > width &&
          !(line.startsWith('      ') && shellWords(line.replace(/( \|)?( \\)?$/, '')).length <= 2),
      );
      assert.deepEqual(tooLong, [], `width ${width}`);
    }
    const wide = renderText(fixture(), { color: false, width: 140 }).split('\n');
    assert.deepEqual(
      wide.filter((line) => line.length > 140),
      [],
    );
  });

  it('ends with a newline, so a following stderr line starts on its own', () => {
    assert.ok(renderText(fixture(), { color: false }).endsWith('the causes should be gone\n'));
  });

  it('wraps commands between shell words with a backslash: pasted, they are the commands of the view', () => {
    for (const width of [80, 100]) {
      const output = renderText(fixture(), { color: false, width });
      const next = output.slice(output.indexOf('\nNext\n') + '\nNext\n'.length);
      const commands = next
        .replace(/ \\\n {6}/g, ' ')
        .split('\n')
        .filter((line) => line.startsWith('  $ '))
        .map((line) => line.slice('  $ '.length));
      const expected = buildReportView(fixture())
        .nextSteps.filter((step) => step.language === 'sh')
        .map((step) => step.command);
      assert.deepEqual(commands, expected, `width ${width}`);
    }
  });

  it('never breaks inside quotes, nor between a flag and its value', () => {
    const command = `kubectl get vmim -n vm-prod -o custom-columns=A:.a,B:.b | awk '$2 !~ /x/ {print "a b", $1}'`;
    const lines = wrapCommand(command, 40, '  $ ', '      ');
    assert.deepEqual(lines, [
      '  $ kubectl get vmim -n vm-prod \\',
      '      -o custom-columns=A:.a,B:.b | \\',
      `      awk '$2 !~ /x/ {print "a b", $1}'`,
    ]);
    assert.deepEqual(shellWords(`a 'b c'\\'' d' "e f" g\\ h`), [`a`, `'b c'\\'' d'`, `"e f"`, `g\\ h`]);
  });

  it('shows breakdowns, migrations, control plane, warnings and the next commands', () => {
    const output = renderText(fixture(), { color: false });
    assert.match(output, /^ {2}namespaces +nodes +reasons$/m);
    assert.match(output, /^ {2}vm-prod 268 +worker-07\.ocp\.example\.com 143 +Error 236$/m);
    assert.match(output, /^Migrations {2}9 in flight, 318 failed {2}STORM$/m);
    assert.match(output, /^ {2}vm-prod\/db-01 +41 migrations +38 failed launchers$/m);
    assert.match(output, /^Control plane {2}openshift-cnv v1\.5\.2 → v1\.6\.0 \(upgrade in flight\)$/m);
    assert.match(
      output,
      /^ {2}1289× +virt-handler +error +Synchronizing the VirtualMachineInstance failed\.$/m,
    );
    assert.match(output, /^Warnings: partial data \(2\)$/m);
    assert.match(output, /^ {2}! forbidden: nodes is forbidden/m);
    const next = output.slice(output.indexOf('\nNext\n'));
    // The runbook's order: keep the evidence, stop the migrations, clean, then validate.
    const order = [
      '$ stuckfailed diagnose -A --bundle incident.tar.gz',
      '$ stuckfailed mitigate -A',
      '$ stuckfailed cancel-migrations --looping -A',
      '$ stuckfailed clean -A --yes',
      '$ stuckfailed validate',
      'PromQL: cluster:kubevirt_virt_launcher_failed:count',
      '$ stuckfailed diagnose -A\n',
    ].map((text) => next.indexOf(text));
    assert.ok(order.every((index) => index > 0));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.match(next, /^ {6}# delete the 412 Failed launchers, each archived with its events first/m);
    assert.doesNotMatch(next, /kubectl/);
  });

  it('scopes the commands to the only namespace when all failures are there', () => {
    const diagnosis = fixture();
    diagnosis.byNamespace = [{ key: 'vm-prod', count: 412 }];
    const output = renderText(diagnosis, { color: false });
    assert.match(output, /^ {2}\$ stuckfailed cancel-migrations --looping -n vm-prod$/m);
    assert.match(output, /^ {2}\$ stuckfailed clean -n vm-prod --yes$/m);
  });

  it('has no ANSI codes without colour, and has them with colour, with the same text', () => {
    const plain = renderText(fixture(), { color: false });
    const coloured = renderText(fixture(), { color: true });
    assert.doesNotMatch(plain, ANSI);
    assert.match(coloured, ANSI);
    assert.equal(stripVTControlCharacters(coloured), plain);
  });

  it('strips control characters from cluster text so a message cannot drive the terminal', () => {
    const diagnosis = fixture();
    const [first] = diagnosis.causes;
    assert.ok(first);
    first.summary = 'evil\u001b[2J\u001b]0;pwned\u0007 summary\r\nsecond line';
    const output = renderText(diagnosis, { color: false });
    assert.doesNotMatch(output, ANSI);
    assert.ok(!output.includes('\u0007') && !output.includes('\r'));
    assert.match(output, /evil \[2J ]0;pwned summary second line/);
  });

  it('says there is nothing to do when nothing failed', () => {
    const diagnosis: Diagnosis = {
      ...fixture(),
      failedLaunchers: 0,
      conditionMet: false,
      byNamespace: [],
      byNode: [],
      byReason: [],
      causes: [],
      migrations: { inFlight: 0, failed: 0, storm: false, topVMIs: [] },
      gatherErrors: [],
    };
    const output = renderText(diagnosis, { color: false });
    assert.match(output, /NOT FIRING\n0 Failed virt-launcher pods < threshold 200 \(condition not met\)/);
    assert.match(output, /none: no Failed launchers/);
    assert.match(output, /nothing to do/);
    assert.doesNotMatch(output, /Warnings/);
    assert.doesNotMatch(output, /stuckfailed (clean|mitigate)/);
  });

  it("puts Prometheus's view right under the verdict, and warns when its count disagrees", () => {
    const [, headline, prometheus, source] = renderText(withPrometheus(fixture()), { color: false }).split(
      '\n',
    );
    assert.equal(headline, '412 Failed virt-launcher pods >= threshold 200 (condition met)');
    assert.equal(
      prometheus,
      'Prometheus: alert firing since 2026-11-23T21:10:00Z; 412 Failed launchers (recording rule)',
    );
    assert.match(source ?? '', /^source api/);
    assert.doesNotMatch(renderText(fixture(), { color: false }), /Prometheus:/);

    const stale = renderText(withPrometheus(fixture(), { failedLaunchers: 240 }), { color: false }).split(
      '\n',
    );
    assert.match(stale[2] ?? '', /240 Failed launchers \(recording rule\)$/);
    assert.match(stale[3] ?? '', /^ {2}! Prometheus counts 240, the API 412 \(42% apart\)/);
  });
});
