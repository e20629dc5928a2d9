import type {
  CauseCategory,
  Diagnosis,
  ErrorBurst,
  TimelineBucket,
  TimelineMark,
  TrendPoint,
} from '../diagnosis/types.js';
import { plural } from '../util/plural.js';
import {
  buildReportView,
  formatPercent,
  languageRuns,
  type NextStepRun,
  objectRef,
  type RankedCause,
  type ReportView,
  RUNBOOK_URL,
  truncateMiddle,
} from './report-view.js';

// One self-contained HTML file to attach to a ticket or open from a bundle: inline CSS, inline SVG charts drawn
// here, no script, nothing fetched. A Content-Security-Policy of default-src 'none' backs the escaping up: even a
// string that slipped through could not load or run anything. Everything drawn comes from the Diagnosis itself
// (the over-time chart from diagnosis.prometheus.trend), so a saved report.json re-renders to the same page.

/** Escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export const CAUSE_COLORS: Record<CauseCategory, string> = {
  image: '#1f77b4',
  network: '#9467bd',
  storage: '#8c564b',
  migration: '#d62728',
  resources: '#ff7f0e',
  node: '#2ca02c',
  'control-plane': '#e377c2',
  unknown: '#7f7f7f',
};
const NEUTRAL_BAR = '#4a6fa5';

export interface BarDatum {
  label: string;
  value: number;
  color?: string;
}

const BAR_CHART = { labelWidth: 200, barWidth: 320, valueWidth: 60, rowHeight: 22, barHeight: 15, top: 6 };

/** A horizontal bar chart; bar lengths are proportional to the values (the longest bar is the largest value). */
export function renderBarChart(title: string, data: BarDatum[]): string {
  const { labelWidth, barWidth, valueWidth, rowHeight, barHeight, top } = BAR_CHART;
  const width = labelWidth + barWidth + valueWidth;
  const height = top * 2 + Math.max(1, data.length) * rowHeight;
  const max = Math.max(0, ...data.map((datum) => datum.value));
  const rows = data.map((datum, index) => {
    const y = top + index * rowHeight;
    const length = max > 0 ? (datum.value / max) * barWidth : 0;
    const label = escapeHtml(truncateMiddle(datum.label, 30));
    return [
      `<g class="bar" data-label="${escapeHtml(datum.label)}" data-value="${datum.value}">`,
      `<title>${escapeHtml(datum.label)}: ${datum.value}</title>`,
      `<text x="${labelWidth - 8}" y="${y + barHeight - 3}" text-anchor="end">${label}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(2)}" height="${barHeight}" fill="${datum.color ?? NEUTRAL_BAR}"/>`,
      `<text x="${(labelWidth + length + 6).toFixed(2)}" y="${y + barHeight - 3}">${datum.value}</text>`,
      '</g>',
    ].join('');
  });
  const empty = data.length === 0 ? `<text x="${labelWidth}" y="${top + 14}">no data</text>` : '';
  return figure(
    title,
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows.join('')}${empty}</svg>`,
  );
}

const LINE_CHART = { width: 580, height: 220, left: 50, right: 16, top: 12, bottom: 34 };

/** Failed launchers over time, with the alert threshold as a dashed line. */
export function renderTrendChart(title: string, trend: TrendPoint[], threshold: number): string {
  const { width, height, left, right, top, bottom } = LINE_CHART;
  const points = trend
    .map((point) => ({ ...point, ms: Date.parse(point.time) }))
    .filter((point) => Number.isFinite(point.ms) && Number.isFinite(point.value))
    .sort((a, b) => a.ms - b.ms);
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) {
    return figure(title, '<p class="muted">no trend data</p>');
  }
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const yMax = Math.max(threshold, ...points.map((point) => point.value)) * 1.1 || 1;
  const span = last.ms - first.ms;
  const x = (ms: number) => left + (span > 0 ? ((ms - first.ms) / span) * plotWidth : plotWidth / 2);
  const y = (value: number) => top + plotHeight - (value / yMax) * plotHeight;
  const polyline = points.map((point) => `${x(point.ms).toFixed(2)},${y(point.value).toFixed(2)}`).join(' ');
  const thresholdY = y(threshold).toFixed(2);
  const body = [
    `<line class="axis" x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}"/>`,
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}"/>`,
    `<text x="${left - 6}" y="${top + plotHeight}" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${Math.round(yMax)}</text>`,
    `<line class="threshold" x1="${left}" y1="${thresholdY}" x2="${width - right}" y2="${thresholdY}"/>`,
    `<text class="threshold-label" x="${width - right}" y="${(Number(thresholdY) - 4).toFixed(2)}" text-anchor="end">threshold ${threshold}</text>`,
    `<polyline class="trend" fill="none" points="${polyline}"/>`,
    `<text x="${left}" y="${height - 10}">${escapeHtml(first.time)}</text>`,
    `<text x="${width - right}" y="${height - 10}" text-anchor="end">${escapeHtml(last.time)}</text>`,
  ].join('');
  return figure(
    title,
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg>`,
  );
}

const TIMELINE_CHART = { width: 580, height: 220, left: 50, right: 16, top: 12, bottom: 34 };

/**
 * Failed launchers by the time they ended, one bar per bucket, with the marks that may explain them as numbered
 * dashed lines, listed under the chart.
 */
export function renderTimelineChart(
  title: string,
  timeline: TimelineBucket[],
  marks: TimelineMark[],
): string {
  const { width, height, left, right, top, bottom } = TIMELINE_CHART;
  const first = timeline[0];
  const last = timeline.at(-1);
  if (first === undefined || last === undefined)
    return figure(title, '<p class="muted">no Failed launchers</p>');
  const startMs = Date.parse(first.start);
  const second = timeline[1];
  const size = second === undefined ? 60_000 : Date.parse(second.start) - startMs;
  const endMs = Date.parse(last.start) + size;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const yMax = Math.max(1, ...timeline.map((bucket) => bucket.count));
  const x = (ms: number) => left + ((ms - startMs) / (endMs - startMs)) * plotWidth;
  const barWidth = plotWidth / timeline.length;
  const bars = timeline.map((bucket) => {
    const barHeight = (bucket.count / yMax) * plotHeight;
    const bx = x(Date.parse(bucket.start));
    return (
      `<g class="bucket" data-start="${escapeHtml(bucket.start)}" data-count="${bucket.count}"><title>${escapeHtml(bucket.start)}: ${bucket.count}</title>` +
      `<rect x="${(bx + 0.5).toFixed(2)}" y="${(top + plotHeight - barHeight).toFixed(2)}" width="${Math.max(1, barWidth - 1).toFixed(2)}" height="${barHeight.toFixed(2)}" fill="${NEUTRAL_BAR}"/></g>`
    );
  });
  const lines = marks.map((mark, index) => {
    const mx = Math.min(width - right, Math.max(left, x(Date.parse(mark.time)))).toFixed(2);
    return (
      `<g class="mark" data-kind="${escapeHtml(mark.kind)}"><title>${escapeHtml(`${mark.time}: ${mark.text}`)}</title>` +
      `<line class="threshold" x1="${mx}" y1="${top}" x2="${mx}" y2="${top + plotHeight}"/>` +
      `<text x="${mx}" y="${top + 10}" text-anchor="middle">${index + 1}</text></g>`
    );
  });
  const body = [
    `<line class="axis" x1="${left}" y1="${top + plotHeight}" x2="${width - right}" y2="${top + plotHeight}"/>`,
    `<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}"/>`,
    `<text x="${left - 6}" y="${top + plotHeight}" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${yMax}</text>`,
    ...bars,
    ...lines,
    `<text x="${left}" y="${height - 10}">${escapeHtml(first.start)}</text>`,
    `<text x="${width - right}" y="${height - 10}" text-anchor="end">${escapeHtml(new Date(endMs).toISOString())}</text>`,
  ].join('');
  const legend =
    marks.length === 0
      ? ''
      : `<ol class="marks">${marks.map((mark) => `<li><code>${escapeHtml(mark.time)}</code> ${escapeHtml(mark.text)}</li>`).join('')}</ol>`;
  return figure(
    title,
    `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg>${legend}`,
  );
}

