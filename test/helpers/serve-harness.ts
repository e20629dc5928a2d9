import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { createServer, type Server } from '../../src/server/create-server.js';
import { FileIncidentStore } from '../../src/server/file-incident-store.js';
import { silentLogger } from '../../src/server/json-logger.js';
import type { PageRenderers } from '../../src/server/placeholder-page.js';
import { defaultPolicy, type Policy } from '../../src/server/policy.js';
import type { NamedToken } from '../../src/server/tokens.js';
import { FakeMitigator } from './fake-mitigator.js';

// One `serve` app over a temp data directory and a FakeMitigator, for inject() tests (no port) and, listened on,
// for the Alertmanager test and the load benchmark.

export const WEBHOOK_TOKEN = 'webhook-token-0123456789abcdef';
export const ALICE: NamedToken = { name: 'alice', token: 'alice-token-0123456789abcdef' };

export const FIRING_BODY = JSON.parse(
  readFileSync(new URL('../fixtures/alertmanager-webhook-firing.json', import.meta.url), 'utf8'),
) as Record<string, unknown> & { groupKey: string; alerts: Array<Record<string, unknown>> };

/** A webhook body for a group, firing or resolved, shaped as Alertmanager sends it. */
export function webhookBody(
  groupKey: string,
  status: 'firing' | 'resolved',
  alertname = 'VirtLauncherPodsStuckFailed',
) {
  const body = structuredClone(FIRING_BODY);
  body.groupKey = groupKey;
  body.status = status;
  for (const alert of body.alerts) {
    alert.status = status;
    (alert.labels as Record<string, string>).alertname = alertname;
    if (status === 'resolved') alert.endsAt = '2026-11-23T22:10:00Z';
  }
  (body.commonLabels as Record<string, string>).alertname = alertname;
  (body.groupLabels as Record<string, string>).alertname = alertname;
  return body;
}

export interface Harness extends Server {
  dir: string;
  store: FileIncidentStore;
  mitigator: FakeMitigator;
  registry: Registry;
  /** Re-opens the same data directory in a new app (a restart), with a fresh mitigator. */
  restart(mitigator?: FakeMitigator): Promise<Harness>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policy?: Policy;
  apiTokens?: NamedToken[];
  mitigator?: FakeMitigator;
  dir?: string;
  bodyLimit?: number;
  pages?: PageRenderers;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'stuckfailed-serve-')));
  const store = await FileIncidentStore.open(dir);
  const mitigator = options.mitigator ?? new FakeMitigator();
  const registry = new Registry();
  let tick = Date.parse('2026-11-29T10:00:00.000Z');
  let ids = 0;
  const server = await createServer({
    store,
    mitigator,
    policy: options.policy ?? defaultPolicy(),
    // Every reading of the clock is a millisecond later: times are ordered and repeatable.
    now: () => {
      tick += 1;
      return new Date(tick);
    },
    logger: silentLogger(),
    registry,
    webhookToken: WEBHOOK_TOKEN,
    apiTokens: options.apiTokens ?? [ALICE],
    newId: () => {
      ids += 1;
      return `inc-${process.pid}-${Date.now().toString(36)}-${ids}`;
    },
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    ...(options.pages === undefined ? {} : { pages: options.pages }),
  });
  const harness: Harness = {
    ...server,
    dir,
    store,
    mitigator,
    registry,
    async restart(next) {
      await server.app.close();
      await store.close();
      return startHarness({ ...options, dir, ...(next === undefined ? {} : { mitigator: next }) });
    },
    async close() {
      await server.app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
