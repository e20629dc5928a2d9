// CustomResourceDefinitions applied to the simulator and their resources served like a real apiserver serves
// them, with the real kubectl (apply, get with printer columns, patch --subresource=status) and client-node
// (CustomObjectsApi, Watch, CoordinationV1Api Leases as a Lease lock uses them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../../src/kube/types.js';
import { runKubectl } from '../helpers/kubectl.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

const GROUP = 'stuckfailed.io';
const VERSION = 'v1alpha1';
const PLURAL = 'incidents';

let handle: SimulatorHandle & { stop(): Promise<void> };
let custom: k8s.CustomObjectsApi;
let config: k8s.KubeConfig;

type Incident = KubeObject & {
  spec: { alert: { name: string; groupKey: string; fingerprint: string }; openedAt: string };
  status?: { phase?: string; failedLaunchers?: number; topCause?: string };
};

function incident(name: string, namespace: string, labels: Record<string, string> = {}): Incident {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'Incident',
    metadata: { name, namespace, labels },
    spec: {
      alert: { name: 'VirtLauncherPodsStuckFailed', groupKey: `{}:{alertname="${name}"}`, fingerprint: 'a1' },
      openedAt: '2026-11-29T09:00:00Z',
    },
    status: { phase: 'closed' },
  };
}

