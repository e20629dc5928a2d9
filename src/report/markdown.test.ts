import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Diagnosis } from '../diagnosis/types.js';
import { codeSpan, escapeMarkdown, renderMarkdown } from './markdown.js';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

/** GFM splits a table row on pipes that are not backslash-escaped. */
function cellCount(row: string): number {
  return row.split(/(?<!\\)\|/).length - 2;
}

describe('renderMarkdown', () => {
  it('states the verdict and ranks the causes in a table, in order', () => {
    const output = renderMarkdown(fixture());
    assert.match(
      output,
      /^\*\*FIRING\*\*: 412 Failed virt-launcher pods \\>= threshold 200 \(condition met\)\.$/m,
    );
    assert.match(output, /^\| 1 \| migration \| 236 \| 57% \| 0\.90 \|$/m);
    assert.match(output, /^\| 2 \| image \| 121 \| 29% \| 0\.80 \|$/m);
    assert.match(output, /^\| 3 \| node \| 55 \| 13% \| 0\.60 \|$/m);
    const headings = output.match(/^### \d\. \S+/gm);
    assert.deepEqual(headings?.slice(0, 3), ['### 1. migration:', '### 2. image:', '### 3. node:']);
  });

  it('keeps every table row to its header width: pipes in messages are escaped', () => {
    const output = renderMarkdown(fixture());
    assert.match(output, /exited with code 1 \\\| migration target of kubevirt-evacuation-8xk2p \|$/m);
    let columns: number | undefined;
    for (const line of output.split('\n')) {
      if (!line.startsWith('|')) {
        columns = undefined;
        continue;
      }
      columns ??= cellCount(line);
      assert.equal(cellCount(line), columns, line);
    }
  });

  it('escapes markup in cluster text: no raw HTML, links or emphasis get through', () => {
    const diagnosis = fixture();
    diagnosis.gatherErrors.push({
      type: 'forbidden',
      message: '<script>alert(1)</script> [click](http://evil) *x*',
    });
    const output = renderMarkdown(diagnosis);
    assert.doesNotMatch(output, /<script>/);
    assert.match(output, /\\<script\\>alert\(1\)\\<\/script\\> \\\[click\\\]\(http:\/\/evil\) \\\*x\\\*/);
  });

  it('writes names as code spans that survive backticks and pipes', () => {
    assert.equal(codeSpan('vm-prod/db-01'), '`vm-prod/db-01`');
    assert.equal(codeSpan('a`b'), '``a`b``');
    assert.equal(codeSpan('`x`'), '`` `x` ``');
    assert.equal(codeSpan('a|b'), '`a\\|b`');
    assert.equal(escapeMarkdown('a_b*c\nd'), 'a\\_b\\*c d');
    const diagnosis = fixture();
    diagnosis.byNamespace = [{ key: 'ns```x', count: 412 }];
    const output = renderMarkdown(diagnosis);
    assert.match(output, /^\| ````ns```x```` \| 412 \|$/m);
    // The next-steps block is fenced longer than any backtick run in the commands it holds.
    // In the commands the hostile name is single-quoted: pasted, its backticks run nothing.
    assert.match(
      output,
      /^````sh\n# first: save the evidence[\s\S]*^stuckfailed clean -n 'ns```x' --yes\n[\s\S]*^````$/m,
    );
  });

  it('has the breakdowns, migration storm, control plane upgrade, warnings and next steps', () => {
    const output = renderMarkdown(fixture());
    for (const heading of [
      '## Causes',
      '### By namespace',
      '### By node',
      '### By reason',
      '## Migrations',
      '## Control plane',
      '## Warnings: partial data',
      '## Next steps',
    ]) {
      assert.ok(output.includes(`\n${heading}\n`), heading);
    }
    assert.match(output, /^\| `worker-07\.ocp\.example\.com` \| 143 \|$/m);
    assert.match(output, /^9 in flight, 318 failed: \*\*migration storm\*\*\.$/m);
    assert.match(output, /^KubeVirt in `openshift-cnv`, version `v1\.5\.2`, upgrading to `v1\.6\.0`\.$/m);
    assert.match(output, /^- \*\*prometheus\*\*: GET https:/m);
    const next = output.slice(output.indexOf('## Next steps'));
    assert.match(
      next,
      /^```sh\n# first: save the evidence[^\n]*\nstuckfailed diagnose -A --bundle incident\.tar\.gz\n/m,
    );
    assert.match(
      next,
      /^# stop the loop: cancel the in-flight migrations[^\n]*\nstuckfailed cancel-migrations --looping -A\n/m,
    );
    assert.match(next, /^stuckfailed clean -A --yes\nstuckfailed validate|^stuckfailed clean -A --yes\n#/m);
    assert.match(
      next,
      /^```promql\n# the alert's count as Prometheus sees it, which must fall below 200 and stay there\ncluster:kubevirt_virt_launcher_failed:count\n```$/m,
    );
    assert.match(next, /^```sh\n[\s\S]*^stuckfailed diagnose -A\n```\n$/m);
    assert.doesNotMatch(next, /kubectl/);
  });

  it("states Prometheus's view under the verdict, with a warning when its count disagrees", () => {
    const output = renderMarkdown(withPrometheus(fixture(), { failedLaunchers: 240 }));
    assert.match(
      output,
      /condition met\)\.\n\nPrometheus: alert firing since 2026-11-23T21:10:00Z; 240 Failed launchers \(recording rule\)\.\n\n> \*\*Warning:\*\* Prometheus counts 240, the API 412 \(42% apart\)/,
    );
    // PromQL in the warning is escaped like any text: its `*` and `~` start no emphasis or strikethrough.
    assert.ok(output.includes('up{job=\\~".\\*kube-state-metrics.\\*"}'));
    assert.doesNotMatch(renderMarkdown(withPrometheus(fixture())), /Warning:\*\*/);
    assert.doesNotMatch(renderMarkdown(fixture()), /Prometheus:/);
  });
});
