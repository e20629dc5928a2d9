import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildProgram } from '../cli/main.js';
import { memoryIo } from '../cli/memory-io.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import {
  languageRuns,
  MITIGATION_COMMANDS,
  type NextStep,
  nextStepsFor,
  prometheusViewOf,
  shellWord,
} from './report-view.js';
import { diagnosisSchema } from './schema.js';
import { renderText } from './text.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

describe('nextStepsFor', () => {
  it("keeps the evidence, then stuckfailed's own commands in the runbook's order, with the scope filled in", () => {
    const commands = nextStepsFor(fixture()).map((step) => `${step.language}: ${step.command}`);
    assert.deepEqual(commands, [
      'sh: stuckfailed diagnose -A --bundle incident.tar.gz',
      'sh: stuckfailed mitigate -A',
      'sh: stuckfailed cancel-migrations --looping -A',
      'sh: stuckfailed clean -A --yes',
      'sh: stuckfailed validate',
      'promql: cluster:kubevirt_virt_launcher_failed:count',
      'sh: stuckfailed diagnose -A',
    ]);
  });

  it('scopes the commands to the one namespace when every failure is there', () => {
    const diagnosis = fixture();
    diagnosis.byNamespace = [{ key: 'vm-prod', count: diagnosis.failedLaunchers }];
    const commands = nextStepsFor(diagnosis).map((step) => step.command);
    assert.ok(commands.includes('stuckfailed mitigate -n vm-prod'));
    assert.ok(commands.includes('stuckfailed clean -n vm-prod --yes'));
    assert.ok(commands.includes('stuckfailed cancel-migrations --looping -n vm-prod'));
    diagnosis.byNamespace = [{ key: "it's", count: diagnosis.failedLaunchers }];
    assert.ok(
      nextStepsFor(diagnosis).some((step) => step.command === "stuckfailed clean -n 'it'\\''s' --yes"),
    );
  });

  it("keeps diagnose's own -n and -l: clean and mitigate act on no more than was diagnosed", () => {
    const diagnosis = fixture();
    diagnosis.scope = { namespace: 'web-vms', labelSelector: 'vm.kubevirt.io/name=db' };
    const commands = nextStepsFor(diagnosis).map((step) => step.command);
    assert.ok(
      commands.includes('stuckfailed clean -n web-vms -l vm.kubevirt.io/name=db --yes'),
      commands.join('\n'),
    );
    assert.ok(commands.includes('stuckfailed mitigate -n web-vms -l vm.kubevirt.io/name=db'));
    assert.ok(commands.includes('stuckfailed diagnose -n web-vms -l vm.kubevirt.io/name=db'));
    // cancel-migrations' -l selects vmims, not pods: the namespace alone.
    assert.ok(commands.includes('stuckfailed cancel-migrations --looping -n web-vms'));
    // A namespace that no longer holds failures (cleaned already) is still the scope, never -A.
    const cleaned = fixture();
    cleaned.scope = { namespace: 'web-vms' };
    cleaned.byNamespace = [];
    assert.ok(
      nextStepsFor(cleaned).every((step) => !/ -A\b/.test(step.command)),
      nextStepsFor(cleaned)
        .map((step) => step.command)
        .join('\n'),
    );
    // A selector the shell would split is quoted.
    const quoted = fixture();
    quoted.scope = { labelSelector: 'tier in (db,cache)' };
    assert.ok(
      nextStepsFor(quoted).some(
        (step) => step.command === "stuckfailed clean -A -l 'tier in (db,cache)' --yes",
      ),
    );
  });

  it('never deletes every vmim, nor anything with kubectl, and says how many launchers clean removes', () => {
    const steps = nextStepsFor(fixture());
    for (const step of steps) {
      assert.doesNotMatch(step.command, /kubectl|delete vmim|-o name/, step.command);
    }
    assert.equal(
      steps.find((step) => step.command.startsWith('stuckfailed clean'))?.why,
      'delete the 412 Failed launchers, each archived with its events first (./stuckfailed-archive-<time>)',
    );
    assert.match(
      steps.find((step) => step.command.startsWith('stuckfailed cancel-migrations'))?.why ?? '',
      /in-flight migrations \(of 9\) of the VMIs in a migration loop \(most failed: vm-prod\/db-01, vm-prod\/db-02, vm-staging\/web-3\)/,
    );
  });

  it('cancels migrations only when some are in flight and they matter (a storm or a migration cause)', () => {
    const cancels = (diagnosis: Diagnosis) =>
      nextStepsFor(diagnosis).filter((step) => step.command.startsWith('stuckfailed cancel-migrations'))
        .length;
    assert.equal(cancels(fixture()), 1);
    const nothingInFlight = fixture();
    nothingInFlight.migrations.inFlight = 0;
    assert.equal(cancels(nothingInFlight), 0);
    const calm = fixture();
    calm.migrations.storm = false;
    calm.causes = calm.causes.filter((cause) => cause.category !== 'migration');
    assert.equal(cancels(calm), 0);
  });

  it('suggests nothing when no launcher failed', () => {
    const diagnosis = fixture();
    diagnosis.failedLaunchers = 0;
    diagnosis.byNamespace = [];
    diagnosis.migrations = { inFlight: 0, failed: 0, storm: false, topVMIs: [] };
    assert.deepEqual(nextStepsFor(diagnosis), []);
  });

  it('names only stuckfailed commands that are registered', async () => {
    const registered = (await buildProgram({ io: memoryIo().io, setExitCode: () => {} })).commands.map(
      (command) => command.name(),
    );
    const diagnosis = fixture();
    const commands = [
      ...nextStepsFor(diagnosis),
      ...Object.values(MITIGATION_COMMANDS).map((build) => ({ command: build('-n ns'), language: 'sh' })),
    ]
      .filter((step) => step.language === 'sh')
      // Every command of a pipeline, as a shell would run it.
      .flatMap((step) => step.command.split(/\s*\|\s*/));
    const ours = commands.filter((command) => command.startsWith('stuckfailed '));
    assert.ok(ours.length > 0);
    for (const command of ours) {
      const [, subcommand] = command.split(' ');
      assert.ok(registered.includes(subcommand ?? ''), `${command}: not one of ${registered.join(', ')}`);
    }
  });
});

