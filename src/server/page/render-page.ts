// The service's web page (DESIGN §4 "Service", GET /): pure renderers from the Incident contract to complete HTML
// documents. Server-rendered so that everything reads without JavaScript; the one inline script (page-script.ts)
// only approves and follows progress. Same look as the HTML report, whose sections it reuses for the diagnosis. No
// external assets; every string from the cluster or from Alertmanager goes through escapeHtml, and the CSP allows
// no script but ours (by hash) and no request but to this origin.
import type { Diagnosis } from '../../diagnosis/types.js';
import type { Plan, PlanStep } from '../../mitigation/plan.js';
import {
  escapeHtml,
  htmlTable,
  REPORT_STYLE,
  renderReportSections,
  renderVerdictLines,
} from '../../report/html.js';
import { buildReportView, formatPercent, shareOf, truncate } from '../../report/report-view.js';
import type { Incident } from '../incident.js';
import {
  canApprove,
  failedLaunchersNow,
  isLive,
  isPlanApproved,
  outcomeCounts,
  recentActions,
  stepProgressOf,
  targetsByNamespace,
  topCause,
} from './incident-view.js';
import { PAGE_SCRIPT, PAGE_SCRIPT_SOURCE } from './page-script.js';

export interface PageOptions {
  /** The path the service is mounted under behind a proxy, without a trailing slash (default '': the root). */
  basePath?: string;
  /** How often the incident page polls the incident's JSON while acting or validating (default 1000 ms). */
  pollIntervalMs?: number;
}

/** Journal entries listed on the incident page (newest first); the counts per step cover all of them. */
export const RECENT_ACTIONS = 20;
/** Namespaces named per plan step; the rest are summed. */
const NAMESPACES_PER_STEP = 5;

/**
 * The Content-Security-Policy of every page, for the route handlers to send as a header as well (the pages carry
 * it in a meta tag, which cannot say frame-ancestors).
 */
export const PAGE_CONTENT_SECURITY_POLICY =
  `default-src 'none'; style-src 'unsafe-inline'; script-src ${PAGE_SCRIPT_SOURCE}; connect-src 'self'; ` +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const META_CSP = PAGE_CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", '');

/**
 * The headers of every page response, for the route handlers (`reply.headers(PAGE_HEADERS)`): the CSP as a header
 * too, and no-store because the page shows live state (a cached copy would offer to approve a plan since re-made).
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

const PAGE_STYLE = `
[hidden] { display: none !important; }
header.page { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; flex-wrap: wrap;
  border-bottom: 1px solid var(--line); padding-bottom: 8px; margin-bottom: 12px; }
header.page h1 { margin: 0; }
a { color: #1f4e9a; }
nav.toc { margin: 0 0 16px; } nav.toc a { margin-right: 14px; }
.verdict h2 { margin-top: 0; } section.verdict { margin-top: 28px; }
.nowrap { white-space: nowrap; }
.status { display: inline-block; font-weight: 700; font-size: 12px; letter-spacing: .03em; text-transform: uppercase;
  padding: 2px 8px; border-radius: 4px; color: #fff; margin-right: 8px; vertical-align: middle; }
.status-open { background: #b25c00; } .status-acting { background: #1f5fbf; }
.status-validating { background: #6a3fb5; } .status-closed { background: #4d5566; }
.verdict.acting, .verdict.validating { border-color: #1f5fbf; } .verdict.open { border-color: #b25c00; }
.verdict.closed { border-color: #4d5566; }
.labels code { display: inline-block; background: #fff; border: 1px solid var(--line); border-radius: 4px;
  padding: 0 5px; margin: 2px 4px 2px 0; }
.count { font-size: 40px; font-weight: 700; line-height: 1.1; margin-right: 8px; }
.big { display: flex; align-items: baseline; gap: 4px; flex-wrap: wrap; }
progress { width: 100%; min-width: 160px; height: 16px; accent-color: #1f5fbf; }
td.bar { width: 40%; }
.outcome-failed, .outcome-conflict { color: #c62828; font-weight: 600; }
.outcome-done { color: #2e7d32; }
.verdict-cleared { color: #2e7d32; font-weight: 700; } .verdict-not-cleared { color: #c62828; font-weight: 700; }
.verdict-running { color: #1f5fbf; font-weight: 700; }
form.approve { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin: 12px 0; display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; }
form.approve label { font-weight: 600; }
form.approve input { font: inherit; padding: 5px 8px; min-width: 280px; border: 1px solid #98a2b3; border-radius: 5px; }
form.approve button { font: inherit; font-weight: 700; padding: 6px 16px; border: 0; border-radius: 5px;
  background: #1f5fbf; color: #fff; cursor: pointer; }
form.approve button:disabled { background: #98a2b3; cursor: default; }
form.approve .message { flex-basis: 100%; }
.approved { color: #2e7d32; font-weight: 600; }
`;

function htmlDocument(title: string, body: string, script: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${META_CSP}">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${REPORT_STYLE}${PAGE_STYLE}</style>
</head>
<body>
${body}
${script ? `<script>${PAGE_SCRIPT}</script>\n` : ''}</body>
</html>
`;
}

function urls(options: PageOptions, id?: string) {
  const base = options.basePath ?? '';
  const encoded = id === undefined ? '' : encodeURIComponent(id);
  return {
    index: `${base}/`,
    page: `${base}/incidents/${encoded}`,
    api: `${base}/api/v1/incidents/${encoded}`,
    approve: `${base}/api/v1/incidents/${encoded}/approve`,
  };
}

const e = escapeHtml;

/** A timestamp that does not wrap mid-date. */
function time(iso: string): string {
  return `<span class="nowrap">${e(iso)}</span>`;
}