function figure(title: string, content: string): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>${content}</figure>`;
}

/** The report's stylesheet, shared with the service's web page so both look alike. */
export const REPORT_STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6475; --line: #d8dde6; --bg: #ffffff; --panel: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--panel); padding: 10px 12px; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
.verdict { padding: 14px 18px; border-radius: 8px; border-left: 6px solid; background: var(--panel); }
.verdict.firing { border-color: #c62828; } .verdict.ok { border-color: #2e7d32; }
.badge { display: inline-block; font-weight: 700; padding: 1px 8px; border-radius: 4px; color: #fff; margin-right: 8px; }
.firing .badge { background: #c62828; } .ok .badge { background: #2e7d32; }
.verdict.pending { border-color: #8a5a00; } .pending .badge { background: #8a5a00; }
.muted { color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px 24px; }
figure { margin: 0; } figcaption { font-weight: 600; margin: 8px 0 4px; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; fill: var(--fg); }
svg .axis { stroke: var(--muted); } svg .threshold { stroke: #c62828; stroke-dasharray: 6 4; }
svg .threshold-label { fill: #c62828; } svg .trend { stroke: #1f4e9a; stroke-width: 2; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
tr.example td { border-bottom: 1px solid var(--line); padding-top: 0; color: var(--muted); overflow-wrap: anywhere; }
tr.has-example td { border-bottom: none; }
th { background: var(--panel); font-weight: 600; } td.num, th.num { text-align: right; white-space: nowrap; }
.cause { border: 1px solid var(--line); border-left: 6px solid var(--cause); border-radius: 6px; padding: 4px 14px 8px; margin: 10px 0; }
.warnings li, .disagreement, .note { color: #8a5a00; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  section, .cause, figure, tr { break-inside: avoid; }
  .charts { grid-template-columns: 1fr 1fr; }
}
`;

