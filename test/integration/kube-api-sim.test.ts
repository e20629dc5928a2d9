// The live client against the simulator (a real HTTP(S) API server): paged streaming lists with selectors that
// stay exact under every fault the simulator injects, writes with preconditions, watches, and auth over HTTPS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isConflict, isNotFound } from '../../src/cluster/api-error.js';
import { KubeApi, type KubeApiOptions } from '../../src/cluster/kube-api.js';
import { loadKubeConfig } from '../../src/cluster/kube-config.js';
import { openClusterReader, openKubeApi } from '../../src/cluster/open-reader.js';
import { StuckfailedError } from '../../src/errors.js';
import type { KubeObject, Pod, VirtualMachine } from '../../src/kube/types.js';
import { launcherPod } from '../helpers/cluster-fixtures.js';
import { startTestSimulator } from '../helpers/simulator.js';

const NAMESPACES = 7;
const POD_COUNT = 3000;

/** 3,000 pods over 7 namespaces: Failed and Running launchers, and pods that only look like launchers. */
function seedPods(): Pod[] {
  const pods: Pod[] = [];
  for (let i = 0; i < POD_COUNT; i += 1) {
    const namespace = `vms-${i % NAMESPACES}`;
    const name = `virt-launcher-vm-${String(i).padStart(5, '0')}-abcde`;
    const phase = i % 3 === 0 ? 'Running' : 'Failed';
    const pod = launcherPod({ namespace, name, phase, nodeName: `node-${i % 5}`, uid: `uid-${i}` });
    if (i % 10 === 0) pod.metadata.labels = { app: 'imposter' };
    pods.push(pod);
  }
  return pods;
}

const pods = seedPods();

interface Query {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** The reference answer, computed here by hand from the seed. */
function expected(query: Query): string[] {
  return pods
    .filter((pod) => query.namespace === undefined || pod.metadata.namespace === query.namespace)
    .filter((pod) => {
      if (query.labelSelector === 'kubevirt.io=virt-launcher')
        return pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher';
      if (query.labelSelector === 'app!=imposter') return pod.metadata.labels?.app !== 'imposter';
      return true;
    })
    .filter((pod) =>
      (query.fieldSelector ?? '')
        .split(',')
        .filter((term) => term !== '')
        .every((term) => {
          const [field, value] = term.split('=');
          if (field === 'status.phase') return pod.status?.phase === value;
          if (field === 'spec.nodeName') return pod.spec.nodeName === value;
          throw new Error(`the reference does not know ${term}`);
        }),
    )
    .map(key)
    .sort();
}

function key(object: KubeObject): string {
  return `${object.metadata.namespace}/${object.metadata.name}`;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Retries that do not wait long: the faults are many and the test must stay fast. */
const quickRetries: Partial<KubeApiOptions> = {
  qps: 0,
  retry: { maxRetries: 30, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 5 },
};

describe('KubeApi against the simulator', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  const apis: KubeApi[] = [];

  function apiFor(options: Partial<KubeApiOptions> = {}): KubeApi {
    const { kubeConfig } = loadKubeConfig({ kubeconfig: handle.kubeconfig, env: {} });
    const api = new KubeApi({ kubeConfig, ...quickRetries, ...options });
    apis.push(api);
    return api;
  }

  before(async () => {
    handle = await startTestSimulator({ objects: { objects: pods, logs: [] }, contextNamespace: 'vms-0' });
  });
  after(async () => {
    for (const api of apis) api.close();
    await handle.stop();
  });

  it('streams a paged list of thousands of pods with selectors, exactly, through openClusterReader', async () => {
    const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {}, pageSize: 250, qps: 0 });
    try {
      assert.equal(opened.reader.source, 'api');
      assert.equal(opened.defaultNamespace, 'vms-0');
      const before = handle.sim.stats().byVerb.list ?? 0;
      const query = { labelSelector: 'kubevirt.io=virt-launcher', fieldSelector: 'status.phase=Failed' };
      const listed = await collect(opened.reader.list<Pod>('pods', query));
      assert.deepEqual(listed.map(key), expected(query));
      assert.ok((handle.sim.stats().byVerb.list ?? 0) - before >= 2, 'more than one page');
    } finally {
      opened.close();
    }
  });

