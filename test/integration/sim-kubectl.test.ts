// Conformance of the simulator with the REAL kubectl (/usr/bin/kubectl dispatching to 1.32 on the pinned
// /version), running the runbook's own commands. Each kubectl gets its own HOME (discovery cache) unless a test
// shares one on purpose. Fixtures are built here, not by the scenarios, so these tests pin the API alone.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterObjects } from '../../src/kube/cluster-objects.js';
import type { KubeList, Pod } from '../../src/kube/types.js';
import { controllerPod, kubevirtCr, launcherPod, migration, podEvent } from '../helpers/cluster-fixtures.js';
import { makeHome, runKubectl, runShell } from '../helpers/kubectl.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

const FAILED_SELECTOR = ['-l', 'kubevirt.io=virt-launcher', '--field-selector=status.phase=Failed'];

/** 12 Failed launchers in 3 namespaces, one Running launcher, two virt-controllers with logs, migrations, the CR. */
function cluster(): ClusterObjects {
  const failed = Array.from({ length: 12 }, (_, index) =>
    launcherPod({
      namespace: `vms-${index % 3}`,
      name: `virt-launcher-vm${index}-x7k2p`,
      uid: `uid-${index}`,
    }),
  );
  const running = launcherPod({
    namespace: 'vms-0',
    name: 'virt-launcher-alive-q9w8e',
    phase: 'Running',
    terminationGracePeriodSeconds: 1,
  });
  const controllers = [
    controllerPod('kubevirt', 'virt-controller-a', 10),
    controllerPod('kubevirt', 'virt-controller-b', 10),
  ];
  return {
    objects: [
      ...failed,
      running,
      ...controllers.flatMap((controller) => controller.objects),
      podEvent(failed[0] as Pod, 'FailedMount', 'MountVolume.SetUp failed for volume "rootdisk"'),
      migration('vms-0', 'kubevirt-evacuation-abc12', 'vm0', 'Failed'),
      migration('vms-1', 'kubevirt-workload-update-xyz34', 'vm1', 'Running'),
      kubevirtCr('kubevirt'),
    ],
    logs: controllers.flatMap((controller) => controller.logs),
  };
}

const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');