function statusBadge(incident: Incident, live = false): string {
  const field = live ? ' data-field="status"' : '';
  return `<span class="status status-${e(incident.status)}"${field}>${e(incident.status)}</span>`;
}

function causeLine(diagnosis: Diagnosis | undefined): string {
  const cause = topCause(diagnosis);
  if (diagnosis === undefined) return '<span class="muted">diagnosing…</span>';
  if (cause === undefined) return '<span class="muted">none identified</span>';
  const share = formatPercent(shareOf(cause.pods, diagnosis.failedLaunchers));
  return `<strong>${e(cause.category)}</strong>: ${cause.pods} pods (${share})<br><span class="muted">${e(truncate(cause.summary, 140))}</span>`;
}

/** The incidents, newest first: status, alert, opened/closed, Failed launchers, top cause. */
export function renderIndexPage(incidents: readonly Incident[], options: PageOptions = {}): string {
  const sorted = [...incidents].sort((a, b) => b.openedAt.localeCompare(a.openedAt));
  const openCount = sorted.filter((incident) => incident.status !== 'closed').length;
  const rows = sorted.map((incident) => {
    const link = urls(options, incident.id).page;
    const failed = failedLaunchersNow(incident);
    return [
      `<a class="nowrap" href="${e(link)}"><code>${e(incident.id)}</code></a>`,
      statusBadge(incident),
      `${e(incident.alert.name)} <span class="muted">(${e(incident.alert.state)})</span>`,
      time(incident.openedAt),
      time(incident.closedAt ?? ''),
      failed === undefined ? '<span class="muted">…</span>' : failed.now,
      causeLine(incident.diagnosis),
    ];
  });
  const body = `<header class="page"><h1>VirtLauncherPodsStuckFailed incidents</h1>
<div class="muted">${sorted.length} ${sorted.length === 1 ? 'incident' : 'incidents'}, ${openCount} not closed</div></header>
<main>
${
  rows.length === 0
    ? '<p>No incidents yet: one opens when Alertmanager sends a firing VirtLauncherPodsStuckFailed.</p>'
    : htmlTable(
        ['incident', 'status', 'alert', 'opened', 'closed', 'Failed launchers', 'top cause'],
        [false, false, false, false, false, true, false],
        rows,
      )
}
</main>`;
  return htmlDocument('stuckfailed: incidents', body, false);
}

/** A page for an incident id that does not exist (the handler sends it with 404). */
export function renderNotFoundPage(id: string, options: PageOptions = {}): string {
  const body = `<header class="page"><h1>No incident ${e(id)}</h1></header>
<p>It may have been removed, or the link is wrong. <a href="${e(urls(options).index)}">All incidents</a></p>`;
  return htmlDocument('stuckfailed: no such incident', body, false);
}