async function kubectl(...args: string[]) {
  const result = await runKubectl(args, { kubeconfig: handle.kubeconfig });
  assert.equal(result.code, 0, `kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function apiError(promise: Promise<unknown>): Promise<k8s.ApiException<string>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error as k8s.ApiException<string>;
    throw error;
  }
  assert.fail('expected the call to fail');
}

before(async () => {
  handle = await startTestSimulator({ scenario: 'healthy', namespaces: 1, nodes: 1 });
  config = new k8s.KubeConfig();
  config.loadFromFile(handle.kubeconfig);
  custom = config.makeApiClient(k8s.CustomObjectsApi);
});
after(async () => {
  await handle?.stop();
});

describe('CustomResourceDefinitions on the simulator', () => {
  it('kubectl applies the CRD, which becomes Established and discoverable', async () => {
    assert.match(await kubectl('apply', '-f', 'deploy/base/crd.yaml'), /incidents\.stuckfailed\.io created/);
    const crd = JSON.parse(await kubectl('get', 'crd', 'incidents.stuckfailed.io', '-o', 'json')) as {
      status: { conditions: Array<{ type: string; status: string }> };
    };
    assert.ok(
      crd.status.conditions.some(
        (condition) => condition.type === 'Established' && condition.status === 'True',
      ),
    );
    assert.match(
      await kubectl('api-resources', '--api-group', GROUP),
      /incidents\s+sfi\s+stuckfailed\.io\/v1alpha1\s+true\s+Incident/,
    );
    assert.match(await kubectl('apply', '-f', 'deploy/base/crd.yaml'), /unchanged/);
  });

  it('creates custom resources without their status, and kubectl prints the CRD columns', async () => {
    // As on a real cluster, a namespace must exist before anything is created in it.
    await config.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: 'other' } } });
    for (const [name, namespace] of [
      ['inc-a', 'default'],
      ['inc-b', 'default'],
      ['inc-c', 'other'],
    ] as const) {
      const created = (await custom.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        body: incident(name, namespace, { team: name === 'inc-c' ? 'red' : 'blue' }),
      })) as Incident;
      assert.equal(created.status, undefined, "status is the status subresource's to write");
      assert.equal(created.metadata.generation, 1);
    }
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: 'default',
        plural: PLURAL,
        name: 'inc-a',
        body: {
          status: { phase: 'acting', alertState: 'firing', failedLaunchers: 250, topCause: 'network' },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const table = await kubectl('get', 'incidents', '-A');
    const lines = table.trim().split('\n');
    assert.match(lines[0] as string, /^NAMESPACE\s+NAME\s+STATUS\s+ALERT\s+FAILED\s+TOP-CAUSE\s+AGE$/);
    assert.match(table, /default\s+inc-a\s+acting\s+firing\s+250\s+network\s+\d+s/);
    assert.match(table, /other\s+inc-c\s+\d+s/);
    assert.match(await kubectl('get', 'sfi', 'inc-a', '-o', 'wide'), /OPENED/);
  });

  it('lists with label selectors and pages with limit and continue', async () => {
    const red = (await custom.listCustomObjectForAllNamespaces({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      labelSelector: 'team=red',
    })) as { items: Incident[] };
    assert.deepEqual(
      red.items.map((item) => item.metadata.name),
      ['inc-c'],
    );
    const first = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      limit: 1,
    })) as { kind: string; items: Incident[]; metadata: { continue?: string; remainingItemCount?: number } };
    assert.equal(first.kind, 'IncidentList');
    assert.deepEqual(
      first.items.map((item) => item.metadata.name),
      ['inc-a'],
    );
    assert.equal(first.metadata.remainingItemCount, 1);
    const second = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      limit: 1,
      _continue: first.metadata.continue as string,
    })) as { items: Incident[]; metadata: { continue?: string } };
    assert.deepEqual(
      second.items.map((item) => item.metadata.name),
      ['inc-b'],
    );
    assert.equal(second.metadata.continue, undefined);
  });

  it('updates with optimistic concurrency: a stale resourceVersion is 409 Conflict', async () => {
    const current = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      name: 'inc-b',
    })) as Incident;
    const replaced = (await custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      name: 'inc-b',
      body: {
        ...current,
        spec: { ...current.spec, alert: { ...current.spec.alert, fingerprint: 'b2' } },
        status: { phase: 'closed' },
      },
    })) as Incident;
    assert.equal(replaced.spec.alert.fingerprint, 'b2');
    assert.equal(replaced.status, undefined, 'the main resource does not write status');
    assert.equal(replaced.metadata.generation, 2);
    const stale = await apiError(
      custom.replaceNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: 'default',
        plural: PLURAL,
        name: 'inc-b',
        body: current,
      }),
    );
    assert.equal(stale.code, 409);
    assert.match(
      String(stale.body),
      /Operation cannot be fulfilled on incidents\.stuckfailed\.io \\"inc-b\\": the object has been modified/,
    );
  });

  it('patches with merge and JSON patches; a strategic merge patch is 415 as for any custom resource', async () => {
    const merged = (await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: 'default',
        plural: PLURAL,
        name: 'inc-a',
        body: { metadata: { labels: { team: 'green' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    )) as Incident;
    assert.equal(merged.metadata.labels?.team, 'green');
    assert.equal(merged.status?.phase, 'acting', 'a main-resource patch keeps the status');
    assert.equal(merged.metadata.generation, 1, 'metadata changes do not bump the generation');
    const jsonPatched = (await custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: 'default',
        plural: PLURAL,
        name: 'inc-a',
        body: [{ op: 'replace', path: '/spec/alert/fingerprint', value: 'b2' }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    )) as Incident;
    assert.equal(jsonPatched.spec.alert.fingerprint, 'b2');
    const strategic = await apiError(
      custom.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: 'default',
          plural: PLURAL,
          name: 'inc-a',
          body: { spec: {} },
        },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      ),
    );
    assert.equal(strategic.code, 415);
  });

  it('the status subresource writes status only, with kubectl too', async () => {
    await kubectl(
      'patch',
      'incident',
      'inc-c',
      '-n',
      'other',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"validating"},"spec":{"openedAt":"2020-01-01T00:00:00Z"}}',
    );
    const after = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'other',
      plural: PLURAL,
      name: 'inc-c',
    })) as Incident;
    assert.equal(after.status?.phase, 'validating');
    assert.equal(after.spec.openedAt, '2026-11-29T09:00:00Z', 'a status write leaves the spec alone');
  });

  it('watches custom resources from a resourceVersion', async () => {
    const list = (await custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
    })) as {
      metadata: { resourceVersion: string };
    };
    const events: Array<{ type: string; name: string }> = [];
    const watch = new k8s.Watch(config);
    let resolveSeen: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      resolveSeen = resolve;
    });
    const request = await watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/default/${PLURAL}`,
      { resourceVersion: list.metadata.resourceVersion },
      (type, object: Incident) => {
        events.push({ type, name: object.metadata.name });
        if (type === 'DELETED') resolveSeen();
      },
      () => {},
    );
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      body: incident('inc-w', 'default'),
    });
    await custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: 'default',
      plural: PLURAL,
      name: 'inc-w',
    });
    await Promise.race([
      seen,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no DELETED event')), 20_000)),
    ]);
    request.abort();
    assert.deepEqual(events, [
      { type: 'ADDED', name: 'inc-w' },
      { type: 'DELETED', name: 'inc-w' },
    ]);
  });

  it('deleting the CRD deletes its resources and stops serving them', async () => {
    await kubectl('delete', 'crd', 'incidents.stuckfailed.io');
    const gone = await apiError(
      custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: PLURAL }),
    );
    assert.equal(gone.code, 404);
    assert.equal(handle.sim.store.has('incidents.stuckfailed.io'), false);
  });

  it('refuses an invalid CRD with 422, as the apiserver validates it', async () => {
    const result = await runKubectl(['apply', '-f', '-'], {
      kubeconfig: handle.kubeconfig,
      input: JSON.stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'wrong.example.com' },
        spec: {
          group: 'example.com',
          scope: 'Namespaced',
          names: { plural: 'things', kind: 'Thing' },
          versions: [{ name: 'v1', served: true, storage: true }],
        },
      }),
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /The CustomResourceDefinition "wrong\.example\.com" is invalid/);
    assert.match(
      result.stderr,
      /is invalid: metadata\.name: Invalid value: "wrong\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/,
    );
  });
});