export function renderHtml(diagnosis: Diagnosis): string {
  const view = buildReportView(diagnosis);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>VirtLauncherPodsStuckFailed: ${plural(diagnosis.failedLaunchers, 'Failed launcher')}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header class="verdict ${view.state === 'inactive' ? 'ok' : view.state}">
<h1><span class="badge">${view.firing ? 'FIRING' : view.state === 'pending' ? 'PENDING' : 'NOT FIRING'}</span>VirtLauncherPodsStuckFailed</h1>
${renderVerdictLines(diagnosis, view)}
</header>
${renderReportSections(diagnosis, { view })}
</body>
</html>
`;
}

/** The lines under the verdict's heading: the headline, the alert's state, notes, Prometheus, the data's source. */
export function renderVerdictLines(
  diagnosis: Diagnosis,
  view: ReportView = buildReportView(diagnosis),
): string {
  const e = escapeHtml;
  return `<div>${e(view.headline)}</div>
<div class="alert-state">${e(view.alertLine)}</div>
${view.notes.map((note) => `<div class="note">${e(note)}</div>\n`).join('')}${prometheusBlock(view)}<div class="muted">source ${e(diagnosis.source)}, generated ${e(diagnosis.generatedAt)}; runbook: ${e(RUNBOOK_URL)}</div>`;
}

export interface ReportSectionsOptions {
  /** The view already built from the same diagnosis, to avoid building it twice. */
  view?: ReportView;
  /** More charts (already rendered figures) for the "Where" grid, after the report's own. */
  extraCharts?: string[];
}

/**
 * The report's sections (charts, causes, migrations, control plane, warnings, samples, next steps) as an HTML
 * fragment, for a page that draws its own header around them (the service's incident page). Styled by REPORT_STYLE.
 */
export function renderReportSections(diagnosis: Diagnosis, options: ReportSectionsOptions = {}): string {
  const view = options.view ?? buildReportView(diagnosis);
  const e = escapeHtml;
  const charts = [
    renderBarChart(
      'Failed launchers by cause',
      view.causes.map((cause) => ({
        label: cause.category,
        value: cause.pods,
        color: CAUSE_COLORS[cause.category],
      })),
    ),
    renderBarChart('Failed launchers by namespace', barsOf(diagnosis.byNamespace)),
    renderBarChart('Failed launchers by node', barsOf(diagnosis.byNode)),
    renderBarChart('Failed launchers by termination reason', barsOf(diagnosis.byReason)),
  ];
  charts.push(
    renderTimelineChart(
      'Failed launchers by the time they ended',
      diagnosis.timeline,
      diagnosis.timelineMarks,
    ),
  );
  if (diagnosis.prometheus !== undefined) {
    charts.push(
      renderTrendChart(
        'Failed launchers over time (Prometheus)',
        diagnosis.prometheus.trend,
        diagnosis.threshold,
      ),
    );
  }
  charts.push(...(options.extraCharts ?? []));
  const { migrations, controlPlane } = diagnosis;
  const upgrading =
    controlPlane.targetVersion !== undefined && controlPlane.targetVersion !== controlPlane.version
      ? `, upgrading to <code>${e(controlPlane.targetVersion)}</code>`
      : '';

  return `<section><h2>Where</h2><div class="charts">${charts.join('\n')}</div></section>
<section><h2>Causes, most important first</h2>
${view.causes.length === 0 ? `<p>${diagnosis.failedLaunchers === 0 ? 'None: no Failed launchers.' : 'None identified.'}</p>` : view.causes.map(causeCard).join('\n')}
</section>
<section><h2>Migrations</h2>
<p>${migrations.inFlight} in flight, ${migrations.failed} failed${migrations.storm ? ': <strong>migration storm</strong>' : ''}.</p>
${htmlTable(
  ['VMI', 'migrations', 'failed launchers'],
  [false, true, true],
  migrations.topVMIs.map((vmi) => [
    `<code>${e(`${vmi.namespace}/${vmi.vmi}`)}</code>`,
    vmi.migrations,
    vmi.failedLaunchers,
  ]),
)}
</section>
<section><h2>Control plane</h2>
<p>${controlPlane.namespace ? `KubeVirt in <code>${e(controlPlane.namespace)}</code>` : 'KubeVirt CR not found'}${controlPlane.version ? `, version <code>${e(controlPlane.version)}</code>` : ''}${upgrading}.</p>
${errorBurstTable(controlPlane.errorBursts)}
</section>
${
  diagnosis.gatherErrors.length > 0
    ? `<section><h2>Warnings: partial data</h2><ul class="warnings">${diagnosis.gatherErrors
        .map((error) => `<li><strong>${e(error.type)}</strong>: ${e(error.message)}</li>`)
        .join('')}</ul></section>`
    : ''
}
<section><h2>Samples</h2>
${htmlTable(
  ['pod', 'node', 'cause', 'reason', 'message', 'events'],
  [false, false, false, false, false, false],
  diagnosis.samples.map((sample) => [
    `<code>${e(`${sample.namespace}/${sample.name}`)}</code>`,
    e(sample.node ?? ''),
    e(sample.category),
    e(sample.reason ?? ''),
    e(sample.message ?? ''),
    sample.events
      .map(
        (event) =>
          `${e(event.type ?? '')} ${e(event.reason ?? '')}${event.count !== undefined ? ` ×${event.count}` : ''}: ${e(event.message ?? '')}`,
      )
      .join('<br>'),
  ]),
)}
</section>
<section><h2>Next steps</h2>
${view.nextSteps.length === 0 ? '<p>Nothing to do: no Failed virt-launcher pods.</p>' : languageRuns(view.nextSteps).map(nextStepsBlock).join('\n')}
</section>`;
}

function prometheusBlock(view: ReportView): string {
  if (view.prometheus === undefined) return '';
  const { line, disagreement } = view.prometheus;
  const warning =
    disagreement === undefined ? '' : `<div class="disagreement">! ${escapeHtml(disagreement)}</div>\n`;
  return `<div class="prometheus">${escapeHtml(line)}</div>\n${warning}`;
}

/** A block per language, marked with a class (`language-sh`, `language-promql`) as Markdown renderers do. */
function nextStepsBlock(run: NextStepRun): string {
  const e = escapeHtml;
  const body = run.steps.map((step) => `# ${e(step.why)}\n${e(step.command)}`).join('\n');
  return `<pre class="language-${run.language}">${body}</pre>`;
}

