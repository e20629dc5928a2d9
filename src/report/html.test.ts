import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Diagnosis } from '../diagnosis/types.js';
import { escapeHtml, renderBarChart, renderHtml } from './html.js';
import { renderJson } from './json.js';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

interface Bar {
  label: string;
  value: number;
  width: number;
}

/** The bars of the chart whose caption is `title`, as drawn. */
function barsOf(html: string, title: string): Bar[] {
  const start = html.indexOf(`<figcaption>${title}</figcaption>`);
  assert.ok(start >= 0, `chart ${title}`);
  const svg = html.slice(start, html.indexOf('</svg>', start));
  return [
    ...svg.matchAll(/<g class="bar" data-label="([^"]*)" data-value="(\d+)">.*?<rect [^>]*width="([\d.]+)"/g),
  ].map((match) => ({ label: match[1] ?? '', value: Number(match[2]), width: Number(match[3]) }));
}

describe('renderHtml', () => {
  it('is one self-contained document: no scripts, no external references, a CSP that forbids loading', () => {
    const html = renderHtml(fixture());
    assert.match(html, /^<!doctype html>/);
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">/,
    );
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
    assert.doesNotMatch(html, /\s(?:src|href|xlink:href|action)=/i);
  });

  it('escapes every cluster-supplied string, hostile or not', () => {
    const diagnosis = fixture();
    const [first] = diagnosis.causes;
    assert.ok(first);
    first.summary = HOSTILE;
    first.evidence[0] = { kind: 'Pod', namespace: 'vm-prod', name: HOSTILE, message: HOSTILE };
    diagnosis.byNamespace[0] = { key: HOSTILE, count: 268 };
    diagnosis.gatherErrors.push({ type: HOSTILE, message: HOSTILE });
    const html = renderHtml(diagnosis);
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'));
    // The namespace chart labels its bar with the escaped name, in text and in the attribute.
    assert.equal(barsOf(html, 'Failed launchers by namespace')[0]?.label, escapeHtml(HOSTILE));
  });

  it('draws bars proportional to the counts, by cause, namespace and node', () => {
    const html = renderHtml(fixture());
    const expected: Record<string, Array<[string, number]>> = {
      'Failed launchers by cause': [
        ['migration', 236],
        ['image', 121],
        ['node', 55],
      ],
      'Failed launchers by namespace': [
        ['vm-prod', 268],
        ['vm-staging', 97],
        ['ci-runners', 41],
        ['tenant-a', 4],
        ['tenant-b', 2],
      ],
      'Failed launchers by node': [
        ['worker-07.ocp.example.com', 143],
        ['worker-03.ocp.example.com', 101],
        ['worker-11.ocp.example.com', 88],
        ['worker-02.ocp.example.com', 80],
      ],
    };
    for (const [title, rows] of Object.entries(expected)) {
      const bars = barsOf(html, title);
      assert.deepEqual(
        bars.map((bar) => [bar.label, bar.value]),
        rows,
        title,
      );
      const [largest] = bars;
      assert.ok(largest && largest.width > 0);
      for (const bar of bars) {
        assert.ok(
          Math.abs(bar.width / largest.width - bar.value / largest.value) < 0.001,
          `${title}: ${bar.label}`,
        );
      }
    }
  });

  it('draws bars of zero width for zero counts and says when a chart has no data', () => {
    const chart = renderBarChart('empty', []);
    assert.match(chart, />no data</);
    const zeros = renderBarChart('zeros', [{ label: 'a', value: 0 }]);
    assert.match(zeros, /width="0\.00"/);
  });

  it("draws the over-time chart from the diagnosis's Prometheus trend, with the threshold line", () => {
    assert.doesNotMatch(renderHtml(fixture()), /over time/);
    const trend = [
      { time: '2026-11-23T21:00:00Z', value: 120 },
      { time: '2026-11-23T21:20:00Z', value: 260 },
      { time: '2026-11-23T21:10:00Z', value: 190 },
      { time: '2026-11-23T21:30:00Z', value: 412 },
    ];
    const html = renderHtml(withPrometheus(fixture(), { trend }));
    assert.match(html, /<figcaption>Failed launchers over time \(Prometheus\)<\/figcaption>/);
    const points = html.match(/<polyline class="trend" fill="none" points="([^"]+)"/)?.[1]?.split(' ') ?? [];
    assert.equal(points.length, 4);
    const xs = points.map((point) => Number(point.split(',')[0]));
    assert.deepEqual(
      xs,
      [...xs].sort((a, b) => a - b),
      'points sorted by time',
    );
    const ys = points.map((point) => Number(point.split(',')[1]));
    // SVG y grows downwards: the largest value is the highest point.
    assert.equal(Math.min(...ys), ys[3]);
    assert.match(
      html,
      /<line class="threshold"[^>]*\/><text class="threshold-label"[^>]*>threshold 200<\/text>/,
    );
  });

  it('re-renders a saved report.json with its chart: the trend travels in the JSON', () => {
    const saved = JSON.parse(
      renderJson(withPrometheus(fixture(), { trend: [{ time: '2026-11-23T21:00:00Z', value: 300 }] })),
    );
    const html = renderHtml(diagnosisSchema.parse(saved));
    assert.match(html, /<polyline class="trend" fill="none" points="[\d.]+,[\d.]+"/);
  });

  it('says what Prometheus counts under the verdict, and warns when it disagrees with the API', () => {
    const agreeing = renderHtml(withPrometheus(fixture(), { failedLaunchers: 410, trend: [] }));
    assert.match(
      agreeing,
      /<div class="prometheus">Prometheus: alert firing since 2026-11-23T21:10:00Z; 410 Failed launchers \(recording rule\)<\/div>/,
    );
    assert.match(agreeing, /no trend data/);
    assert.doesNotMatch(agreeing, /class="disagreement"/);
    const stale = renderHtml(withPrometheus(fixture(), { failedLaunchers: 600, namespace: HOSTILE }));
    assert.match(stale, /<div class="disagreement">! Prometheus counts 600, the API 412/);
    assert.ok(!stale.includes('<script>'));
  });

  it('carries the report content: verdict, causes in order, evidence, remediation, warnings, next steps', () => {
    const html = renderHtml(fixture());
    assert.match(html, /<span class="badge">FIRING<\/span>/);
    const order = ['<h3>1. migration', '<h3>2. image', '<h3>3. node'].map((heading) => html.indexOf(heading));
    assert.ok(order.every((index) => index > 0));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.ok(html.includes('<li>Re-run the affected workloads once a test pull succeeds from a node</li>'));
    assert.ok(html.includes('<strong>forbidden</strong>: nodes is forbidden'));
    assert.ok(html.includes('<pre class="language-sh"># first: save the evidence'));
    assert.ok(html.includes('\nstuckfailed cancel-migrations --looping -A\n'));
    assert.ok(html.includes('\nstuckfailed clean -A --yes\n'));
    assert.ok(html.includes('<pre class="language-promql">'));
    // Quotes in the commands' explanations are escaped like any text.
    assert.ok(html.includes('# the alert&#39;s count as Prometheus sees it'));
    assert.ok(html.includes('@media print'));
  });
});