describe('kubectl against the simulator (aggregated discovery)', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  let home: string;
  before(async () => {
    handle = await startTestSimulator({ objects: cluster() });
    home = await makeHome();
  });
  after(async () => {
    await handle.stop();
  });
  const kubectl = (args: string[]) => runKubectl(args, { kubeconfig: handle.kubeconfig, home });

  it('lists Failed launchers across namespaces in pages of 7, with the STATUS column', async () => {
    const before = handle.sim.stats();
    const result = await kubectl(['get', 'pods', '-A', ...FAILED_SELECTOR, '--chunk-size=7']);
    assert.equal(result.code, 0, result.stderr);
    const output = lines(result.stdout);
    assert.match(output[0] ?? '', /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.equal(output.length, 13);
    for (const row of output.slice(1))
      assert.match(row, /^vms-\d\s+virt-launcher-vm\d+-x7k2p\s+0\/2\s+Error\s+0\s+\d+[smhdy]/);
    const listed = handle.sim.stats().byVerb.list ?? 0;
    assert.equal(listed - (before.byVerb.list ?? 0), 2, 'two pages of at most 7');
  });

  it('prints -o name without namespaces, -o json as one List, and jsonpath', async () => {
    const names = await kubectl(['get', 'pods', '-A', ...FAILED_SELECTOR, '-o', 'name']);
    assert.equal(names.code, 0, names.stderr);
    assert.equal(lines(names.stdout).length, 12);
    assert.ok(lines(names.stdout).every((line) => /^pod\/virt-launcher-vm\d+-x7k2p$/.test(line)));
    const json = await kubectl(['get', 'pods', '-A', ...FAILED_SELECTOR, '-o', 'json', '--chunk-size=5']);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as KubeList<Pod>;
    assert.equal(list.kind, 'List');
    assert.equal(list.items.length, 12);
    const jsonpath = await kubectl([
      'get',
      'pods',
      '-n',
      'vms-1',
      ...FAILED_SELECTOR,
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
    assert.equal(
      jsonpath.stdout,
      'virt-launcher-vm1-x7k2p virt-launcher-vm10-x7k2p virt-launcher-vm4-x7k2p virt-launcher-vm7-x7k2p',
    );
  });

  it('describes a pod with its Events section', async () => {
    const result = await kubectl(['-n', 'vms-0', 'describe', 'pod', 'virt-launcher-vm0-x7k2p']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Status:\s+Failed$/m);
    assert.match(result.stdout, /^Events:/m);
    assert.match(result.stdout, /Warning\s+FailedMount\s+.*kubelet\s+MountVolume\.SetUp failed/);
  });

  it('gets migrations and the KubeVirt namespace as the runbook does', async () => {
    const vmim = await kubectl(['get', 'vmim', '-A']);
    assert.equal(vmim.code, 0, vmim.stderr);
    assert.deepEqual(
      lines(vmim.stdout).map((line) => line.split(/\s+/)),
      [
        ['NAMESPACE', 'NAME', 'PHASE', 'VMI'],
        ['vms-0', 'kubevirt-evacuation-abc12', 'Failed', 'vm0'],
        ['vms-1', 'kubevirt-workload-update-xyz34', 'Running', 'vm1'],
      ],
    );
    const namespace = await kubectl([
      'get',
      'kubevirt',
      '-A',
      '-o',
      'jsonpath={.items[0].metadata.namespace}',
    ]);
    assert.equal(namespace.code, 0, namespace.stderr);
    assert.equal(namespace.stdout, 'kubevirt');
  });

  it('tails the logs of every virt-controller', async () => {
    const result = await kubectl(['-n', 'kubevirt', 'logs', '-l', 'kubevirt.io=virt-controller', '--tail=3']);
    assert.equal(result.code, 0, result.stderr);
    const output = lines(result.stdout);
    assert.equal(output.length, 6);
    // kubectl may fetch the pods' logs in parallel, so only each pod's own lines keep their order.
    for (const pod of ['virt-controller-a', 'virt-controller-b']) {
      const messages = output
        .filter((line) => line.includes(`of ${pod}"`))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      assert.deepEqual(
        messages,
        [7, 8, 9].map((n) => `line ${n} of ${pod}`),
      );
    }
  });

  it('reports BadRequest for an unsupported field selector and NotFound for a missing pod', async () => {
    const bad = await kubectl(['get', 'pods', '-A', '--field-selector=status.hostIP=10.0.0.1']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error from server \(BadRequest\).*field label not supported: status\.hostIP/);
    const missing = await kubectl(['-n', 'vms-0', 'get', 'pod', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Error from server \(NotFound\): pods "nope" not found/);
  });

  it('creates a namespace from its protobuf body, with the defaults the apiserver gives it, and refuses a bad name', async () => {
    const created = await kubectl(['create', 'namespace', 'team-a']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /namespace\/team-a created/);
    const namespace = JSON.parse((await kubectl(['get', 'namespace', 'team-a', '-o', 'json'])).stdout) as {
      metadata: { labels: Record<string, string> };
      spec: { finalizers: string[] };
      status: { phase: string };
    };
    assert.deepEqual(namespace.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(namespace.spec.finalizers, ['kubernetes']);
    assert.equal(namespace.status.phase, 'Active');
    const bad = await kubectl(['create', 'namespace', 'Team_B']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /The Namespace "Team_B" is invalid: metadata\.name: Invalid value: "Team_B": a lowercase RFC 1123 label/,
    );
    const nowhere = await kubectl(['-n', 'no-such-namespace', 'run', 'probe', '--image=busybox']);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stderr, /Error from server \(NotFound\).*namespaces "no-such-namespace" not found/);
  });
});

describe('kubectl against the simulator (legacy discovery)', () => {
  it('prints the same as with aggregated discovery', async () => {
    const aggregated = await startTestSimulator({ objects: cluster() });
    const legacy = await startTestSimulator({ objects: cluster(), discovery: 'legacy' });
    try {
      for (const args of [
        ['get', 'pods', '-A', ...FAILED_SELECTOR, '--chunk-size=7'],
        ['get', 'vmim', '-A'],
        ['get', 'kv', '-A', '-o', 'name'],
      ]) {
        const [fromAggregated, fromLegacy] = await Promise.all([
          runKubectl(args, { kubeconfig: aggregated.kubeconfig }),
          runKubectl(args, { kubeconfig: legacy.kubeconfig }),
        ]);
        assert.equal(fromAggregated.code, 0, fromAggregated.stderr);
        assert.equal(fromLegacy.stdout, fromAggregated.stdout, args.join(' '));
      }
      // A cold cache costs 2 discovery requests aggregated, 4 legacy (apiserver.md §1.1).
      assert.ok((legacy.sim.stats().requests ?? 0) > (aggregated.sim.stats().requests ?? 0));
    } finally {
      await aggregated.stop();
      await legacy.stop();
    }
  });
});

describe('kubectl deletes against the simulator', () => {
  it('deletes by selector in one namespace and nothing else', async () => {
    const handle = await startTestSimulator({ objects: cluster() });
    try {
      const result = await runKubectl(['delete', 'pods', '-n', 'vms-1', ...FAILED_SELECTOR], {
        kubeconfig: handle.kubeconfig,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(lines(result.stdout).sort(), [
        'pod "virt-launcher-vm1-x7k2p" deleted',
        'pod "virt-launcher-vm10-x7k2p" deleted',
        'pod "virt-launcher-vm4-x7k2p" deleted',
        'pod "virt-launcher-vm7-x7k2p" deleted',
      ]);
      assert.equal(handle.sim.store.count('pods'), 15 - 4);
    } finally {
      await handle.stop();
    }
  });

  it('waits for a graceful pod until the kubelet removes it (GET, list, watch)', async () => {
    const handle = await startTestSimulator({ objects: cluster() });
    try {
      const result = await runKubectl(['-n', 'vms-0', 'delete', 'pod', 'virt-launcher-alive-q9w8e'], {
        kubeconfig: handle.kubeconfig,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), 'pod "virt-launcher-alive-q9w8e" deleted');
      assert.equal(handle.sim.store.get('pods', 'vms-0', 'virt-launcher-alive-q9w8e'), undefined);
      assert.ok((handle.sim.stats().byVerb.watch ?? 0) >= 1);
    } finally {
      await handle.stop();
    }
  });

  it("runs the runbook's xargs pipeline: only the context namespace's pods are deleted, the rest are NotFound", async () => {
    const handle = await startTestSimulator({ objects: cluster(), contextNamespace: 'vms-0' });
    try {
      const result = await runShell(
        'kubectl get pods -A -l kubevirt.io=virt-launcher --field-selector=status.phase=Failed -o name | xargs -r -n50 kubectl delete',
        { kubeconfig: handle.kubeconfig },
      );
      assert.equal(result.code, 123, 'xargs reports the failed kubectl delete');
      assert.equal(lines(result.stdout).length, 4);
      assert.equal((result.stderr.match(/Error from server \(NotFound\)/g) ?? []).length, 8);
      const remaining = handle.sim.store.list('pods').items.map((item) => item.key);
      assert.equal(remaining.filter((key) => key.startsWith('vms-0/virt-launcher-vm')).length, 0);
      assert.equal(remaining.filter((key) => /^vms-[12]\/virt-launcher-vm/.test(key)).length, 8);
    } finally {
      await handle.stop();
    }
  });

  it('deletes a collection through kubectl delete --raw (one request per namespace)', async () => {
    const handle = await startTestSimulator({ objects: cluster() });
    try {
      const result = await runKubectl(
        [
          'delete',
          '--raw',
          '/api/v1/namespaces/vms-2/pods?labelSelector=kubevirt.io%3Dvirt-launcher&fieldSelector=status.phase%3DFailed',
        ],
        { kubeconfig: handle.kubeconfig },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as KubeList<Pod>).items.length, 4);
      assert.equal(handle.sim.stats().byVerb.deletecollection, 1);
      assert.equal(handle.sim.store.list('pods', { namespace: 'vms-2' }).items.length, 0);
    } finally {
      await handle.stop();
    }
  });
});