describe('Leases as a Lease lock uses them', () => {
  it('create, get, renew with the resourceVersion read, and 409 for a stale one', async () => {
    const coordination = config.makeApiClient(k8s.CoordinationV1Api);
    const namespace = 'default';
    const missing = await apiError(coordination.readNamespacedLease({ name: 'stuckfailed', namespace }));
    assert.equal(missing.code, 404);
    const now = new Date('2026-11-29T10:00:00Z');
    const created = await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'stuckfailed', namespace },
        spec: {
          holderIdentity: 'replica-a',
          leaseDurationSeconds: 15,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      },
    });
    assert.equal(created.spec?.holderIdentity, 'replica-a');
    const read = await coordination.readNamespacedLease({ name: 'stuckfailed', namespace });
    const renewed = await coordination.replaceNamespacedLease({
      name: 'stuckfailed',
      namespace,
      body: { ...read, spec: { ...read.spec, renewTime: new Date(now.getTime() + 5000) } },
    });
    assert.notEqual(renewed.metadata?.resourceVersion, read.metadata?.resourceVersion);
    // Replica b read the Lease before a renewed it: its takeover must fail.
    const takeover = await apiError(
      coordination.replaceNamespacedLease({
        name: 'stuckfailed',
        namespace,
        body: { ...read, spec: { ...read.spec, holderIdentity: 'replica-b', leaseTransitions: 1 } },
      }),
    );
    assert.equal(takeover.code, 409);
    const duplicate = await apiError(
      coordination.createNamespacedLease({
        namespace,
        body: { metadata: { name: 'stuckfailed' }, spec: {} },
      }),
    );
    assert.equal(duplicate.code, 409);
    assert.equal(
      (await coordination.readNamespacedLease({ name: 'stuckfailed', namespace })).spec?.holderIdentity,
      'replica-a',
    );
    assert.match(await kubectl('get', 'leases', '-n', namespace), /stuckfailed\s+replica-a/);
  });
});