  it('counts the same requests as the server when there are no faults', async () => {
    const api = apiFor({ pageSize: 500 });
    const before = handle.sim.stats().requests;
    const listed = await collect(api.list('pods'));
    assert.equal(listed.length, POD_COUNT);
    assert.equal(api.stats().requests, handle.sim.stats().requests - before);
    assert.deepEqual(api.stats().byVerb, { list: Math.ceil(POD_COUNT / 500) });
  });

  it('stays exact under throttling, errors, resets and expiring continue tokens', async () => {
    handle.sim.setFaults({
      throttleRate: 0.2,
      retryAfterSeconds: 0,
      errorRate: 0.15,
      resetRate: 0.1,
      expireContinueAfterSeconds: 0,
    });
    try {
      const warnings: string[] = [];
      const api = apiFor({ pageSize: 100, onWarning: (message) => warnings.push(message) });
      const query = { labelSelector: 'kubevirt.io=virt-launcher', fieldSelector: 'status.phase=Failed' };
      const listed = await collect(api.list<Pod>('pods', query));
      assert.deepEqual(listed.map(key), expected(query));
      const stats = api.stats();
      assert.ok(stats.retries > 0, 'faults were met and retried');
      assert.ok(stats.expiredContinues > 0, 'continue tokens expired and were renewed');
      assert.equal(warnings.length, stats.expiredContinues);
    } finally {
      handle.sim.setFaults({});
    }
  });

  it('property: a paged list under random faults returns exactly the reference set', async () => {
    const api = apiFor();
    const queries: Query[] = [
      {},
      { labelSelector: 'kubevirt.io=virt-launcher', fieldSelector: 'status.phase=Failed' },
      { namespace: 'vms-3', labelSelector: 'app!=imposter' },
      { fieldSelector: 'spec.nodeName=node-3' },
      { namespace: 'vms-5', fieldSelector: 'status.phase=Failed' },
    ];
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            query: fc.constantFrom(...queries),
            limit: fc.integer({ min: 50, max: 1500 }),
            throttleRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
            errorRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
            resetRate: fc.double({ min: 0, max: 0.15, noNaN: true }),
            expire: fc.boolean(),
          }),
          async ({ query, limit, throttleRate, errorRate, resetRate, expire }) => {
            handle.sim.setFaults({
              throttleRate,
              retryAfterSeconds: 0,
              errorRate,
              resetRate,
              ...(expire ? { expireContinueAfterSeconds: 0 } : {}),
            });
            const listed = await collect(api.list<Pod>('pods', { ...query, limit }));
            assert.deepEqual(listed.map(key), expected(query));
          },
        ),
        { numRuns: 12, seed: 20260310 },
      );
    } finally {
      handle.sim.setFaults({});
    }
  });

  it('deletes with preconditions: a wrong uid is a Conflict, the right one deletes; gone is NotFound', async () => {
    const api = apiFor();
    const target = await api.get<Pod>('pods', 'virt-launcher-vm-00001-abcde', 'vms-1');
    assert.ok(target?.metadata.uid);
    await assert.rejects(
      api.delete('pods', 'virt-launcher-vm-00001-abcde', 'vms-1', { preconditions: { uid: 'someone-else' } }),
      (error) => isConflict(error),
    );
    await api.delete('pods', 'virt-launcher-vm-00001-abcde', 'vms-1', {
      preconditions: { uid: target.metadata.uid },
      dryRun: true,
    });
    assert.ok(await api.get('pods', 'virt-launcher-vm-00001-abcde', 'vms-1'), 'a dry run changes nothing');
    await api.delete('pods', 'virt-launcher-vm-00001-abcde', 'vms-1', {
      preconditions: { uid: target.metadata.uid },
      propagationPolicy: 'Background',
    });
    assert.equal(await api.get('pods', 'virt-launcher-vm-00001-abcde', 'vms-1'), undefined);
    await assert.rejects(api.delete('pods', 'virt-launcher-vm-00001-abcde', 'vms-1'), (error) =>
      isNotFound(error),
    );
    pods.splice(
      pods.findIndex((pod) => key(pod) === 'vms-1/virt-launcher-vm-00001-abcde'),
      1,
    );
  });

  it('deletes a collection by selector in one namespace and returns what it deleted', async () => {
    const api = apiFor();
    // Failed pods go at once (pod strategy CheckGracefulDelete); Running ones would linger with a deletionTimestamp.
    const selector = {
      labelSelector: 'kubevirt.io=virt-launcher',
      fieldSelector: 'spec.nodeName=node-3,status.phase=Failed',
    };
    const matching = expected({ namespace: 'vms-6', ...selector });
    const deleted = await api.deleteCollection<Pod>('pods', 'vms-6', {
      ...selector,
      propagationPolicy: 'Background',
    });
    assert.deepEqual(deleted.map(key).sort(), matching);
    assert.deepEqual(await collect(api.list('pods', { namespace: 'vms-6', ...selector })), []);
    for (const gone of matching)
      pods.splice(
        pods.findIndex((pod) => key(pod) === gone),
        1,
      );
  });

  it('merge-patches a VirtualMachine runStrategy', async () => {
    const vm: VirtualMachine = {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'vm-1', namespace: 'vms-0' },
      spec: { runStrategy: 'Always' },
    };
    handle.sim.store.put('virtualmachines', vm);
    const api = apiFor();
    const patched = await api.mergePatch<VirtualMachine>('virtualmachines', 'vm-1', 'vms-0', {
      spec: { runStrategy: 'Halted' },
    });
    assert.equal(patched.spec.runStrategy, 'Halted');
    assert.equal(
      (await api.get<VirtualMachine>('virtualmachines', 'vm-1', 'vms-0'))?.spec.runStrategy,
      'Halted',
    );
  });

  it('watches: lists first, then sees a deletion', async () => {
    const api = apiFor();
    const controller = new AbortController();
    const types: string[] = [];
    const seen = (async () => {
      for await (const event of api.watch<Pod>('pods', { namespace: 'vms-2', signal: controller.signal })) {
        types.push(event.type);
        if (event.type === 'SYNCED') {
          await api.delete('pods', 'virt-launcher-vm-00002-abcde', 'vms-2');
        }
        if (event.type === 'DELETED') {
          assert.equal(event.object.metadata.name, 'virt-launcher-vm-00002-abcde');
          return;
        }
      }
    })();
    const timeout = setTimeout(() => controller.abort(new Error('no DELETED event within 10 s')), 10_000);
    try {
      await seen;
    } finally {
      clearTimeout(timeout);
      controller.abort();
    }
    pods.splice(
      pods.findIndex((pod) => key(pod) === 'vms-2/virt-launcher-vm-00002-abcde'),
      1,
    );
    assert.equal(types[0], 'RELIST');
    assert.equal(
      types.filter((type) => type === 'ADDED').length,
      expected({ namespace: 'vms-2' }).length + 1,
    );
    assert.equal(types.at(-1), 'DELETED');
  });
});