function barsOf(counts: Array<{ key: string; count: number }>): BarDatum[] {
  // Charts show the top 15: a 100-node cluster would otherwise draw a page-long chart nobody reads.
  return [...counts]
    .sort((a, b) => b.count - a.count)
    .slice(0, 15)
    .map((count) => ({ label: count.key, value: count.count }));
}

function causeCard(cause: RankedCause): string {
  const e = escapeHtml;
  return `<div class="cause" style="--cause: ${CAUSE_COLORS[cause.category]}">
<h3>${cause.rank}. ${e(cause.category)}: ${plural(cause.pods, 'pod')} (${formatPercent(cause.share)}), confidence ${cause.confidence.toFixed(2)}</h3>
<p>${e(cause.summary)}</p>
${htmlTable(
  ['kind', 'object', 'reason', 'message'],
  [false, false, false, false],
  cause.evidence.map((evidence) => [
    e(evidence.kind),
    `<code>${e(objectRef(evidence))}</code>`,
    e(evidence.reason ?? ''),
    e(evidence.message ?? ''),
  ]),
)}
${cause.remediation.length > 0 ? `<ol>${cause.remediation.map((step) => `<li>${e(step)}</li>`).join('')}</ol>` : ''}
</div>`;
}

/** One row per burst and, under it, its example line across the table (a log line is too wide for a cell). */
function errorBurstTable(bursts: ErrorBurst[]): string {
  if (bursts.length === 0) return '<p class="muted">no error bursts in the component logs</p>';
  const e = escapeHtml;
  const rows = bursts.map(
    (burst) =>
      `<tr class="has-example"><td class="num">${burst.count}</td><td>${e(burst.component)}</td><td>${e(burst.level)}</td>` +
      `<td><code>${e(burst.shape)}</code></td><td>${e(burst.firstSeen ?? '')}</td><td>${e(burst.lastSeen ?? '')}</td></tr>\n` +
      `<tr class="example"><td></td><td colspan="5"><code>${e(truncateMiddle(burst.example, 400))}</code></td></tr>`,
  );
  return `<table><thead><tr><th class="num">count</th><th>component</th><th>level</th><th>message shape</th><th>first seen</th><th>last seen</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

/** Cells are trusted HTML (already escaped by the caller) or numbers. */
export function htmlTable(header: string[], numeric: boolean[], rows: Array<Array<string | number>>): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  const cls = (index: number) => (numeric[index] ? ' class="num"' : '');
  const head = header.map((title, index) => `<th${cls(index)}>${escapeHtml(title)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell, index) => `<td${cls(index)}>${cell}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
