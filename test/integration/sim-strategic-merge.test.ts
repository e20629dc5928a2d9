// The real kubectl's strategic merge patches against the simulator: a second `kubectl apply` sends a 3-way patch
// with `$setElementOrder` and `$patch: delete` directives, `kubectl patch` sends a strategic patch by default. The
// stored pod must be what the apiserver would store; a custom resource still refuses a strategic patch (415).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/kube/types.js';
import { makeHome, runKubectl } from '../helpers/kubectl.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';
import { vm } from '../helpers/vm-fixtures.js';

const NAMESPACE = 'apps';

interface Container {
  name: string;
  image: string;
  env?: Array<{ name: string; value: string }>;
}

function manifest(tier: string, image: string, env: Array<{ name: string; value: string }>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web', tier } },
    spec: {
      containers: [
        { name: 'app', image, env },
        { name: 'sidecar', image: 'sidecar:1' },
      ],
    },
  };
}

const FIRST = manifest('a', 'app:1', [
  { name: 'A', value: '1' },
  { name: 'B', value: '2' },
]);
const SECOND = manifest('b', 'app:2', [
  { name: 'A', value: '10' },
  { name: 'C', value: '3' },
]);

describe('strategic merge patches from the real kubectl', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  let home: string;
  before(async () => {
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } as KubeObject;
    handle = await startTestSimulator({
      objects: { objects: [namespace, vm({ namespace: NAMESPACE, name: 'vm1' })], logs: [] },
    });
    home = await makeHome();
  });
  after(async () => {
    await handle.stop();
  });
  const kubectl = (args: string[], input?: string) =>
    runKubectl([...args], { kubeconfig: handle.kubeconfig, home, ...(input === undefined ? {} : { input }) });
  const getPod = async () => {
    const result = await kubectl(['get', 'pod', 'web', '-n', NAMESPACE, '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    return {
      text: result.stdout,
      pod: JSON.parse(result.stdout) as KubeObject & { spec: { containers: Container[] } },
    };
  };

  it('a second apply merges containers and env by name and stores no directive', async () => {
    const first = await kubectl(['apply', '-f', '-'], JSON.stringify(FIRST));
    assert.equal(first.code, 0, first.stderr);
    const second = await kubectl(['apply', '-f', '-'], JSON.stringify(SECOND));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /pod\/web configured/);
    const { text, pod } = await getPod();
    assert.doesNotMatch(text, /\$setElementOrder|\$patch|\$deleteFromPrimitiveList|\$retainKeys/);
    assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'b' });
    assert.deepEqual(pod.spec.containers, SECOND.spec.containers);
    const lastApplied = pod.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '';
    // kubectl records the manifest with the (then empty) annotations it adds the record to.
    assert.deepEqual(JSON.parse(lastApplied), {
      ...SECOND,
      metadata: { ...SECOND.metadata, annotations: {} },
    });
  });

  it('kubectl patch (strategic by default) merges a new container into the list', async () => {
    const patched = await kubectl([
      'patch',
      'pod',
      'web',
      '-n',
      NAMESPACE,
      '-p',
      '{"spec":{"containers":[{"name":"debug","image":"busybox:1"},{"name":"sidecar","image":"sidecar:2"}]}}',
    ]);
    assert.equal(patched.code, 0, patched.stderr);
    const { pod } = await getPod();
    // mergeSortedSlice: the patch's items in its order, each server-only item before the next patch item the
    // server had after it.
    assert.deepEqual(pod.spec.containers, [
      { name: 'debug', image: 'busybox:1' },
      SECOND.spec.containers[0],
      { name: 'sidecar', image: 'sidecar:2' },
    ]);
  });

  it('a strategic patch of a virtualmachine is 415, a merge patch works', async () => {
    const strategic = await kubectl([
      'patch',
      'vm',
      'vm1',
      '-n',
      NAMESPACE,
      '-p',
      '{"spec":{"runStrategy":"Halted"}}',
    ]);
    assert.notEqual(strategic.code, 0);
    // kubectl turns the 415 into its own message, as against a real cluster.
    assert.match(
      strategic.stderr,
      /application\/strategic-merge-patch\+json is not supported by kubevirt\.io\/v1, Kind=VirtualMachine/,
    );
    const merged = await kubectl([
      'patch',
      'vm',
      'vm1',
      '-n',
      NAMESPACE,
      '--type',
      'merge',
      '-p',
      '{"spec":{"runStrategy":"Halted"}}',
    ]);
    assert.equal(merged.code, 0, merged.stderr);
    const stored = handle.sim.store.get('virtualmachines', NAMESPACE, 'vm1');
    assert.equal(
      (JSON.parse(stored?.body.toString('utf8') ?? '{}') as { spec: { runStrategy: string } }).spec
        .runStrategy,
      'Halted',
    );
  });
});
