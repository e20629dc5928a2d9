import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { FakeMitigator } from '../helpers/fake-mitigator.js';
import { diagnosisFixture, incidentFixture } from '../helpers/incident-fixture.js';
import { ALICE, startHarness, WEBHOOK_TOKEN, webhookBody } from '../helpers/serve-harness.js';

// The web page in a real browser (Debian's chromium driven by playwright-core): load the incidents, open one,
// approve its plan with a typed token, watch the actions appear and the Failed launcher count fall until the
// incident closes. Screenshots go to test-artifacts/ (gitignored) for a person to look at.

const CHROMIUM = '/usr/bin/chromium';
// shared/real-components.md "Chromium": without the background-networking flags it keeps trying to reach the internet.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

interface RunningApp {
  baseUrl: string;
  /** The incident the scenario approves: open, with a plan, nothing run yet. */
  incidentId: string;
  /** A token the app accepts for approvals, and the name approvals are recorded under. */
  token: string;
  approver: string;
  close(): Promise<void>;
}

/** Targets the run may settle per poll of the incident, so the page sees several counts on the way down. */
const CLEAN_PER_POLL = 100;

/**
 * The app under test: serve's own `createServer` (through the serve test harness, with serve's page renderers),
 * listening on 127.0.0.1, over a FakeMitigator in place of the cluster. Its diagnosis is the mixed fixture (412
 * Failed launchers) and its plan cancels 3 migrations then cleans the 412. The run is paced by the page itself: each
 * read of the incident's JSON lets the run settle the next targets (the 3 cancels, then 100 launchers a read), so
 * the page sees every intermediate state however slow the machine. Once the run is done (validating), the next read
 * delivers Alertmanager's resolved notification, and the service validates (cleared) and closes the incident.
 */
async function startApp(): Promise<RunningApp> {
  // The alert's state, attribution and timeline set apart from the fixture's, so the page is seen drawing them.
  const diagnosis: Diagnosis = {
    ...diagnosisFixture(),
    alert: { state: 'firing', since: '2026-11-23T21:24:00.000Z', source: 'api-estimate', scope: 'cluster' },
    attribution: { fromOwnEvidence: 398, inferred: 14 },
    timeline: [
      { start: '2026-11-23T21:00:00.000Z', count: 40 },
      { start: '2026-11-23T21:10:00.000Z', count: 95 },
      { start: '2026-11-23T21:20:00.000Z', count: 120 },
      { start: '2026-11-23T21:30:00.000Z', count: 97 },
      { start: '2026-11-23T21:40:00.000Z', count: 60 },
    ],
  };
  const plan = incidentFixture().plan;
  assert.ok(plan);
  const mitigator = new FakeMitigator();
  mitigator.diagnosis = diagnosis;
  mitigator.nextPlan = plan;
  mitigator.verdict = { verdict: 'cleared', reason: 'the count fell to 0 and stayed below 200' };
  const cancels = plan.steps[0]?.count ?? 0;
  let released = 0;
  let waiting: Array<() => void> = [];
  mitigator.applyGate = (index) =>
    index < released ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve));
  const release = () => {
    released += released < cancels ? cancels : CLEAN_PER_POLL;
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };

  const h = await startHarness({ mitigator });
  const deliver = async (groupKey: string, status: 'firing' | 'resolved') => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/webhook/alertmanager',
      headers: { authorization: `Bearer ${WEBHOOK_TOKEN}` },
      payload: webhookBody(groupKey, status),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as { incident: string };
  };
  // Added before the first inject(), which readies the app.
  const groupKey = '{}:{alertname="VirtLauncherPodsStuckFailed"}';
  let incidentId = '';
  let resolvedSent = false;
  h.app.addHook('onRequest', async (request) => {
    if (request.method !== 'GET' || request.url !== `/api/v1/incidents/${incidentId}`) return;
    const status = (await h.store.get(incidentId))?.incident.status;
    if (status === 'acting') release();
    if (status === 'validating' && !resolvedSent) {
      resolvedSent = true;
      await deliver(groupKey, 'resolved');
    }
  });
  // An earlier incident, closed (cleared), then the one the scenario approves: open, diagnosed and planned.
  await deliver('{}:{alertname="VirtLauncherPodsStuckFailed",run="earlier"}', 'firing');
  await h.service.idle();
  await deliver('{}:{alertname="VirtLauncherPodsStuckFailed",run="earlier"}', 'resolved');
  await h.service.idle();
  incidentId = (await deliver(groupKey, 'firing')).incident;
  await h.service.idle();

  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    incidentId,
    token: ALICE.token,
    approver: ALICE.name,
    close: async () => {
      // A run still waiting for its gate (a failed scenario) is let go, so that the service can stop.
      released = Number.POSITIVE_INFINITY;
      for (const resolve of waiting) resolve();
      await h.close();
    },
  };
}

