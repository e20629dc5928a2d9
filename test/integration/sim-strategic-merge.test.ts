// The real kubectl's strategic merge patches against the simulator: a second `kubectl apply` sends a 3-way patch
// with `$setElementOrder` and `$patch: delete` directives, `kubectl patch` sends a strategic patch by default. The
// stored pod must be what the apiserver would store, and what it refuses (ValidatePodUpdate: a pod's spec may change
// only in images, tolerations added, scheduling gates removed...) must fail with its message; a custom resource
// still refuses a strategic patch (415).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/kube/types.js';
import { makeHome, runKubectl } from '../helpers/kubectl.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';
import { vm } from '../helpers/vm-fixtures.js';

const NAMESPACE = 'apps';
const ENV = [
  { name: 'A', value: '1' },
  { name: 'B', value: '2' },
];
/** The start of the 422 kubectl prints for a pod spec change a real cluster refuses. */
const SPEC_CHANGE_REFUSED =
  'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

interface Container {
  name: string;
  image: string;
  env?: Array<{ name: string; value: string }>;
}

interface PodSpec {
  containers: Container[];
  schedulingGates?: Array<{ name: string }>;
  tolerations?: Array<Record<string, string>>;
}

function manifest(tier: string, image: string, gates: string[], containers: Container[] = []) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web', tier } },
    spec: {
      containers: [{ name: 'app', image, env: ENV }, { name: 'sidecar', image: 'sidecar:1' }, ...containers],
      schedulingGates: gates.map((name) => ({ name })),
    },
  };
}

// A pod may change its images and labels and lose scheduling gates: the second apply does all three.
const FIRST = manifest('a', 'app:1', ['example.com/a', 'example.com/b']);
const SECOND = manifest('b', 'app:2', ['example.com/a']);

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
    return { text: result.stdout, pod: JSON.parse(result.stdout) as KubeObject & { spec: PodSpec } };
  };
  const patch = (body: unknown, ...flags: string[]) =>
    kubectl(['patch', 'pod', 'web', '-n', NAMESPACE, ...flags, '-p', JSON.stringify(body)]);

  it('a second apply merges containers by name, deletes a gate and stores no directive', async () => {
    const first = await kubectl(['apply', '-f', '-'], JSON.stringify(FIRST));
    assert.equal(first.code, 0, first.stderr);
    const second = await kubectl(['apply', '-f', '-'], JSON.stringify(SECOND));
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /pod\/web configured/);
    const { text, pod } = await getPod();
    assert.doesNotMatch(text, /\$setElementOrder|\$patch|\$deleteFromPrimitiveList|\$retainKeys/);
    assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'b' });
    assert.deepEqual(pod.spec.containers, SECOND.spec.containers);
    assert.deepEqual(pod.spec.schedulingGates, [{ name: 'example.com/a' }]);
    const lastApplied = pod.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '';
    // kubectl records the manifest with the (then empty) annotations it adds the record to.
    assert.deepEqual(JSON.parse(lastApplied), {
      ...SECOND,
      metadata: { ...SECOND.metadata, annotations: {} },
    });
  });

  it('an apply that changes env or adds a container is refused, as a real cluster refuses it', async () => {
    const env = manifest('b', 'app:2', ['example.com/a']);
    (env.spec.containers[0] as Container).env = [{ name: 'A', value: '10' }];
    const changed = await kubectl(['apply', '-f', '-'], JSON.stringify(env));
    assert.notEqual(changed.code, 0);
    assert.ok(changed.stderr.includes(SPEC_CHANGE_REFUSED), changed.stderr);
    // The diff names what changed (upstream prints cmp.Diff of the Go structs, see update-validation.ts).
    assert.match(
      changed.stderr,
      /- \tcontainers\[0\]\.env\[0\]\.value: "1",\n\+ \tcontainers\[0\]\.env\[0\]\.value: "10",/,
    );
    const added = await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify(manifest('b', 'app:2', ['example.com/a'], [{ name: 'debug', image: 'busybox:1' }])),
    );
    assert.notEqual(added.code, 0);
    assert.match(
      added.stderr,
      /The Pod "web" is invalid: spec\.containers: Forbidden: pod updates may not add or remove containers/,
    );
    const { pod } = await getPod();
    assert.deepEqual(pod.spec.containers, SECOND.spec.containers);
  });

  it('kubectl patch (strategic by default) changes an image by name and adds a toleration', async () => {
    const image = await patch({ spec: { containers: [{ name: 'sidecar', image: 'sidecar:2' }] } });
    assert.equal(image.code, 0, image.stderr);
    const toleration = { key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' };
    const tolerated = await patch({ spec: { tolerations: [toleration] } });
    assert.equal(tolerated.code, 0, tolerated.stderr);
    const { pod } = await getPod();
    assert.deepEqual(pod.spec.containers, [
      SECOND.spec.containers[0],
      { name: 'sidecar', image: 'sidecar:2' },
    ]);
    assert.deepEqual(pod.spec.tolerations, [toleration]);
  });

  it('kubectl patch may not add a container, drop a toleration, or change a name or uid', async () => {
    const container = await patch({ spec: { containers: [{ name: 'debug', image: 'busybox:1' }] } });
    assert.notEqual(container.code, 0);
    assert.match(
      container.stderr,
      /The Pod "web" is invalid: spec\.containers: Forbidden: pod updates may not add or remove containers/,
    );
    const untolerated = await patch({ spec: { tolerations: null } });
    assert.notEqual(untolerated.code, 0);
    assert.match(
      untolerated.stderr,
      /The Pod "web" is invalid: spec\.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds/,
    );
    const renamed = await patch({ metadata: { name: 'other' } }, '--type', 'merge');
    assert.notEqual(renamed.code, 0);
    assert.match(
      renamed.stderr,
      /Error from server \(BadRequest\): the name of the object \(other\) does not match the name on the URL \(web\)/,
    );
    // ValidateObjectMetaUpdate holds for every kind: a virtual machine's uid too.
    const uid = await kubectl([
      'patch',
      'vm',
      'vm1',
      '-n',
      NAMESPACE,
      '--type',
      'merge',
      '-p',
      '{"metadata":{"uid":"other"}}',
    ]);
    assert.notEqual(uid.code, 0);
    assert.match(
      uid.stderr,
      /The VirtualMachine "vm1" is invalid: metadata\.uid: Invalid value: "other": field is immutable/,
    );
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
