import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  formatKubevirtLog,
  imageId,
  kubevirtTimestamp,
  launcherPodName,
  makeLauncherPod,
  makeMigration,
  makeNode,
  makeVmIdentity,
  rfc3339,
  secondsAfter,
  terminated,
} from './objects.js';
import { createRandom, deriveSeed } from './random.js';

const NOW = new Date('2026-11-23T22:00:00.789Z');
const NODE = { name: 'worker-007', ip: '10.0.16.17', podSubnet: '10.128.7' };

describe('random', () => {
  it('replays the same sequence for a seed and another one for another seed', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed);
      return [random.next(), random.int(1, 6), random.suffix(), random.uuid(), random.hex(12)];
    };
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it('draws name suffixes from the API server alphabet and v4-shaped UUIDs', () => {
    const random = createRandom(1);
    for (let i = 0; i < 200; i++) {
      assert.match(random.suffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.match(random.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.match(random.hex(64), /^[0-9a-f]{64}$/);
    }
  });

  it('keeps int within bounds, shuffles into a permutation and weighs choices', () => {
    const random = createRandom(9);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const value = random.int(3, 5);
      assert.ok(value >= 3 && value <= 5);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5]);
    assert.deepEqual(
      random.shuffle([1, 2, 3, 4, 5]).sort((a, b) => a - b),
      [1, 2, 3, 4, 5],
    );
    const picks = Array.from({ length: 1000 }, () =>
      random.weighted([
        ['rare', 1],
        ['common', 9],
      ] as const),
    );
    const rare = picks.filter((pick) => pick === 'rare').length;
    assert.ok(rare > 30 && rare < 200, `rare picked ${rare} times out of 1000`);
  });

  it('derives unrelated seeds for different parts', () => {
    assert.equal(deriveSeed(1, 'churn', 3), deriveSeed(1, 'churn', 3));
    assert.notEqual(deriveSeed(1, 'churn', 3), deriveSeed(1, 'churn', 4));
    assert.notEqual(deriveSeed(1, 'churn', 3), deriveSeed(2, 'churn', 3));
  });
});

