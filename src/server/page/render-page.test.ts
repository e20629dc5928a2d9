import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { diagnosisFixture, incidentFixture } from '../../../test/helpers/incident-fixture.js';
import type { Diagnosis } from '../../diagnosis/types.js';
import type { JournalEntry } from '../../mitigation/plan.js';
import type { Incident } from '../incident.js';
import {
  PAGE_CONTENT_SECURITY_POLICY,
  PAGE_HEADERS,
  RECENT_ACTIONS,
  renderIncidentPage,
  renderIndexPage,
  renderNotFoundPage,
} from './render-page.js';

const HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>';

/** The HTML a reader without JavaScript gets: the page with its script removed. */
function withoutScripts(html: string): string {
  return html.replace(/<script>[\s\S]*?<\/script>/g, '');
}

/** The visible text of an HTML fragment, roughly: tags dropped, whitespace collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The HTML of the section with this id. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  assert.ok(start >= 0, `section ${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

function cleaned(count: number, time: string, outcome: JournalEntry['outcome'] = 'done'): JournalEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    time,
    step: 'clean',
    action: 'clean',
    kind: 'Pod',
    namespace: 'vm-prod',
    name: `virt-launcher-vm-${index}-abcde`,
    uid: `uid-${index}`,
    outcome,
  }));
}

describe('renderIndexPage', () => {
  const older = incidentFixture({ id: 'inc-old', openedAt: '2026-11-20T10:00:00.000Z' });
  const closed = incidentFixture({
    id: 'inc-closed',
    status: 'closed',
    openedAt: '2026-11-21T10:00:00.000Z',
    closedAt: '2026-11-21T11:00:00.000Z',
  });
  const diagnosing = incidentFixture({ id: 'inc-new', openedAt: '2026-11-24T08:00:00.000Z' });
  delete diagnosing.diagnosis;
  delete diagnosing.plan;

  it('lists the incidents newest first, each linking to its page, with status, alert, times, count and top cause', () => {
    const html = renderIndexPage([older, diagnosing, closed]);
    const rows = [
      ...html.matchAll(
        /<tr><td><a class="nowrap" href="([^"]+)"><code>([^<]+)<\/code><\/a><\/td>(.*?)<\/tr>/g,
      ),
    ];
    assert.deepEqual(
      rows.map((row) => [row[1], row[2]]),
      [
        ['/incidents/inc-new', 'inc-new'],
        ['/incidents/inc-closed', 'inc-closed'],
        ['/incidents/inc-old', 'inc-old'],
      ],
    );
    const closedRow = textOf(rows[1]?.[3] ?? '');
    assert.equal(
      closedRow,
      'closed VirtLauncherPodsStuckFailed (firing) 2026-11-21T10:00:00.000Z 2026-11-21T11:00:00.000Z 412 ' +
        'migration : 236 pods (57%) Migration loop: 318 failed migrations of 27 VMIs, mostly node-drain evacuations; every retry leaves a Failed target launcher behind',
    );
    assert.match(rows[1]?.[3] ?? '', /<span class="status status-closed">closed<\/span>/);
    assert.match(textOf(rows[0]?.[3] ?? ''), /open VirtLauncherPodsStuckFailed \(firing\) .* … diagnosing…$/);
    assert.match(html, /3 incidents, 2 not closed/);
  });

  it('shows the Failed count as the plan cleans, and says when there is nothing yet', () => {
    const acting = incidentFixture({ status: 'acting', actions: cleaned(100, '2026-11-23T21:50:00.000Z') });
    assert.match(renderIndexPage([acting]), /<td class="num">312<\/td>/);
    assert.match(renderIndexPage([]), /No incidents yet/);
  });

  it('is read without JavaScript: no script at all', () => {
    assert.doesNotMatch(renderIndexPage([older, closed]), /<script/);
  });

  it('prefixes its links with the base path', () => {
    assert.match(
      renderIndexPage([older], { basePath: '/stuckfailed' }),
      /href="\/stuckfailed\/incidents\/inc-old"/,
    );
  });
});

describe('renderIncidentPage', () => {
  it('is a complete document with one inline script, allowed by its hash and by nothing else', () => {
    const html = renderIncidentPage(incidentFixture());
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<\/html>\n$/);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    // It is valid JavaScript (the browser test runs it).
    assert.doesNotThrow(() => new Script(scripts[0]?.[1] ?? ''));
    const hash = createHash('sha256')
      .update(scripts[0]?.[1] ?? '')
      .digest('base64');
    const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)?.[1] ?? '';
    assert.ok(csp.includes(`script-src 'sha256-${hash}';`), csp);
    assert.ok(PAGE_CONTENT_SECURITY_POLICY.includes(`'sha256-${hash}'`));
    // The header says as much and more (frame-ancestors only works as a header), and forbids caching.
    assert.equal(PAGE_HEADERS['content-security-policy'], PAGE_CONTENT_SECURITY_POLICY);
    assert.ok(PAGE_CONTENT_SECURITY_POLICY.startsWith(csp));
    assert.match(PAGE_CONTENT_SECURITY_POLICY, /frame-ancestors 'none'$/);
    assert.equal(PAGE_HEADERS['cache-control'], 'no-store');
    assert.match(csp, /default-src 'none'.*connect-src 'self'/);
    assert.doesNotMatch(html, /<link|<img|<iframe|@import|url\(|\ssrc=/i);
  });

  it('reads without JavaScript: alert, count, plan, progress, actions, validation, approvals, audit, diagnosis', () => {
    const incident = incidentFixture({
      status: 'closed',
      closedAt: '2026-11-23T22:30:00.000Z',
      approvals: [],
      actions: cleaned(12, '2026-11-23T22:00:00.000Z'),
      validation: {
        verdict: 'cleared',
        reason: 'the count stayed below 200 for 10m',
        startedAt: '2026-11-23T22:05:00.000Z',
        finishedAt: '2026-11-23T22:15:00.000Z',
      },
    });
    const { plan } = incident;
    assert.ok(plan);
    incident.approvals.push({
      digest: plan.digest,
      by: 'alice',
      at: '2026-11-23T21:58:00.000Z',
      mode: 'manual',
    });
    const text = textOf(withoutScripts(renderIncidentPage(incident)));
    for (const expected of [
      'Alert VirtLauncherPodsStuckFailed: firing',
      'alertname=VirtLauncherPodsStuckFailed severity=critical',
      '2 notifications (2 firing, 0 resolved), last at 2026-11-23T21:52:05.000Z',
      '400 Failed virt-launcher pods now (threshold 200)',
      '412 at the diagnosis of 2026-11-23T21:47:12.000Z; 12 cleaned by the plan since.',
      `Digest ${plan.digest}`,
      'Approved by alice at 2026-11-23T21:58:00.000Z.',
      'clean clean 12 / 412 12 / 412 done 12',
      'cleared : the count stayed below 200 for 10m',
      '2026-11-23T21:58:00.000Z alice manual',
      'diagnosed 412 Failed launchers, top cause migration',
      '412 Failed virt-launcher pods &#62;= threshold 200 (condition met)',
      '1. migration: 236 pods (57%), confidence 0.90',
      'Failed launchers by namespace',
    ]) {
      assert.ok(text.includes(expected), expected);
    }
  });

  it('shows the plan: steps in order with reason, count, targets per namespace, caps, digest, untouched causes', () => {
    const incident = incidentFixture();
    const plan = section(renderIncidentPage(incident), 'plan');
    const rows = [...plan.matchAll(/<tr><td class="num">(\d+)<\/td>(.*?)<\/tr>/g)].map((row) =>
      textOf(row[2] ?? ''),
    );
    assert.deepEqual(rows, [
      'cancel-migrations cancel-migrations migration : stop the evacuation loop before cleaning 3 vm-prod : 3',
      'clean clean migration : delete the Failed launchers, archived first 412 vm-prod : 268 vm-staging : 97 ci-runners : 41 tenant-a : 4 tenant-b : 2 keepPerVmi=1 maxPods=1000',
    ]);
    assert.ok(plan.includes(`<code>${incident.plan?.digest}</code>`));
    assert.match(textOf(plan), /Not fixed by any step image Fix the image reference of the affected VMs/);
  });

  it('sums the namespaces past the fifth of a step', () => {
    const incident = incidentFixture();
    const clean = incident.plan?.steps[1];
    assert.ok(clean);
    clean.targets.push(
      { kind: 'Pod', namespace: 'tenant-c', name: 'virt-launcher-a-1', uid: 'u1' },
      { kind: 'Pod', namespace: 'tenant-d', name: 'virt-launcher-b-1', uid: 'u2' },
    );
    assert.match(
      textOf(section(renderIncidentPage(incident), 'plan')),
      /tenant-b : 2 \+2 more namespaces: 2/,
    );
  });

  it('offers the approve form (token field, digest, endpoint) while the plan is unapproved, with a no-JS way', () => {
    const incident = incidentFixture();
    const html = renderIncidentPage(incident, { basePath: '/sf' });
    const form = html.match(/<form class="approve"[^>]*>/)?.[0] ?? '';
    assert.match(form, /data-approve="\/sf\/api\/v1\/incidents\/inc-20261123-2147-a1b2\/approve"/);
    assert.ok(form.includes(`data-digest="${incident.plan?.digest}"`));
    assert.match(form, / hidden>$/, 'hidden until the script shows it');
    assert.match(html, /<input id="approve-token" name="token" type="password" autocomplete="off"/);
    assert.match(html, /<button type="submit">Approve plan \(cancel-migrations 3, clean 412\)<\/button>/);
    assert.match(html, /<noscript>.*\n<pre>curl -X POST -H "Authorization: Bearer \$TOKEN"/);
    assert.ok(html.includes(`-d '{"digest":"${incident.plan?.digest}"}' "$SERVE_URL/sf/api/v1/incidents/`));
    assert.match(html, /data-api="\/sf\/api\/v1\/incidents\/inc-20261123-2147-a1b2"/);
  });

  it('offers no approval once this digest is approved, for a closed incident, or without a plan', () => {
    const approved = incidentFixture();
    approved.approvals.push({
      digest: approved.plan?.digest ?? '',
      by: 'policy',
      at: '2026-11-23T21:48:00.000Z',
      mode: 'automatic',
    });
    const html = renderIncidentPage(approved);
    assert.doesNotMatch(html, /<form/);
    assert.match(html, /Approved automatically \(policy\) at 2026-11-23T21:48:00.000Z/);
    assert.doesNotMatch(renderIncidentPage(incidentFixture({ status: 'closed' })), /<form/);
    const planless = incidentFixture();
    delete planless.plan;
    assert.doesNotMatch(renderIncidentPage(planless), /<form/);
    // An approval of an earlier plan does not approve the re-made one.
    const remade = incidentFixture({
      approvals: [{ digest: 'sha256:old', by: 'bob', at: '2026-11-23T21:40:00.000Z', mode: 'manual' }],
    });
    const remadeHtml = renderIncidentPage(remade);
    assert.match(remadeHtml, /<form class="approve"/);
    assert.match(textOf(section(remadeHtml, 'approvals')), /bob manual sha256:old \(an earlier plan\)/);
  });

  it('shows progress per step from the live progress, the count falling, newest actions first and failures', () => {
    const actions = [
      ...cleaned(30, '2026-11-23T22:00:00.000Z'),
      ...cleaned(2, '2026-11-23T22:00:01.000Z', 'gone'),
      {
        ...cleaned(1, '2026-11-23T22:00:02.000Z', 'conflict')[0],
        name: 'virt-launcher-changed',
        detail: 'uid changed',
      },
    ] as JournalEntry[];
    const incident = incidentFixture({
      status: 'acting',
      actions,
      progress: {
        'cancel-migrations': { step: 'cancel-migrations', action: 'cancel-migrations', settled: 3, total: 3 },
        clean: { step: 'clean', action: 'clean', settled: 33, total: 412 },
      },
    });
    const html = renderIncidentPage(incident);
    assert.match(html, /<span class="count" data-field="failed-now">380<\/span>/);
    const progress = section(html, 'progress');
    assert.match(progress, /Running: this page follows it live/);
    assert.match(progress, /<tr data-step="clean" data-total="412">/);
    assert.match(progress, /<progress max="412" value="33">/);
    assert.match(
      progress,
      /data-field="settled">33 \/ 412<\/td><td data-field="outcomes">done 30, gone 2, conflict 1</,
    );
    assert.match(progress, /<progress max="3" value="3">/);
    const actionsHtml = section(html, 'actions');
    assert.match(actionsHtml, /<span data-field="actions-total">33<\/span> journaled/);
    const firstRow = actionsHtml.match(/<tbody data-field="recent-actions"><tr>(.*?)<\/tr>/)?.[1] ?? '';
    assert.equal(
      textOf(firstRow),
      '2026-11-23T22:00:02.000Z clean Pod vm-prod/virt-launcher-changed conflict uid changed',
    );
    assert.match(textOf(actionsHtml), /Not done \(1\)/);
  });

  it('counts settled targets from the journal when the service has no live progress for a step', () => {
    const retried = cleaned(5, '2026-11-23T22:00:00.000Z', 'failed');
    const incident = incidentFixture({
      status: 'acting',
      actions: [...retried, ...cleaned(5, '2026-11-23T22:01:00.000Z')],
    });
    assert.match(section(renderIncidentPage(incident), 'progress'), /data-field="settled">5 \/ 412</);
  });

  it(`lists only the newest ${RECENT_ACTIONS} actions`, () => {
    const incident = incidentFixture({ status: 'acting', actions: cleaned(120, '2026-11-23T22:00:00.000Z') });
    const body =
      section(renderIncidentPage(incident), 'actions').match(
        /<tbody data-field="recent-actions">([\s\S]*?)<\/tbody>/,
      )?.[1] ?? '';
    assert.equal([...body.matchAll(/<tr>/g)].length, RECENT_ACTIONS);
    assert.ok(body.includes('virt-launcher-vm-119-abcde'));
    assert.ok(body.includes(`virt-launcher-vm-${120 - RECENT_ACTIONS}-abcde`));
    assert.ok(!body.includes(`virt-launcher-vm-${119 - RECENT_ACTIONS}-abcde`));
  });

  it('says what is missing while the diagnosis runs', () => {
    const incident = incidentFixture();
    delete incident.diagnosis;
    delete incident.plan;
    const text = textOf(renderIncidentPage(incident));
    assert.match(text, /Diagnosing: the count and the plan appear here when the diagnosis is done/);
    assert.match(text, /No plan yet: it is made from the diagnosis/);
    assert.match(text, /Diagnosis Running\./);
  });

  it("shows the report's alert state, what was inferred and the timeline, as diagnose's HTML report does", () => {
    const diagnosis: Diagnosis = {
      ...diagnosisFixture(),
      alert: { state: 'pending', since: '2026-11-23T21:20:00Z', source: 'api-estimate', scope: 'cluster' },
      attribution: { fromOwnEvidence: 380, inferred: 32 },
      timeline: [
        { start: '2026-11-23T21:00:00Z', count: 100 },
        { start: '2026-11-23T21:20:00Z', count: 150 },
        { start: '2026-11-23T21:40:00Z', count: 162 },
      ],
    };
    const html = renderIncidentPage(incidentFixture({ diagnosis }));
    assert.match(html, /<figcaption>Failed launchers by the time they ended<\/figcaption>/);
    assert.equal(html.match(/<g class="bucket"/g)?.length, 3);
    const text = textOf(html);
    assert.match(text, /PENDING/);
    assert.match(text, /Alert pending: condition met since 2026-11-23T21:20:00Z/);
    assert.match(text, /the causes of 32 of 412 Failed launchers are inferred/);
  });

  it('renders every string from Alertmanager and the cluster inert', () => {
    const diagnosis = diagnosisFixture();
    diagnosis.causes[0] = { ...(diagnosis.causes[0] as Diagnosis['causes'][number]), summary: HOSTILE };
    diagnosis.byNamespace[0] = { key: HOSTILE, count: 268 };
    const incident: Incident = incidentFixture({
      id: HOSTILE,
      alert: {
        name: HOSTILE,
        groupKey: HOSTILE,
        labels: { [HOSTILE]: HOSTILE, namespace: '"><script>alert(2)</script>' },
        startsAt: HOSTILE,
        state: 'firing',
      },
      diagnosis,
      status: 'acting',
      actions: [
        { ...(cleaned(1, HOSTILE)[0] as JournalEntry), namespace: HOSTILE, name: HOSTILE, detail: HOSTILE },
      ],
      audit: [{ time: HOSTILE, what: HOSTILE, detail: HOSTILE }],
      approvals: [{ digest: HOSTILE, by: HOSTILE, at: HOSTILE, mode: 'manual' }],
      validation: { verdict: 'running', reason: HOSTILE, startedAt: HOSTILE },
    });
    const step = incident.plan?.steps[1];
    assert.ok(step);
    step.reason.summary = HOSTILE;
    step.targets.push({ kind: 'Pod', namespace: HOSTILE, name: HOSTILE, uid: HOSTILE });
    for (const html of [
      renderIncidentPage(incident),
      renderIndexPage([incident]),
      renderNotFoundPage(HOSTILE),
    ]) {
      const outside = withoutScripts(html);
      assert.doesNotMatch(outside, /<script|<img|onerror=alert\(1\)>/);
      assert.ok(outside.includes('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;'));
      // Attribute values cannot be closed early: no raw quote from the data survives.
      assert.doesNotMatch(outside, /"><script/);
    }
    // The one script of the incident page is ours, and carries no data: it reads it from escaped attributes.
    const script = renderIncidentPage(incident).match(/<script>([\s\S]*?)<\/script>/)?.[1] ?? '';
    assert.ok(!script.includes('alert("x")') && !script.includes('alert(2)'));
    assert.match(renderIndexPage([incident]), /href="\/incidents\/%3Cscript%3Ealert/);
  });
});
