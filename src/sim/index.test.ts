import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { launcherPod } from '../../test/helpers/cluster-fixtures.js';
import type { ClusterObjects } from '../kube/cluster-objects.js';
import { startSimulator } from './index.js';
import type { Scenario } from './scenarios/types.js';

/** A scenario whose every step is visible: failures in `broken`, healthy launchers in `fixed`. */
const countingScenario: Scenario = {
  name: 'image-pull',
  summary: 'test double',
  expectedTopCause: 'image',
  build: (options): ClusterObjects => ({
    objects: Array.from({ length: options.failed }, (_, index) =>
      launcherPod({ namespace: 'broken', name: `initial-${index}` }),
    ),
    logs: [],
  }),
  nextFailure: (state) => ({
    objects: [launcherPod({ namespace: 'broken', name: `churn-${state.sequence++}` })],
    logs: [],
  }),
  nextHealthy: (state) => ({
    objects: [launcherPod({ namespace: 'fixed', name: `healthy-${state.sequence++}`, phase: 'Running' })],
    logs: [],
  }),
};

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('startSimulator', () => {
  it('builds the scenario, churns failures, and churns healthy launchers after heal', async () => {
    const sim = await startSimulator({
      scenario: 'image-pull',
      failed: 3,
      churn: 100,
      getScenario: () => countingScenario,
    });
    try {
      assert.equal(sim.store.list('pods', { namespace: 'broken' }).items.length >= 3, true);
      // Every namespace in use gets its Namespace object (kubectl describe reads it).
      assert.notEqual(sim.store.get('namespaces', undefined, 'broken'), undefined);
      await until(() => sim.store.list('pods', { namespace: 'broken' }).items.length >= 6);
      assert.equal(sim.store.list('pods', { namespace: 'fixed' }).items.length, 0);
      const response = await fetch(`${sim.url}/sim/heal`, { method: 'POST' });
      assert.equal(response.status, 200);
      await until(() => sim.store.list('pods', { namespace: 'fixed' }).items.length >= 2);
    } finally {
      await sim.close();
    }
  });

  it('defaults to the healthy scenario with no failed launchers', async () => {
    let asked: string | undefined;
    let failed: number | undefined;
    const sim = await startSimulator({
      getScenario: (name) => {
        asked = name;
        return {
          ...countingScenario,
          build: (options) => {
            failed = options.failed;
            return { objects: [], logs: [] };
          },
        };
      },
    });
    await sim.close();
    assert.equal(asked, 'healthy');
    assert.equal(failed, 0);
  });

  it('writes a kubeconfig with the CA and token over HTTPS, and skip-verify over HTTP', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-kubeconfig-'));
    const plain = await startSimulator({ objects: { objects: [], logs: [] } });
    const secure = await startSimulator({ objects: { objects: [], logs: [] }, tls: true });
    try {
      await plain.writeKubeconfig(path.join(dir, 'plain'), { namespace: 'vms' });
      await secure.writeKubeconfig(path.join(dir, 'secure'));
      const plainConfig = parse(await readFile(path.join(dir, 'plain'), 'utf8'));
      assert.equal(plainConfig.clusters[0].cluster['insecure-skip-tls-verify'], true);
      assert.equal(plainConfig.contexts[0].context.namespace, 'vms');
      const secureConfig = parse(await readFile(path.join(dir, 'secure'), 'utf8'));
      assert.equal(secureConfig.clusters[0].cluster['certificate-authority-data'], secure.caData);
      assert.equal(secureConfig.users[0].user.token, secure.token);
      assert.match(secure.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await plain.close();
      await secure.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