describe('timestamps and logs', () => {
  it('formats RFC 3339 seconds exactly as Date#toISOString would, without the milliseconds', () => {
    const years1000To9999 = {
      min: new Date('1000-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    };
    fc.assert(
      fc.property(fc.date(years1000To9999), (date) => {
        assert.equal(rfc3339(date), `${date.toISOString().slice(0, 19)}Z`);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes RFC 3339 seconds for objects and microseconds for KubeVirt logs', () => {
    assert.equal(rfc3339(NOW), '2026-11-23T22:00:00Z');
    assert.match(kubevirtTimestamp(NOW, 123), /^2026-11-23T22:00:00\.789123Z$/);
  });

  it('prints a KubeVirt log line with sorted keys and no undefined fields', () => {
    const line = formatKubevirtLog({
      timestamp: '2026-11-23T22:00:00.000001Z',
      msg: 'Synchronizing the VirtualMachineInstance failed.',
      level: 'error',
      pos: 'vm.go:2238',
      component: 'virt-handler',
      namespace: 'web-vms',
      name: 'fedora-web-00001',
      kind: '',
      uid: 'abc',
      reason: 'boom',
    });
    assert.equal(
      line,
      '{"component":"virt-handler","kind":"","level":"error","msg":"Synchronizing the VirtualMachineInstance failed.","name":"fedora-web-00001","namespace":"web-vms","pos":"vm.go:2238","reason":"boom","timestamp":"2026-11-23T22:00:00.000001Z","uid":"abc"}',
    );
  });

  it('keeps a registry port in image IDs and gives one image one digest', () => {
    assert.match(
      imageId('registry.corp.example.com:5000/vm/rhel9:9.6'),
      /^registry\.corp\.example\.com:5000\/vm\/rhel9@sha256:[0-9a-f]{64}$/,
    );
    assert.equal(
      imageId('quay.io/kubevirt/virt-launcher:v1.6.2'),
      imageId('quay.io/kubevirt/virt-launcher:v1.6.2'),
    );
    assert.notEqual(
      imageId('quay.io/kubevirt/virt-launcher:v1.6.2'),
      imageId('quay.io/kubevirt/virt-launcher:v1.5.2'),
    );
  });
});

describe('makeLauncherPod', () => {
  const random = createRandom(5);
  const vm = makeVmIdentity(random, { namespace: 'web-vms', index: 12, disk: 'containerDisk' });
  const name = launcherPodName(random, vm.name);

  it('shapes a launcher as template.go renders it', () => {
    const pod = makeLauncherPod({
      vm,
      node: NODE,
      name,
      uid: 'pod-uid',
      createdAt: NOW,
      image: 'quay.io/kubevirt/virt-launcher:v1.6.2',
      outcome: { phase: 'Running' },
      random,
    });
    assert.match(
      pod.metadata.name,
      new RegExp(`^virt-launcher-${vm.name}-[bcdfghjklmnpqrstvwxz2456789]{5}$`),
    );
    assert.equal(pod.metadata.generateName, `virt-launcher-${vm.name}-`);
    assert.deepEqual(pod.metadata.labels, {
      'kubevirt.io': 'virt-launcher',
      'kubevirt.io/created-by': vm.vmiUid,
      'kubevirt.io/domain': vm.name,
      'kubevirt.io/vm': vm.name,
      'vm.kubevirt.io/name': vm.name,
      'vmi.kubevirt.io/id': vm.name,
      'kubevirt.io/nodeName': NODE.name,
    });
    assert.equal(pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'], 'compute');
    assert.deepEqual(pod.metadata.ownerReferences, [
      {
        apiVersion: 'kubevirt.io/v1',
        kind: 'VirtualMachineInstance',
        name: vm.name,
        uid: vm.vmiUid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.deepEqual(
      pod.spec.containers.map((container) => container.name),
      ['compute', 'volumecontainerdisk', 'guest-console-log'],
    );
    assert.deepEqual(
      pod.spec.initContainers?.map((container) => container.name),
      ['container-disk-binary', 'volumecontainerdisk-init'],
    );
    assert.equal(pod.spec.restartPolicy, 'Never');
    assert.deepEqual(pod.spec.readinessGates, [{ conditionType: 'kubevirt.io/virtual-machine-unpaused' }]);
    assert.equal(pod.spec.nodeName, NODE.name);
    assert.equal(pod.status?.phase, 'Running');
    assert.equal(pod.status?.hostIP, NODE.ip);
    assert.match(pod.status?.podIP ?? '', /^10\.128\.7\.\d+$/);
    assert.ok(
      pod.status?.containerStatuses?.every((status) => status.state?.running !== undefined && status.ready),
    );
    assert.ok(
      pod.status?.initContainerStatuses?.every((status) => status.state?.terminated?.reason === 'Completed'),
    );
    const size = JSON.stringify(pod).length;
    assert.ok(size > 3000 && size < 12000, `launcher pod JSON is ${size} bytes`);
  });

  it('labels migration targets with the vmim and lets the outcome override container states', () => {
    const pod = makeLauncherPod({
      vm,
      node: NODE,
      name,
      uid: 'pod-uid',
      createdAt: NOW,
      image: 'quay.io/kubevirt/virt-launcher:v1.6.2',
      migration: { uid: 'vmim-uid', name: 'kubevirt-evacuation-abcde' },
      outcome: {
        phase: 'Failed',
        reason: 'Evicted',
        message: 'The node was low on resource: memory. ',
        finishedAt: secondsAfter(NOW, 600),
        disruption: { reason: 'TerminationByKubelet', message: 'The node was low on resource: memory. ' },
        containerStates: {
          compute: terminated(137, 'OOMKilled', secondsAfter(NOW, 10), secondsAfter(NOW, 600)),
        },
      },
      random,
    });
    assert.equal(pod.metadata.labels?.['kubevirt.io/migrationJobUID'], 'vmim-uid');
    assert.equal(pod.metadata.annotations?.['kubevirt.io/migrationJobName'], 'kubevirt-evacuation-abcde');
    assert.equal(pod.status?.reason, 'Evicted');
    const compute = pod.status?.containerStatuses?.find((status) => status.name === 'compute');
    assert.equal(compute?.state?.terminated?.exitCode, 137);
    assert.equal(compute?.state?.terminated?.reason, 'OOMKilled');
    const others = pod.status?.containerStatuses?.filter((status) => status.name !== 'compute');
    assert.ok(others?.every((status) => status.state?.terminated?.reason === 'Completed'));
    const disruption = pod.status?.conditions?.find((condition) => condition.type === 'DisruptionTarget');
    assert.equal(disruption?.reason, 'TerminationByKubelet');
  });

  it('gives a PVC-backed VM its claim and no container disk containers', () => {
    const pvcVm = makeVmIdentity(random, { namespace: 'db-vms', index: 13, disk: 'persistentVolumeClaim' });
    const pod = makeLauncherPod({
      vm: pvcVm,
      node: NODE,
      name: launcherPodName(random, pvcVm.name),
      uid: 'uid',
      createdAt: NOW,
      image: 'quay.io/kubevirt/virt-launcher:v1.6.2',
      outcome: { phase: 'Running' },
      random,
    });
    assert.equal(pod.spec.initContainers, undefined);
    assert.deepEqual(
      pod.spec.containers.map((container) => container.name),
      ['compute', 'guest-console-log'],
    );
    assert.deepEqual(
      pod.spec.volumes?.find((volume) => volume.name === 'rootdisk'),
      { name: 'rootdisk', persistentVolumeClaim: { claimName: `${pvcVm.name}-rootdisk` } },
    );
  });
});

describe('makeMigration and makeNode', () => {
  const random = createRandom(3);
  const vm = makeVmIdentity(random, { namespace: 'web-vms', index: 1, disk: 'containerDisk' });

  it('writes a failed evacuation with its phases, labels and migration state', () => {
    const vmim = makeMigration({
      vm,
      name: 'kubevirt-evacuation-x2k9z',
      uid: 'vmim-uid',
      trigger: 'evacuation',
      createdAt: NOW,
      transitions: [
        ['Pending', NOW],
        ['Scheduling', secondsAfter(NOW, 1)],
        ['Failed', secondsAfter(NOW, 300)],
      ],
      sourceNode: 'worker-001',
      sourcePod: 'virt-launcher-a-bcdfg',
      targetNode: 'worker-002',
      targetPod: 'virt-launcher-a-hjklm',
      failureReason: 'Target pod is down',
    });
    assert.equal(vmim.metadata.generateName, 'kubevirt-evacuation-');
    assert.deepEqual(vmim.metadata.labels, { 'kubevirt.io/vmi-name': vm.name });
    assert.equal(vmim.metadata.annotations?.['kubevirt.io/evacuationMigration'], 'worker-001');
    assert.equal(vmim.spec.vmiName, vm.name);
    assert.equal(vmim.status?.phase, 'Failed');
    assert.deepEqual(
      vmim.status?.phaseTransitionTimestamps?.map((transition) => transition.phase),
      ['Pending', 'Scheduling', 'Failed'],
    );
    assert.equal(vmim.status?.migrationState?.failed, true);
    assert.equal(vmim.status?.migrationState?.completed, false);
    assert.equal(vmim.status?.migrationState?.targetPod, 'virt-launcher-a-hjklm');
  });

  it('reports pressure and lost nodes as the kubelet and node controller do', () => {
    const pressured = makeNode(NODE, 'node-uid', NOW, NOW, { memoryPressureSince: NOW });
    const memory = pressured.status?.conditions?.find((condition) => condition.type === 'MemoryPressure');
    assert.equal(memory?.status, 'True');
    assert.equal(memory?.reason, 'KubeletHasInsufficientMemory');
    assert.ok(pressured.spec?.taints?.some((taint) => taint.key === 'node.kubernetes.io/memory-pressure'));
    const lost = makeNode(NODE, 'node-uid', NOW, NOW, { notReadySince: NOW });
    const ready = lost.status?.conditions?.find((condition) => condition.type === 'Ready');
    assert.equal(ready?.status, 'Unknown');
    assert.equal(ready?.reason, 'NodeStatusUnknown');
    assert.equal(lost.status?.nodeInfo?.kubeletVersion, 'v1.33.5');
  });
});