/**
 * One incident: its alert, the Failed launcher count, the plan with its approve form, live progress per step,
 * actions, validation, approvals, audit trail and the diagnosis report.
 */
export function renderIncidentPage(incident: Incident, options: PageOptions = {}): string {
  const link = urls(options, incident.id);
  const sections = [
    alertSection(incident),
    failedSection(incident),
    planSection(incident, link.approve),
    progressSection(incident),
    actionsSection(incident),
    validationSection(incident),
    approvalsSection(incident),
    auditSection(incident),
    diagnosisSection(incident.diagnosis),
  ];
  const body = `<main data-incident="${e(incident.id)}" data-status="${e(incident.status)}" data-api="${e(link.api)}" data-poll-ms="${options.pollIntervalMs ?? 1000}" data-recent-limit="${RECENT_ACTIONS}">
<header class="page"><h1>${statusBadge(incident, true)}Incident <code>${e(incident.id)}</code></h1>
<a href="${e(link.index)}">All incidents</a></header>
<nav class="toc"><a href="#plan">Plan</a><a href="#progress">Progress</a><a href="#actions">Actions</a><a href="#validation">Validation</a><a href="#approvals">Approvals</a><a href="#audit">Audit trail</a><a href="#diagnosis">Diagnosis</a></nav>
${sections.join('\n')}
</main>`;
  return htmlDocument(`stuckfailed: incident ${incident.id} (${incident.status})`, body, true);
}

function alertSection(incident: Incident): string {
  const { alert, notifications } = incident;
  const firing = notifications.filter((notification) => notification.status === 'firing').length;
  const last = notifications[notifications.length - 1];
  const labels = Object.entries(alert.labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `<code>${e(key)}=${e(value)}</code>`)
    .join('');
  return `<section class="verdict ${e(incident.status)}"><h2>Alert ${e(alert.name)}: ${e(alert.state)}</h2>
<div>opened ${e(incident.openedAt)}${incident.closedAt === undefined ? '' : `, closed ${e(incident.closedAt)}`}; firing since ${e(alert.startsAt)}</div>
<div class="labels">${labels}</div>
<div class="muted">${notifications.length} ${notifications.length === 1 ? 'notification' : 'notifications'} (${firing} firing, ${notifications.length - firing} resolved)${last === undefined ? '' : `, last at ${e(last.receivedAt)}`}; group <code>${e(alert.groupKey)}</code></div>
</section>`;
}

function failedSection(incident: Incident): string {
  const failed = failedLaunchersNow(incident);
  if (failed === undefined || incident.diagnosis === undefined) {
    return '<section id="failed"><h2>Failed launchers</h2><p>Diagnosing: the count and the plan appear here when the diagnosis is done.</p></section>';
  }
  return `<section id="failed"><h2>Failed launchers</h2>
<div class="big"><span class="count" data-field="failed-now">${failed.now}</span><span>Failed virt-launcher pods now (threshold ${incident.diagnosis.threshold})</span></div>
<p class="muted">${failed.atDiagnosis} at the diagnosis of ${e(incident.diagnosis.generatedAt)}; <span data-field="failed-removed">${failed.removed}</span> cleaned by the plan since.</p>
</section>`;
}

