import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterObjects } from '../../kube/cluster-objects.js';
import type {
  Event,
  KubeObject,
  KubeVirt,
  Node,
  Pod,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from '../../kube/types.js';
import { BROKEN_CNI_NODE_FRACTION } from './cni.js';
import { BROKEN_IMAGE } from './image-pull.js';
import { getScenario, SCENARIO_NAMES, SCENARIOS } from './index.js';
import { NODE_AFFINITY_MESSAGE, SHUTDOWN_MESSAGE } from './node-shutdown.js';
import type { ScenarioName, ScenarioOptions } from './types.js';

const NOW = new Date('2026-11-23T22:00:00Z');

/**
 * DESIGN §4's count, kept local on purpose (src/launcher/ owns the product's predicate): phase Failed, the
 * kubevirt.io=virt-launcher label, and a name starting with virt-launcher-.
 */
function isFailedLauncher(pod: Pod): boolean {
  return (
    pod.status?.phase === 'Failed' &&
    pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher' &&
    pod.metadata.name.startsWith('virt-launcher-')
  );
}

const CASES: Array<Omit<ScenarioOptions, 'now'>> = [
  { failed: 250, namespaces: 10, nodes: 20, seed: 1 },
  { failed: 37, namespaces: 3, nodes: 4, seed: 42 },
  { failed: 1, namespaces: 1, nodes: 1, seed: 7 },
];

/** Scenarios whose failures sit on a fixed share of the nodes (the broken, pressured or rebooted ones). */
const NODE_FRACTION: Partial<Record<ScenarioName, number>> = {
  cni: BROKEN_CNI_NODE_FRACTION,
  eviction: 0.4,
  'node-shutdown': 0.3,
};

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const KUBEVIRT_LOG_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Indexed {
  pods: Pod[];
  failed: Pod[];
  events: Event[];
  eventsByUid: Map<string, Event[]>;
  vmis: VirtualMachineInstance[];
  vmims: VirtualMachineInstanceMigration[];
  nodes: Node[];
  kubevirt: KubeVirt[];
}

function index(cluster: ClusterObjects): Indexed {
  const ofKind = <T extends KubeObject>(kind: string) =>
    cluster.objects.filter((object) => object.kind === kind) as T[];
  const pods = ofKind<Pod>('Pod');
  const events = ofKind<Event>('Event');
  const eventsByUid = new Map<string, Event[]>();
  for (const event of events) {
    const uid = event.involvedObject.uid ?? '';
    eventsByUid.set(uid, [...(eventsByUid.get(uid) ?? []), event]);
  }
  return {
    pods,
    failed: pods.filter(isFailedLauncher),
    events,
    eventsByUid,
    vmis: ofKind<VirtualMachineInstance>('VirtualMachineInstance'),
    vmims: ofKind<VirtualMachineInstanceMigration>('VirtualMachineInstanceMigration'),
    nodes: ofKind<Node>('Node'),
    kubevirt: ofKind<KubeVirt>('KubeVirt'),
  };
}

function eventsOf(indexed: Indexed, pod: Pod): Event[] {
  return indexed.eventsByUid.get(pod.metadata.uid ?? '') ?? [];
}

function logLines(cluster: ClusterObjects, container: string): Array<Record<string, string>> {
  return cluster.logs
    .filter((log) => log.container === container)
    .flatMap((log) => log.lines.map((line) => JSON.parse(line) as Record<string, string>));
}

function computeState(pod: Pod) {
  return pod.status?.containerStatuses?.find((status) => status.name === 'compute')?.state;
}

/** The true signature of each cause, checked on every Failed launcher it laid down. */
const SIGNATURES: Record<ScenarioName, (cluster: ClusterObjects, indexed: Indexed) => void> = {
  healthy(_cluster, indexed) {
    const kubevirt = indexed.kubevirt[0];
    assert.equal(kubevirt?.status?.observedKubeVirtVersion, kubevirt?.status?.targetKubeVirtVersion);
  },
  'image-pull'(_cluster, indexed) {
    for (const pod of indexed.failed) {
      const init = pod.status?.initContainerStatuses?.find(
        (status) => status.name === 'volumecontainerdisk-init',
      );
      assert.equal(init?.image, BROKEN_IMAGE);
      assert.ok(['ErrImagePull', 'ImagePullBackOff'].includes(init?.state?.waiting?.reason ?? ''));
      const messages = eventsOf(indexed, pod).map((event) => event.message ?? '');
      assert.ok(
        messages.some((message) => message.startsWith(`Failed to pull image "${BROKEN_IMAGE}": rpc error:`)),
      );
      assert.ok(messages.includes(`Back-off pulling image "${BROKEN_IMAGE}"`));
      assert.ok(messages.includes('Error: ErrImagePull'));
    }
  },
  cni(_cluster, indexed) {
    for (const pod of indexed.failed) {
      const sandbox = eventsOf(indexed, pod).find((event) => event.reason === 'FailedCreatePodSandBox');
      assert.equal(sandbox?.type, 'Warning');
      assert.match(sandbox?.message ?? '', /failed to create pod network sandbox k8s_virt-launcher-/);
      assert.match(sandbox?.message ?? '', /to CNI network "multus-cni-network": plugin type="multus-shim"/);
      assert.match(sandbox?.message ?? '', /timed out waiting for annotations/);
      assert.ok(sandbox?.message?.includes(pod.metadata.name));
      assert.equal(sandbox?.source?.host, pod.spec.nodeName);
    }
  },
  storage(_cluster, indexed) {
    for (const pod of indexed.failed) {
      const claim = pod.spec.volumes?.find((volume) => volume.name === 'rootdisk');
      assert.ok(claim?.persistentVolumeClaim !== undefined);
      const reasons = eventsOf(indexed, pod).map((event) => `${event.reason}: ${event.message}`);
      assert.ok(
        reasons.some((line) =>
          /^FailedAttachVolume: AttachVolume\.Attach failed for volume "pvc-[0-9a-f-]+" : rpc error: code = DeadlineExceeded/.test(
            line,
          ),
        ),
      );
      assert.ok(reasons.some((line) => line.startsWith('FailedMount: ')));
      assert.equal(computeState(pod)?.terminated?.exitCode, 1);
    }
  },
  'migration-storm'(cluster, indexed) {
    const vmimsByUid = new Map(indexed.vmims.map((vmim) => [vmim.metadata.uid, vmim]));
    for (const pod of indexed.failed) {
      const vmim = vmimsByUid.get(pod.metadata.labels?.['kubevirt.io/migrationJobUID'] ?? '');
      assert.equal(vmim?.status?.phase, 'Failed');
      assert.match(
        vmim?.metadata.name ?? '',
        /^kubevirt-(evacuation|workload-update)-[bcdfghjklmnpqrstvwxz2456789]{5}$/,
      );
    }
    const inFlight = indexed.vmims.filter(
      (vmim) => !['Failed', 'Succeeded'].includes(vmim.status?.phase ?? ''),
    );
    // Five under way (the cluster's parallel limit), plus the retry of up to two looping VMIs queued in Pending.
    const queued = inFlight.filter(
      (vmim) => vmim.status?.phase === 'Pending' && !vmim.status.migrationState?.targetPod,
    );
    assert.ok(inFlight.length >= 5 && inFlight.length <= 7, `${inFlight.length} in flight`);
    if (indexed.failed.length >= 20) {
      const failedPerVmi = new Map<string, number>();
      for (const vmim of indexed.vmims) {
        if (vmim.status?.phase !== 'Failed') continue;
        const key = `${vmim.metadata.namespace}/${vmim.spec.vmiName}`;
        failedPerVmi.set(key, (failedPerVmi.get(key) ?? 0) + 1);
      }
      assert.ok(
        queued.some(
          (vmim) => (failedPerVmi.get(`${vmim.metadata.namespace}/${vmim.spec.vmiName}`) ?? 0) >= 3,
        ),
        'a looping VMI has its next migration queued',
      );
    }
    assert.ok(indexed.events.some((event) => event.reason === 'FailedMigration'));
    assert.ok(
      logLines(cluster, 'virt-controller').some((line) =>
        line.msg?.startsWith('Created migration target pod '),
      ),
    );
    if (indexed.failed.length >= 20) {
      const perVmi = new Map<string, number>();
      for (const vmim of indexed.vmims) {
        const key = `${vmim.metadata.namespace}/${vmim.spec.vmiName}`;
        perVmi.set(key, (perVmi.get(key) ?? 0) + 1);
      }
      assert.ok(
        [...perVmi.values()].some((count) => count >= 3),
        'a VMI migrates again and again',
      );
    }
  },
  'control-plane'(cluster, indexed) {
    const status = indexed.kubevirt[0]?.status;
    assert.notEqual(status?.observedKubeVirtVersion, status?.targetKubeVirtVersion);
    assert.equal(status?.conditions?.find((condition) => condition.type === 'Progressing')?.status, 'True');
    for (const pod of indexed.failed) {
      const exit = computeState(pod)?.terminated;
      assert.ok(exit !== undefined && exit.exitCode !== 0);
    }
    const handler = logLines(cluster, 'virt-handler').filter((line) => line.level === 'error');
    assert.ok(
      handler.some((line) => line.msg === 'Synchronizing the VirtualMachineInstance failed.' && line.reason),
    );
    if (indexed.failed.length > 0) {
      assert.ok(logLines(cluster, 'compute').some((line) => line.component === 'virt-launcher-monitor'));
    }
  },
  eviction(_cluster, indexed) {
    for (const pod of indexed.failed) {
      const evicted = pod.status?.reason === 'Evicted';
      const oom = computeState(pod)?.terminated?.reason === 'OOMKilled';
      assert.ok(evicted || oom, `${pod.metadata.name} is neither evicted nor OOMKilled`);
      if (evicted) {
        assert.match(
          pod.status?.message ?? '',
          /^The node was low on resource: (memory|ephemeral-storage)\. /,
        );
        assert.ok(eventsOf(indexed, pod).some((event) => event.reason === 'Evicted'));
      } else {
        assert.equal(computeState(pod)?.terminated?.exitCode, 137);
      }
    }
    const pressured = indexed.nodes.filter((node) =>
      node.status?.conditions?.some(
        (condition) =>
          ['MemoryPressure', 'DiskPressure'].includes(condition.type) && condition.status === 'True',
      ),
    );
    assert.ok(pressured.length > 0);
  },
  'node-shutdown'(_cluster, indexed) {
    for (const pod of indexed.failed) {
      const reason = pod.status?.reason;
      if (reason === 'Terminated') assert.equal(pod.status?.message, SHUTDOWN_MESSAGE);
      else if (reason === 'NodeAffinity') assert.equal(pod.status?.message, NODE_AFFINITY_MESSAGE);
      else assert.equal(reason, 'Shutdown');
    }
    const notReady = indexed.nodes.filter((node) =>
      node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status !== 'True'),
    );
    assert.equal(notReady.length, 1);
    assert.ok(indexed.events.some((event) => event.reason === 'NodeNotReady'));
  },
  mixed(_cluster, indexed) {
    const migration = indexed.failed.filter(
      (pod) => pod.metadata.labels?.['kubevirt.io/migrationJobUID'],
    ).length;
    const image = indexed.failed.filter((pod) =>
      pod.status?.initContainerStatuses?.some((status) => status.image === BROKEN_IMAGE),
    ).length;
    const cni = indexed.failed.filter((pod) =>
      eventsOf(indexed, pod).some((event) => event.reason === 'FailedCreatePodSandBox'),
    ).length;
    const storage = indexed.failed.filter((pod) =>
      eventsOf(indexed, pod).some((event) => event.reason === 'FailedAttachVolume'),
    ).length;
    assert.equal(migration + image + cni + storage, indexed.failed.length);
    if (indexed.failed.length >= 100) {
      assert.ok(
        migration > image && image > storage && storage > cni,
        `${migration} ${image} ${storage} ${cni}`,
      );
    }
  },
};