/**
 * The few browser globals the page functions below read, typed here: the project compiles without the DOM library.
 * (String predicates would need eval, which the page's CSP rightly refuses.)
 */
interface BrowserGlobals {
  document: {
    cookie: string;
    querySelector(selector: string): {
      textContent: string | null;
      getAttribute(name: string): string | null;
      setAttribute(name: string, value: string): void;
    } | null;
  };
  localStorage: object;
  sessionStorage: object;
}

/** The text a person sees (layout-aware: hidden elements left out, cells separated), not the DOM's text. */
function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: what is rendered is the point
  return locator.innerText();
}

async function failedCount(page: Page): Promise<number> {
  return Number(await page.locator('[data-field="failed-now"]').textContent());
}

describe('the web page in chromium', () => {
  let app: RunningApp;
  let browser: Browser;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run scripts/install-deps.sh (Debian package chromium)`,
    );
    await mkdir(ARTIFACTS, { recursive: true });
    app = await startApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('reads without JavaScript: the incident, its plan and report, and the curl to approve', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${app.baseUrl}/incidents/${app.incidentId}`);
    assert.equal(await visibleText(page.locator('[data-field="failed-now"]')), '412');
    assert.match(await visibleText(page.locator('#plan')), /clean\s+migration: delete the Failed launchers/);
    assert.match(
      await visibleText(page.locator('#diagnosis')),
      /412 Failed virt-launcher pods >= threshold 200/,
    );
    assert.equal(await page.locator('form.approve').isVisible(), false);
    assert.match(await visibleText(page.locator('#plan')), /curl -X POST -H "Authorization: Bearer \$TOKEN"/);
    await context.close();
  });

  it('loads the incidents, opens one, approves it with a typed token and follows it to closed', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    await page.goto(`${app.baseUrl}/`);
    const rows = page.locator('main table tbody tr');
    assert.equal(await rows.count(), 2);
    assert.match(
      await visibleText(rows.first()),
      /OPEN\s+VirtLauncherPodsStuckFailed \(firing\).*412\s+migration: 236 pods/s,
    );
    await page.screenshot({ path: new URL('serve-page-index.png', ARTIFACTS).pathname });

    await page.getByRole('link', { name: app.incidentId }).click();
    await page.waitForURL(`**/incidents/${app.incidentId}`);
    assert.equal(await visibleText(page.locator('[data-field="status"]')), 'OPEN');
    assert.equal(await failedCount(page), 412);

    // A wrong token is refused, and the field is emptied either way: the page keeps no token.
    const token = page.getByLabel('Approval token');
    await token.fill('not-the-token');
    await page.getByRole('button', { name: /Approve plan/ }).click();
    await page.locator('[data-field="approve-message"]', { hasText: 'Token rejected (401)' }).waitFor();
    assert.equal(await token.inputValue(), '');
    assert.equal(await visibleText(page.locator('[data-field="status"]')), 'OPEN');

    // A page loaded before the plan was re-made approves a digest that is no longer the plan's: refused (409),
    // with the service's reason, and the button is offered again.
    const digest = await page.locator('form.approve').getAttribute('data-digest');
    const setDigest = (value: string) =>
      page.evaluate(
        ([selector, next]) => {
          (globalThis as unknown as BrowserGlobals).document
            .querySelector(selector)
            ?.setAttribute('data-digest', next);
        },
        ['form.approve', value] as const,
      );
    await setDigest(`sha256:${'0'.repeat(64)}`);
    await token.fill(app.token);
    await page.getByRole('button', { name: /Approve plan/ }).click();
    await page.locator('[data-field="approve-message"]', { hasText: 'Not approved (409)' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Approve plan/ }).isEnabled(), true);
    assert.equal(await visibleText(page.locator('[data-field="status"]')), 'OPEN');
    await setDigest(digest ?? '');

    await token.fill(app.token);
    await page.getByRole('button', { name: /Approve plan/ }).click();
    await page.locator('[data-field="approve-message"]', { hasText: 'Approved' }).waitFor();
    assert.equal(await token.inputValue(), '');
    const stored = await page.evaluate(() => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as BrowserGlobals;
      return JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]);
    });
    assert.ok(!stored.includes(app.token) && !page.url().includes(app.token));

    // The count falls, tick by tick, while the actions appear and the clean bar fills.
    const seen = [412];
    while (seen[seen.length - 1] !== 0) {
      const previous = seen[seen.length - 1] ?? 0;
      await page.waitForFunction(
        (before) =>
          Number(
            (globalThis as unknown as BrowserGlobals).document.querySelector('[data-field="failed-now"]')
              ?.textContent,
          ) < before,
        previous,
      );
      const count = await failedCount(page).catch(() => Number.NaN);
      if (Number.isNaN(count)) continue; // the page reloaded as the incident closed: read again
      seen.push(count);
      if (count < 412 && count > 0 && seen.length === 3) {
        // One snapshot of the live parts, so that a poll landing between two reads cannot mix two states.
        // (No named functions inside: tsx would wrap them in a helper the page does not have.)
        const selectors = {
          count: '[data-field="failed-now"]',
          status: '[data-field="status"]',
          clean: 'tr[data-step="clean"] [data-field="settled"]',
          bar: 'tr[data-step="clean"] progress',
          cancel: 'tr[data-step="cancel-migrations"] [data-field="settled"]',
          newest: '[data-field="recent-actions"] tr',
        };
        const live = await page.evaluate(
          (wanted) =>
            Object.fromEntries(
              Object.entries(wanted).map(([key, selector]) => {
                const node = (globalThis as unknown as BrowserGlobals).document.querySelector(selector);
                return [key, key === 'bar' ? node?.getAttribute('value') : node?.textContent];
              }),
            ),
          selectors,
        );
        assert.equal(live.status, 'acting');
        const settled = Number(String(live.clean).match(/^(\d+) \/ 412$/)?.[1]);
        // The bar shows at least what the count says was cleaned (the service reports progress as it goes and
        // may journal in batches).
        assert.ok(
          settled > 0 && settled >= 412 - Number(live.count),
          `${live.clean} with ${live.count} left`,
        );
        assert.equal(Number(live.bar), settled);
        assert.equal(live.cancel, '3 / 3');
        assert.match(String(live.newest), /^\S+cleanPod \S+done/);
        await page.screenshot({ path: new URL('serve-page.png', ARTIFACTS).pathname, fullPage: true });
      }
    }
    assert.ok(seen.length >= 4, `the count fell in steps: ${seen.join(' > ')}`);
    assert.ok(
      seen.slice(1, -1).every((count) => count > 0 && count < 412),
      seen.join(' > '),
    );

    // Out of acting/validating, the page reloads once and shows the closed incident, server-rendered.
    await page.locator('[data-field="status"]', { hasText: 'closed' }).waitFor();
    assert.equal(await failedCount(page), 0);
    assert.match(await visibleText(page.locator('#validation')), /^cleared: /m);
    assert.match(
      await visibleText(page.locator('h2', { hasText: 'Alert' })),
      /VirtLauncherPodsStuckFailed: resolved/,
    );
    assert.match(await visibleText(page.locator('#approvals')), new RegExp(`${app.approver}\\s+manual`));
    assert.match(
      await visibleText(page.locator('#audit')),
      new RegExp(`approved\\s+\\S+ by ${app.approver}`),
    );
    assert.equal(await visibleText(page.locator('[data-field="actions-total"]')), '415');
    assert.equal(await page.locator('form.approve').count(), 0);
    await page.screenshot({ path: new URL('serve-page-closed.png', ARTIFACTS).pathname, fullPage: true });
    // No script error; the failed requests are the wrong token's 401 and the stale digest's 409.
    assert.deepEqual(errors, [
      'Failed to load resource: the server responded with a status of 401 (Unauthorized)',
      'Failed to load resource: the server responded with a status of 409 (Conflict)',
    ]);
    await context.close();
  });
});