describe('KubeApi against the simulator over HTTPS', () => {
  let handle: Awaited<ReturnType<typeof startTestSimulator>>;
  before(async () => {
    handle = await startTestSimulator({
      tls: true,
      objects: { objects: pods.slice(0, 20), logs: [] },
      tokens: { 'viewer-token': { user: 'viewer', readOnly: true } },
    });
  });
  after(async () => {
    await handle.stop();
  });

  it('reads with the admin token from the kubeconfig, trusting its CA', async () => {
    const { api } = openKubeApi({ kubeconfig: handle.kubeconfig, env: {}, qps: 0 });
    try {
      assert.equal((await collect(api.list('pods'))).length, 20);
    } finally {
      api.close();
    }
  });

  it('maps a bad token to UNAUTHORIZED and a read-only identity writing to FORBIDDEN', async () => {
    const badPath = `${handle.dir}/bad-kubeconfig`;
    await handle.sim.writeKubeconfig(badPath, { token: 'not-a-token' });
    const bad = openKubeApi({ kubeconfig: badPath, env: {}, qps: 0 });
    const viewerPath = `${handle.dir}/viewer-kubeconfig`;
    await handle.sim.writeKubeconfig(viewerPath, { token: 'viewer-token' });
    const viewer = openKubeApi({ kubeconfig: viewerPath, env: {}, qps: 0 });
    try {
      await assert.rejects(collect(bad.api.list('pods')), (error: unknown) => {
        assert.ok(error instanceof StuckfailedError);
        assert.equal(error.code, 'UNAUTHORIZED');
        return true;
      });
      assert.equal((await collect(viewer.api.list('pods'))).length, 20);
      const [first] = pods;
      await assert.rejects(
        viewer.api.delete('pods', first?.metadata.name ?? '', first?.metadata.namespace),
        (error: unknown) => {
          assert.ok(error instanceof StuckfailedError);
          assert.equal(error.code, 'FORBIDDEN');
          assert.match(error.message, /forbidden/);
          return true;
        },
      );
    } finally {
      bad.api.close();
      viewer.api.close();
    }
  });
});
