// The official client (@kubernetes/client-node 1.4) against the simulator: the calls src/cluster makes, and the
// error shapes it branches on (ApiException.code, Status bodies).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject, Pod, Status } from '../../src/kube/types.js';
import { clientConformanceCluster, launcherPod } from '../helpers/cluster-fixtures.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

function configFor(handle: SimulatorHandle): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  config.loadFromFile(handle.kubeconfig);
  return config;
}

/** The ApiException's code and Status; client-node drops the body of a 401 (its generated code passes undefined). */
async function apiError(
  promise: Promise<unknown>,
): Promise<{ code: number; status: Status | undefined; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException) {
      const body: unknown = error.body;
      const status =
        typeof body === 'string' && body.startsWith('{') ? (JSON.parse(body) as Status) : undefined;
      return { code: error.code, status, headers: error.headers };
    }
    throw error;
  }
  assert.fail('expected an ApiException');
}

describe('client-node against the simulator (HTTP)', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  let core: k8s.CoreV1Api;
  let custom: k8s.CustomObjectsApi;
  let config: k8s.KubeConfig;
  before(async () => {
    handle = await startTestSimulator({ objects: clientConformanceCluster(), bookmarkIntervalMs: 50 });
    config = configFor(handle);
    core = config.makeApiClient(k8s.CoreV1Api);
    custom = config.makeApiClient(k8s.CustomObjectsApi);
  });
  after(async () => {
    await handle.stop();
  });

  it('pages a list with _continue', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await core.listPodForAllNamespaces({
        labelSelector: 'kubevirt.io=virt-launcher',
        fieldSelector: 'status.phase=Failed',
        limit: 5,
        ...(token === undefined ? {} : { _continue: token }),
      });
      names.push(...page.items.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`));
      token = page.metadata?._continue;
      pages += 1;
    } while (token);
    assert.equal(names.length, 23);
    assert.equal(pages, 5);
    assert.deepEqual(names, [...names].sort());
  });

  it('watches: ADDED, DELETED, BOOKMARK, then a 410 ERROR for a compacted version', async () => {
    const watch = new k8s.Watch(config);
    const start = handle.sim.store.resourceVersion;
    const seen: string[] = [];
    let sawBookmark = false;
    let controller: AbortController | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('watch did not deliver in time')), 10_000);
      watch
        .watch(
          '/api/v1/namespaces/vms-1/pods',
          { resourceVersion: String(start), allowWatchBookmarks: true, fieldSelector: 'metadata.name=fresh' },
          (type, object: Pod) => {
            if (type === 'BOOKMARK') sawBookmark = true;
            else seen.push(`${type} ${object.metadata.name}`);
            if (seen.length === 2 && sawBookmark) {
              clearTimeout(timer);
              resolve();
            }
          },
          () => undefined,
        )
        .then((abort) => {
          controller = abort;
        }, reject);
    });
    handle.sim.store.put('pods', launcherPod({ namespace: 'vms-1', name: 'fresh' }));
    await core.deleteNamespacedPod({ name: 'fresh', namespace: 'vms-1' });
    await finished;
    controller?.abort();
    assert.deepEqual(seen, ['ADDED fresh', 'DELETED fresh']);

    const expired = await new Promise<{ type: string; object: Status; doneError: unknown }>(
      (resolve, reject) => {
        let event: { type: string; object: Status } | undefined;
        watch
          .watch(
            '/api/v1/pods',
            { resourceVersion: '1' },
            (type, object: Status) => {
              event = { type, object };
            },
            (error) =>
              event ? resolve({ ...event, doneError: error }) : reject(new Error('no event before done')),
          )
          .catch(reject);
      },
    );
    assert.equal(expired.type, 'ERROR');
    assert.equal(expired.object.code, 410);
    assert.equal(expired.doneError, null);
  });

  it('deletes with a uid precondition: 409 on mismatch, 200 on match', async () => {
    const conflict = await apiError(
      core.deleteNamespacedPod({
        name: 'virt-launcher-vm0-abcde',
        namespace: 'vms-0',
        body: { preconditions: { uid: 'not-it' } },
      }),
    );
    assert.equal(conflict.code, 409);
    assert.equal(conflict.status?.reason, 'Conflict');
    const deleted = await core.deleteNamespacedPod({
      name: 'virt-launcher-vm0-abcde',
      namespace: 'vms-0',
      propagationPolicy: 'Background',
      gracePeriodSeconds: 0,
      body: { preconditions: { uid: 'uid-0' } },
    });
    assert.equal(deleted.metadata?.name, 'virt-launcher-vm0-abcde');
    const missing = await apiError(
      core.readNamespacedPod({ name: 'virt-launcher-vm0-abcde', namespace: 'vms-0' }),
    );
    assert.equal(missing.code, 404);
    assert.equal(missing.status?.message, 'pods "virt-launcher-vm0-abcde" not found');
  });

  it('deletes a collection by selector', async () => {
    await core.deleteCollectionNamespacedPod({
      namespace: 'vms-1',
      labelSelector: 'kubevirt.io=virt-launcher',
      fieldSelector: 'status.phase=Failed',
      propagationPolicy: 'Background',
    });
    const left = await core.listNamespacedPod({ namespace: 'vms-1' });
    assert.equal(left.items.length, 0);
  });

  it('reads logs with a tail', async () => {
    const text = await core.readNamespacedPodLog({
      name: 'virt-controller-a',
      namespace: 'kubevirt',
      container: 'virt-controller',
      tailLines: 4,
    });
    const logLines = text.trim().split('\n');
    assert.equal(logLines.length, 4);
    assert.match(logLines[3] ?? '', /line 19 of virt-controller-a/);
  });

  it('lists, gets, patches and deletes custom objects', async () => {
    const migrations = (await custom.listCustomObjectForAllNamespaces({
      group: 'kubevirt.io',
      version: 'v1',
      plural: 'virtualmachineinstancemigrations',
    })) as { items: KubeObject[] };
    assert.deepEqual(
      migrations.items.map((item) => item.metadata.name),
      ['mig-done', 'mig-running', 'mig-other'],
    );
    const got = (await custom.getNamespacedCustomObject({
      group: 'kubevirt.io',
      version: 'v1',
      namespace: 'vms-0',
      plural: 'virtualmachineinstancemigrations',
      name: 'mig-running',
    })) as KubeObject;
    assert.equal(got.kind, 'VirtualMachineInstanceMigration');
    const patched = (await custom.patchNamespacedCustomObject(
      {
        group: 'kubevirt.io',
        version: 'v1',
        namespace: 'vms-0',
        plural: 'virtualmachines',
        name: 'vm0',
        body: { spec: { runStrategy: 'Halted' } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as { spec: { runStrategy: string } };
    assert.equal(patched.spec.runStrategy, 'Halted');
    await custom.deleteNamespacedCustomObject({
      group: 'kubevirt.io',
      version: 'v1',
      namespace: 'vms-0',
      plural: 'virtualmachineinstancemigrations',
      name: 'mig-running',
      propagationPolicy: 'Background',
    });
    const gone = await apiError(
      custom.getNamespacedCustomObject({
        group: 'kubevirt.io',
        version: 'v1',
        namespace: 'vms-0',
        plural: 'virtualmachineinstancemigrations',
        name: 'mig-running',
      }),
    );
    assert.equal(gone.code, 404);
    const collection = (await custom.deleteCollectionNamespacedCustomObject({
      group: 'kubevirt.io',
      version: 'v1',
      namespace: 'vms-1',
      plural: 'virtualmachineinstancemigrations',
    })) as { items: KubeObject[] };
    assert.deepEqual(
      collection.items.map((item) => item.metadata.name),
      ['mig-other'],
    );
  });

  it('surfaces 429 as code 429 with Retry-After, without retrying', async () => {
    handle.sim.setFaults({ throttleRate: 1, retryAfterSeconds: 1 });
    const before = handle.sim.stats().requests;
    try {
      const throttled = await apiError(core.listNamespacedPod({ namespace: 'vms-0' }));
      assert.equal(throttled.code, 429);
      assert.equal(throttled.status?.reason, 'TooManyRequests');
      assert.equal(throttled.headers['retry-after'], '1');
      assert.equal(handle.sim.stats().requests, before + 1);
    } finally {
      handle.sim.setFaults({});
    }
  });
});

describe('client-node against the simulator (HTTPS, bearer tokens)', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  before(async () => {
    handle = await startTestSimulator({
      objects: clientConformanceCluster(),
      tls: true,
      tokens: { 'viewer-token': { user: 'system:serviceaccount:stuckfailed:reader', readOnly: true } },
    });
  });
  after(async () => {
    await handle.stop();
  });

  it('works with the admin token from the kubeconfig', async () => {
    const core = configFor(handle).makeApiClient(k8s.CoreV1Api);
    const pods = await core.listNamespacedPod({ namespace: 'vms-0' });
    assert.equal(pods.items.length, 12);
  });

  it('gets 401 with a wrong token and 403 on writes with a read-only one', async () => {
    const wrong = `${handle.dir}/wrong.kubeconfig`;
    await handle.sim.writeKubeconfig(wrong, { token: 'wrong' });
    const denied = new k8s.KubeConfig();
    denied.loadFromFile(wrong);
    const unauthorized = await apiError(
      denied.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: 'vms-0' }),
    );
    assert.equal(unauthorized.code, 401);

    const viewer = `${handle.dir}/viewer.kubeconfig`;
    await handle.sim.writeKubeconfig(viewer, { token: 'viewer-token' });
    const reader = new k8s.KubeConfig();
    reader.loadFromFile(viewer);
    const core = reader.makeApiClient(k8s.CoreV1Api);
    assert.equal((await core.listNamespacedPod({ namespace: 'vms-0' })).items.length, 12);
    const forbidden = await apiError(
      core.deleteNamespacedPod({ name: 'virt-launcher-vm2-abcde', namespace: 'vms-0' }),
    );
    assert.equal(forbidden.code, 403);
    assert.equal(
      forbidden.status?.message,
      'pods "virt-launcher-vm2-abcde" is forbidden: User "system:serviceaccount:stuckfailed:reader" cannot delete resource "pods" in API group "" in the namespace "vms-0"',
    );
  });
});