describe('shellWord', () => {
  it('leaves Kubernetes names as they are and quotes anything a shell would interpret', () => {
    assert.equal(shellWord('vm-prod'), 'vm-prod');
    assert.equal(shellWord('kubevirt.io/vmi-name=db-01'), 'kubevirt.io/vmi-name=db-01');
    assert.equal(shellWord('ns`id`'), "'ns`id`'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
  });

  it('means the same text to a real shell', () => {
    for (const text of ['vm-prod', 'ns```x', "a'b", 'a b', '$(touch /tmp/pwned)', '"x"\\n', '*']) {
      const echoed = execFileSync('sh', ['-c', `printf '%s' ${shellWord(text)}`], { encoding: 'utf8' });
      assert.equal(echoed, text);
    }
  });
});

describe('languageRuns', () => {
  it('groups consecutive steps of the same language, in order', () => {
    const step = (command: string, language: NextStep['language']): NextStep => ({
      command,
      why: '',
      language,
    });
    const runs = languageRuns([step('a', 'sh'), step('b', 'sh'), step('q', 'promql'), step('c', 'sh')]);
    assert.deepEqual(
      runs.map((run) => [run.language, run.steps.map((s) => s.command).join('')]),
      [
        ['sh', 'ab'],
        ['promql', 'q'],
        ['sh', 'c'],
      ],
    );
  });
});

describe('prometheusViewOf', () => {
  const summary = (overrides: Parameters<typeof withPrometheus>[1]) => {
    const prometheus = withPrometheus(fixture(), overrides).prometheus;
    assert.ok(prometheus);
    return prometheus;
  };

  it('says the alert state, since when, the count and where it came from', () => {
    assert.deepEqual(prometheusViewOf(summary({ failedLaunchers: 412 }), 412), {
      line: 'Prometheus: alert firing since 2026-11-23T21:10:00Z; 412 Failed launchers (recording rule)',
    });
    assert.equal(
      prometheusViewOf(summary({ alert: { state: 'pending', activeAt: '2026-11-23T21:40:00Z' } }), 412).line,
      'Prometheus: alert pending since 2026-11-23T21:40:00Z; 412 Failed launchers (recording rule)',
    );
    assert.equal(
      prometheusViewOf(
        summary({
          alert: { state: 'inactive' },
          failedLaunchers: 1,
          source: 'expression',
          namespace: 'vm-prod',
        }),
        1,
      ).line,
      'Prometheus: alert inactive; 1 Failed launcher in vm-prod (expression: rules not installed)',
    );
  });

  it('tolerates the drift of scrape timing, and warns beyond 5% and 2 pods', () => {
    // 412 vs 400: 2.9% apart, one scrape behind.
    assert.equal(prometheusViewOf(summary({ failedLaunchers: 400 }), 412).disagreement, undefined);
    // 2 pods apart is 100% of 2, but only two pods.
    assert.equal(prometheusViewOf(summary({ failedLaunchers: 2 }), 0).disagreement, undefined);
    const stale = prometheusViewOf(summary({ failedLaunchers: 500 }), 412).disagreement;
    assert.match(
      stale ?? '',
      /^Prometheus counts 500, the API 412 \(18% apart\): kube-state-metrics may be stale/,
    );
    const gap = prometheusViewOf(summary({ failedLaunchers: 0 }), 412).disagreement;
    assert.match(gap ?? '', /^Prometheus counts 0, the API 412 \(100% apart\)/);
  });
});

describe('measured vs inferred, in every format', () => {
  const inferred = (): Diagnosis => ({
    ...fixture(),
    attribution: { fromOwnEvidence: 112, inferred: 300 },
  });

  it('says in one line, in text, Markdown and HTML, how many causes are inferred', () => {
    const line = /the causes of 300 of 412 Failed launchers are inferred, not measured/;
    assert.match(renderText(inferred(), { color: false, width: 400 }), line);
    assert.match(renderMarkdown(inferred()), line);
    assert.match(renderHtml(inferred()), line);
    assert.equal(JSON.parse(renderJson(inferred())).attribution.inferred, 300);
  });

  it('says nothing of estimates when every cause is measured', () => {
    for (const rendered of [
      renderText(fixture(), { color: false }),
      renderMarkdown(fixture()),
      renderHtml(fixture()),
    ]) {
      assert.doesNotMatch(rendered, /inferred, not measured/);
    }
  });
});

describe('the alert in the verdict', () => {
  it('shows the state, since when and where it comes from, with PENDING while it has not held 10 minutes', () => {
    const pending: Diagnosis = {
      ...fixture(),
      alert: {
        state: 'pending',
        since: '2026-11-23T21:40:00.000Z',
        source: 'api-estimate',
        scope: 'cluster',
      },
    };
    const text = renderText(pending, { color: false, width: 200 });
    assert.match(text, /^VirtLauncherPodsStuckFailed {2}PENDING\n/);
    assert.match(
      text,
      /Alert pending: condition met since 2026-11-23T21:40:00.000Z; it fires once the condition has held 10 minutes \(estimated from the API: a lower bound\)/,
    );
    assert.match(renderHtml(pending), /<span class="badge">PENDING<\/span>/);
    assert.match(renderMarkdown(pending), /^\*\*pending\*\*: /m);
  });

  it("with -n, says the alert is cluster-wide and shows the namespace's share when Prometheus knows the total", () => {
    const scoped = withPrometheus(
      { ...fixture(), failedLaunchers: 100 },
      {
        failedLaunchers: 100,
        namespace: 'vm-prod',
        trend: [{ time: '2026-11-23T21:45:00Z', value: 400 }],
      },
    );
    assert.match(
      renderText(scoped, { color: false, width: 300 }),
      /The alert is cluster-wide: namespace vm-prod holds 100 Failed launchers of the cluster's 400 \(25%\)/,
    );
    const apiOnly: Diagnosis = {
      ...fixture(),
      failedLaunchers: 268,
      byNamespace: [{ key: 'vm-prod', count: 268 }],
      alert: {
        state: 'firing',
        since: '2026-11-23T21:12:40.000Z',
        source: 'api-estimate',
        scope: 'namespace',
      },
    };
    assert.match(
      renderMarkdown(apiOnly),
      /The alert is cluster-wide, but this diagnosis counts namespace vm-prod alone \(268 Failed launchers\)/,
    );
  });
});

describe('the timeline in the HTML report', () => {
  it('draws one bar per bucket, proportional to its count, and lists the marks under the chart', () => {
    const html = renderHtml(fixture());
    const buckets = [...html.matchAll(/<g class="bucket" data-start="([^"]+)" data-count="(\d+)">/g)];
    assert.deepEqual(
      buckets.map((match) => Number(match[2])),
      fixture().timeline.map((bucket) => bucket.count),
    );
    assert.equal([...html.matchAll(/<g class="mark" data-kind=/g)].length, 2);
    assert.match(
      html,
      /<li><code>2026-11-23T21:06:02Z<\/code> KubeVirt upgrade from v1\.5\.2 to v1\.6\.0 started<\/li>/,
    );
  });
});