describe('scenarios', () => {
  it('covers every scenario name, each with a summary', () => {
    assert.deepEqual(
      SCENARIOS.map((scenario) => scenario.name),
      [...SCENARIO_NAMES],
    );
    for (const name of SCENARIO_NAMES) {
      assert.equal(getScenario(name).name, name);
      assert.ok(getScenario(name).summary.length > 20);
    }
    assert.equal(getScenario('healthy').expectedTopCause, undefined);
    assert.equal(getScenario('mixed').expectedTopCause, 'migration');
    assert.equal(getScenario('image-pull').expectedTopCause, 'image');
  });

  for (const scenario of SCENARIOS) {
    describe(scenario.name, () => {
      for (const testCase of CASES) {
        const options = { ...testCase, now: NOW };
        const label = `failed=${testCase.failed} namespaces=${testCase.namespaces} nodes=${testCase.nodes} seed=${testCase.seed}`;
        it(`lays down its cluster (${label})`, () => {
          const cluster = scenario.build(options);
          const indexed = index(cluster);
          const expected = scenario.name === 'healthy' ? 0 : testCase.failed;
          assert.equal(indexed.failed.length, expected, 'Failed launchers by the DESIGN §4 definition');

          // Spread over the namespaces and nodes (or the node subset the cause lives on).
          const namespaces = new Set(indexed.failed.map((pod) => pod.metadata.namespace));
          assert.equal(namespaces.size, Math.min(testCase.namespaces, expected));
          const fraction = NODE_FRACTION[scenario.name];
          const spreadNodes =
            fraction === undefined
              ? testCase.nodes
              : Math.max(1, Math.min(testCase.nodes, Math.round(testCase.nodes * fraction)));
          const nodes = new Set(indexed.failed.map((pod) => pod.spec.nodeName));
          assert.equal(nodes.size, Math.min(spreadNodes, expected));
          const nodeNames = new Set(indexed.nodes.map((node) => node.metadata.name));
          assert.equal(nodeNames.size, testCase.nodes);
          for (const node of nodes) assert.ok(nodeNames.has(node ?? ''), `node ${node} exists`);

          // Noise is there and does not count.
          const failedPods = indexed.pods.filter((pod) => pod.status?.phase === 'Failed');
          assert.ok(failedPods.length > indexed.failed.length, 'Failed pods that are not launchers exist');
          assert.ok(
            failedPods.some(
              (pod) =>
                pod.metadata.name.startsWith('virt-launcher-') &&
                pod.metadata.labels?.['kubevirt.io'] === undefined,
            ),
            'a look-alike named virt-launcher-* without the label',
          );
          const launchers = indexed.pods.filter(
            (pod) => pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher',
          );
          assert.ok(launchers.some((pod) => pod.status?.phase === 'Running'));
          assert.ok(launchers.some((pod) => pod.status?.phase === 'Succeeded'));
          assert.ok(indexed.pods.some((pod) => pod.metadata.name.startsWith('hp-volume-')));
          assert.ok(indexed.events.some((event) => event.reason === 'BackoffLimitExceeded'));

          // Every object is addressable: apiVersion, kind, unique names and uids, RFC 3339 seconds.
          const keys = new Set<string>();
          const uids = new Set<string>();
          for (const object of cluster.objects) {
            assert.ok(object.apiVersion && object.kind, `${object.metadata.name} has apiVersion and kind`);
            const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
            assert.ok(!keys.has(key), `${key} is unique`);
            keys.add(key);
            const uid = object.metadata.uid ?? '';
            assert.ok(!uids.has(uid), `uid of ${key} is unique`);
            uids.add(uid);
            assert.match(object.metadata.creationTimestamp ?? '', RFC3339_SECONDS);
          }

          // Owners exist; migration targets point at vmims by uid and name.
          const vmis = new Map(
            indexed.vmis.map((vmi) => [`${vmi.metadata.namespace}/${vmi.metadata.name}`, vmi]),
          );
          const vmims = new Map(indexed.vmims.map((vmim) => [vmim.metadata.uid, vmim]));
          for (const pod of launchers) {
            const [owner] = pod.metadata.ownerReferences ?? [];
            const vmi = vmis.get(`${pod.metadata.namespace}/${owner?.name}`);
            assert.equal(owner?.kind, 'VirtualMachineInstance');
            assert.equal(vmi?.metadata.uid, owner?.uid, `${pod.metadata.name}'s VMI exists`);
            const jobUid = pod.metadata.labels?.['kubevirt.io/migrationJobUID'];
            if (jobUid !== undefined) {
              const vmim = vmims.get(jobUid);
              assert.equal(vmim?.metadata.name, pod.metadata.annotations?.['kubevirt.io/migrationJobName']);
              assert.equal(vmim?.spec.vmiName, owner?.name);
            }
          }
          for (const vmim of indexed.vmims) {
            assert.ok(
              vmis.has(`${vmim.metadata.namespace}/${vmim.spec.vmiName}`),
              `${vmim.metadata.name}'s VMI exists`,
            );
          }

          // The KubeVirt CR and its components, with logs in KubeVirt's format.
          assert.equal(indexed.kubevirt.length, 1);
          assert.equal(indexed.kubevirt[0]?.metadata.namespace, 'kubevirt');
          for (const component of ['virt-controller', 'virt-handler', 'virt-api', 'virt-operator']) {
            const pods = indexed.pods.filter((pod) => pod.metadata.labels?.['kubevirt.io'] === component);
            assert.ok(pods.length > 0, `${component} pods`);
            assert.equal(
              pods[0]?.metadata.annotations?.['kubectl.kubernetes.io/default-container'],
              component,
            );
          }
          assert.equal(
            indexed.pods.filter((pod) => pod.metadata.labels?.['kubevirt.io'] === 'virt-handler').length,
            testCase.nodes,
          );
          const podKeys = new Set(
            indexed.pods.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`),
          );
          for (const log of cluster.logs) {
            assert.ok(podKeys.has(`${log.namespace}/${log.pod}`), `log of ${log.pod} belongs to a pod`);
            let previous = '';
            for (const line of log.lines) {
              const fields = JSON.parse(line) as Record<string, unknown>;
              assert.ok(['info', 'warning', 'error', 'fatal'].includes(String(fields.level)));
              assert.match(String(fields.timestamp), KUBEVIRT_LOG_TIMESTAMP);
              assert.match(String(fields.pos), /^[\w-]+\.go:\d+$/);
              assert.equal(typeof fields.msg, 'string');
              assert.equal(typeof fields.component, 'string');
              assert.deepEqual(
                Object.keys(fields),
                Object.keys(fields).sort(),
                'keys sorted as go-kit prints them',
              );
              assert.ok(String(fields.timestamp) >= previous, 'oldest line first');
              previous = String(fields.timestamp);
            }
          }

          // Sizes near real launchers.
          for (const pod of indexed.failed.slice(0, 50)) {
            const size = JSON.stringify(pod).length;
            assert.ok(size >= 3000 && size <= 12000, `${pod.metadata.name} is ${size} bytes`);
          }

          SIGNATURES[scenario.name](cluster, indexed);
        });
      }

      it('is deterministic for a seed and differs for another', () => {
        const options = { failed: 60, namespaces: 4, nodes: 6, seed: 11, now: NOW };
        const first = scenario.build(options);
        assert.deepEqual(scenario.build(options), first);
        assert.notDeepEqual(scenario.build({ ...options, seed: 12 }), first);
      });

      it('churns new, unique, deterministic objects', () => {
        const options = { failed: 20, namespaces: 3, nodes: 4, seed: 5, now: NOW };
        const cluster = scenario.build(options);
        const names = new Set(
          cluster.objects.map(
            (object) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`,
          ),
        );
        const state = { options, sequence: 0 };
        const replay = { options, sequence: 0 };
        for (let step = 0; step < 4; step++) {
          const at = new Date(NOW.getTime() + (step + 1) * 1000);
          const next = scenario.nextFailure(state, at);
          assert.deepEqual(scenario.nextFailure(replay, at), next, 'the same step replays');
          const indexed = index(next);
          const failedNow = scenario.name === 'healthy' ? 0 : 1;
          assert.equal(indexed.failed.length, failedNow);
          const vmis = new Set(indexed.vmis.map((vmi) => vmi.metadata.uid));
          for (const pod of indexed.pods)
            assert.ok(vmis.has(pod.metadata.ownerReferences?.[0]?.uid), 'owner laid down too');
          const healthy = index(scenario.nextHealthy(state, at));
          assert.ok(healthy.pods.some((pod) => pod.status?.phase === 'Running'));
          scenario.nextHealthy(replay, at);
          assert.equal(healthy.failed.length, 0);
          for (const object of [...next.objects, ...healthy.pods]) {
            const key = `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`;
            assert.ok(!names.has(key), `${key} is new`);
            names.add(key);
          }
        }
        assert.equal(state.sequence, 8);
      });
    });
  }

  it('lays down 10,000 failed launchers with the exact count', () => {
    const cluster = getScenario('mixed').build({
      failed: 10_000,
      namespaces: 40,
      nodes: 100,
      seed: 3,
      now: NOW,
    });
    let failed = 0;
    for (const object of cluster.objects)
      if (object.kind === 'Pod' && isFailedLauncher(object as Pod)) failed++;
    assert.equal(failed, 10_000);
    for (const log of cluster.logs)
      assert.ok(log.lines.length <= 1000, `${log.pod} keeps at most 1000 lines`);
  });
});

describe('scenario build with emit', () => {
  for (const name of SCENARIO_NAMES) {
    it(`${name}: hands over the same objects as it would collect, laid-down ones first`, () => {
      const options: ScenarioOptions = { failed: 40, namespaces: 3, nodes: 4, seed: 5, now: NOW };
      const collected = getScenario(name).build(options);
      const emitted: KubeObject[] = [];
      const rest = getScenario(name).build(options, (object) => emitted.push(object));
      const key = (object: KubeObject) =>
        `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
      assert.deepEqual([...emitted, ...rest.objects].map(key).sort(), collected.objects.map(key).sort());
      assert.ok(emitted.some((object) => object.kind === 'Pod'));
      assert.ok(rest.objects.every((object) => !emitted.includes(object)));
      assert.deepEqual(rest.logs, collected.logs);
    });
  }
});