function planSection(incident: Incident, approveUrl: string): string {
  const { plan } = incident;
  if (plan === undefined) {
    return `<section id="plan"><h2>Plan</h2><p class="muted">${incident.diagnosis === undefined ? 'No plan yet: it is made from the diagnosis.' : 'No plan.'}</p></section>`;
  }
  const scope = plan.scope.namespaces === 'all' ? 'all namespaces' : plan.scope.namespaces.join(', ');
  const steps = htmlTable(
    ['#', 'action', 'why', 'targets', 'where', 'caps'],
    [true, false, false, true, false, false],
    plan.steps.map((step, index) => [
      index + 1,
      `<strong>${e(step.action)}</strong><br><code class="muted">${e(step.id)}</code>`,
      `<strong>${e(step.reason.cause)}</strong>: ${e(step.reason.summary)}`,
      step.count,
      whereOf(step),
      Object.entries(step.caps)
        .map(([key, value]) => `${e(key)}=${e(String(value))}`)
        .join('<br>'),
    ]),
  );
  const untouched =
    plan.untouched.length === 0
      ? ''
      : `<h3>Not fixed by any step</h3>${plan.untouched
          .map(
            (cause) =>
              `<p><strong>${e(cause.cause)}</strong></p><ol>${cause.remediation.map((step) => `<li>${e(step)}</li>`).join('')}</ol>`,
          )
          .join('')}`;
  return `<section id="plan"><h2>Plan</h2>
<p>Digest <code>${e(plan.digest)}</code>, made ${e(plan.createdAt)}; scope: ${e(scope)}${plan.scope.selector === undefined ? '' : `, selector <code>${e(plan.scope.selector)}</code>`}.</p>
${steps}
${approval(incident, plan, approveUrl)}
${untouched}
</section>`;
}

function whereOf(step: PlanStep): string {
  const summary = targetsByNamespace(step.targets, NAMESPACES_PER_STEP);
  const lines = summary.top.map(
    (entry) =>
      `${entry.namespace === '' ? '<em>cluster</em>' : `<code>${e(entry.namespace)}</code>`}: ${entry.count}`,
  );
  if (summary.otherNamespaces > 0) {
    lines.push(
      `+${summary.otherNamespaces} more ${summary.otherNamespaces === 1 ? 'namespace' : 'namespaces'}: ${summary.otherTargets}`,
    );
  }
  return lines.join('<br>');
}

function approval(incident: Incident, plan: Plan, approveUrl: string): string {
  if (isPlanApproved(incident)) {
    const approved = incident.approvals.filter((entry) => entry.digest === plan.digest);
    return approved
      .map(
        (entry) =>
          `<p class="approved">Approved ${entry.mode === 'automatic' ? 'automatically (policy)' : `by ${e(entry.by)}`} at ${e(entry.at)}.</p>`,
      )
      .join('\n');
  }
  if (!canApprove(incident)) return '';
  const summary = plan.steps.map((step) => `${step.action} ${step.count}`).join(', ');
  // Hidden until the script shows it: without JavaScript a form would be sent as a plain POST without the token
  // header (and form-action 'none' blocks it anyway), so the no-JS reader gets the equivalent curl command instead.
  return `<form class="approve" method="post" data-approve="${e(approveUrl)}" data-digest="${e(plan.digest)}" hidden>
<label for="approve-token">Approval token</label>
<input id="approve-token" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="paste your bearer token" required>
<button type="submit">Approve plan (${e(summary)})</button>
<div class="message muted" data-field="approve-message">The token is sent once with this approval and is not kept by the page. You approve digest <code>${e(plan.digest)}</code>: if the plan changes, the approval is refused.</div>
</form>
<noscript><p>Approving from this page needs JavaScript. Without it:</p>
<pre>curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
  -d '{"digest":"${e(plan.digest)}"}' "$SERVE_URL${e(approveUrl)}"</pre></noscript>`;
}

function progressSection(incident: Incident): string {
  const steps = incident.plan?.steps ?? [];
  if (steps.length === 0)
    return '<section id="progress"><h2>Progress</h2><p class="muted">Nothing to run.</p></section>';
  const rows = steps.map((step) => {
    const progress = stepProgressOf(incident, step);
    const counts = Object.entries(outcomeCounts(incident.actions, step.id))
      .filter(([, count]) => count > 0)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ');
    return `<tr data-step="${e(step.id)}" data-total="${progress.total}"><td><strong>${e(step.action)}</strong> <code class="muted">${e(step.id)}</code></td>
<td class="bar"><progress max="${Math.max(1, progress.total)}" value="${progress.settled}">${progress.settled} / ${progress.total}</progress></td>
<td class="num" data-field="settled">${progress.settled} / ${progress.total}</td><td data-field="outcomes">${counts === '' ? 'none yet' : e(counts)}</td></tr>`;
  });
  const state = isLive(incident.status)
    ? 'Running: this page follows it live (with JavaScript; reload otherwise).'
    : incident.status === 'open'
      ? 'Waiting for approval.'
      : 'Not running.';
  return `<section id="progress"><h2>Progress</h2>
<p class="muted"><span data-field="progress-state">${state}</span> <span data-field="live-note"></span></p>
<table><thead><tr><th>step</th><th>progress</th><th class="num">settled / total</th><th>outcomes</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
</section>`;
}

function actionsSection(incident: Incident): string {
  const notDone = incident.actions.filter(
    (entry) => entry.outcome === 'failed' || entry.outcome === 'conflict',
  );
  const rows = recentActions(incident.actions, RECENT_ACTIONS)
    .map(
      (entry) =>
        `<tr><td class="nowrap">${e(entry.time)}</td><td>${e(entry.step)}</td><td>${e(entry.kind)} ${e(entry.namespace === '' ? entry.name : `${entry.namespace}/${entry.name}`)}</td>` +
        `<td class="outcome outcome-${e(entry.outcome)}">${e(entry.outcome)}</td><td>${e(entry.detail ?? '')}</td></tr>`,
    )
    .join('\n');
  const failures =
    notDone.length === 0
      ? ''
      : `<h3>Not done (${notDone.length})</h3>${htmlTable(
          ['time', 'step', 'object', 'outcome', 'detail'],
          [false, false, false, false, false],
          notDone
            .slice(0, RECENT_ACTIONS)
            .map((entry) => [
              time(entry.time),
              e(entry.step),
              `${e(entry.kind)} ${e(`${entry.namespace}/${entry.name}`)}`,
              e(entry.outcome),
              e(entry.detail ?? ''),
            ]),
        )}`;
  return `<section id="actions"><h2>Actions</h2>
<p><span data-field="actions-total">${incident.actions.length}</span> journaled; the newest ${RECENT_ACTIONS} first.</p>
<table><thead><tr><th>time</th><th>step</th><th>object</th><th>outcome</th><th>detail</th></tr></thead><tbody data-field="recent-actions">${rows}</tbody></table>
${failures}
</section>`;
}

function validationSection(incident: Incident): string {
  const { validation } = incident;
  if (validation === undefined) {
    return '<section id="validation"><h2>Validation</h2><p class="muted" data-field="validation">Not started.</p></section>';
  }
  return `<section id="validation"><h2>Validation</h2>
<p data-field="validation"><span class="verdict-${e(validation.verdict)}">${e(validation.verdict)}</span>: ${e(validation.reason)}</p>
<p class="muted">started ${e(validation.startedAt)}${validation.finishedAt === undefined ? '' : `, finished ${e(validation.finishedAt)}`}</p>
</section>`;
}

function approvalsSection(incident: Incident): string {
  return `<section id="approvals"><h2>Approvals</h2>
${htmlTable(
  ['time', 'by', 'mode', 'plan digest'],
  [false, false, false, false],
  incident.approvals.map((entry) => [
    time(entry.at),
    e(entry.by),
    e(entry.mode),
    `<code>${e(entry.digest)}</code>${incident.plan !== undefined && entry.digest !== incident.plan.digest ? ' <span class="muted">(an earlier plan)</span>' : ''}`,
  ]),
)}
</section>`;
}

function auditSection(incident: Incident): string {
  return `<section id="audit"><h2>Audit trail</h2>
${htmlTable(
  ['time', 'what', 'detail'],
  [false, false, false],
  incident.audit.map((event) => [time(event.time), e(event.what), e(event.detail ?? '')]),
)}
</section>`;
}

function diagnosisSection(diagnosis: Diagnosis | undefined): string {
  if (diagnosis === undefined) {
    return '<section id="diagnosis"><h2>Diagnosis</h2><p class="muted">Running.</p></section>';
  }
  // The report's own verdict lines carry the alert's state, the notes (what was inferred) and the timeline chart.
  const view = buildReportView(diagnosis);
  const badge = view.firing ? 'FIRING' : view.state === 'pending' ? 'PENDING' : 'NOT FIRING';
  return `<section id="diagnosis" class="verdict ${view.state === 'inactive' ? 'ok' : view.state}"><h2><span class="badge">${badge}</span>Diagnosis</h2>
${renderVerdictLines(diagnosis, view)}
</section>
${renderReportSections(diagnosis, { view })}`;
}
