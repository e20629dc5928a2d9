import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../cluster/api-error.js';
import type { ClusterReader, ListOptions } from '../cluster/reader.js';
import { StuckfailedError } from '../errors.js';
import type { ClusterObjects } from '../kube/cluster-objects.js';
import type { ResourceName } from '../kube/resources.js';
import type {
  Event,
  KubeObject,
  KubeVirt,
  Node,
  Pod,
  VirtualMachineInstanceMigration,
} from '../kube/types.js';
import { createPrometheusClient } from '../prometheus/client.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { diagnose } from './diagnose.js';
import { createPrometheusGatherer } from './prometheus-gatherer.js';

// diagnose over a small, hand-written cluster read through the snapshot reader (the same selectors as the API
// server), and over readers that fail the way a real API does.

const NOW = new Date('2026-11-23T22:00:00Z');

function launcher(
  name: string,
  namespace: string,
  node: string,
  status: NonNullable<Pod['status']>,
  labels: Record<string, string> = {},
): Pod {
  const vmi = name.replace(/^virt-launcher-/, '').replace(/-[a-z0-9]{5}$/, '');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid: `uid-${name}`,
      labels: { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/nodeName': node, ...labels },
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          name: vmi,
          uid: `uid-${vmi}`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: node,
      containers: [{ name: 'compute', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' }],
    },
    status,
  };
}

function warning(namespace: string, pod: string, reason: string, message: string): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${pod}.${reason}`, namespace },
    involvedObject: { kind: 'Pod', namespace, name: pod },
    reason,
    message,
    type: 'Warning',
    count: 3,
    lastTimestamp: '2026-11-23T21:50:00Z',
  };
}

function node(name: string, ready: 'True' | 'False'): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: {
      conditions: [
        { type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'KubeletNotReady' },
      ],
    },
  };
}

const PULL_FAILED =
  'Failed to pull image "quay.io/containerdisks/fedora:41": rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized';

function cluster(): ClusterObjects {
  const crashed: NonNullable<Pod['status']> = {
    phase: 'Failed',
    containerStatuses: [
      {
        name: 'compute',
        state: { terminated: { exitCode: 1, reason: 'Error', finishedAt: '2026-11-23T21:50:00Z' } },
      },
    ],
  };
  const objects: KubeObject[] = [
    node('worker-1', 'True'),
    node('worker-2', 'True'),
    // Three launchers whose containerDisk could not be pulled, in two namespaces.
    launcher('virt-launcher-fedora-a-aaaaa', 'web-vms', 'worker-1', crashed),
    launcher('virt-launcher-fedora-b-bbbbb', 'web-vms', 'worker-1', crashed),
    launcher('virt-launcher-fedora-c-ccccc', 'ci-vms', 'worker-2', crashed),
    warning('web-vms', 'virt-launcher-fedora-a-aaaaa', 'Failed', PULL_FAILED),
    warning('web-vms', 'virt-launcher-fedora-b-bbbbb', 'Failed', PULL_FAILED),
    warning('ci-vms', 'virt-launcher-fedora-c-ccccc', 'Failed', PULL_FAILED),
    // One eviction.
    launcher('virt-launcher-db-01-ddddd', 'ci-vms', 'worker-2', {
      phase: 'Failed',
      reason: 'Evicted',
      message: 'The node was low on resource: memory. ',
    }),
    // Should NOT count: a Running launcher, and a Failed pod merely named like a launcher.
    launcher('virt-launcher-ok-eeeee', 'web-vms', 'worker-1', { phase: 'Running' }),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'virt-launcher-impostor-fffff', namespace: 'web-vms', labels: { app: 'impostor' } },
      spec: { containers: [{ name: 'main' }] },
      status: { phase: 'Failed' },
    } as Pod,
    {
      apiVersion: 'kubevirt.io/v1',
      kind: 'KubeVirt',
      metadata: { name: 'kubevirt', namespace: 'kubevirt' },
      status: { observedKubeVirtVersion: 'v1.6.2', targetKubeVirtVersion: 'v1.6.2', phase: 'Deployed' },
    } as KubeVirt,
    {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstanceMigration',
      metadata: { name: 'kubevirt-evacuation-x1y2z', namespace: 'web-vms' },
      spec: { vmiName: 'fedora-a' },
      status: { phase: 'Running' },
    } as VirtualMachineInstanceMigration,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'virt-handler-7k2mq',
        namespace: 'kubevirt',
        labels: { 'kubevirt.io': 'virt-handler' },
      },
      spec: { nodeName: 'worker-1', containers: [{ name: 'virt-handler' }] },
      status: { phase: 'Running' },
    } as Pod,
  ];
  return {
    objects,
    logs: [
      {
        namespace: 'kubevirt',
        pod: 'virt-handler-7k2mq',
        container: 'virt-handler',
        lines: [
          '{"component":"virt-handler","level":"error","msg":"Synchronizing the VirtualMachineInstance failed.","name":"fedora-a","namespace":"web-vms","pos":"vm.go:1735","reason":"failed to find a sourceFile in containerDisk containerdisk","timestamp":"2026-11-23T21:50:00.000001Z"}',
        ],
      },
    ],
  };
}

/** Counts the reads and can fail one resource the way the API server does. */
class InstrumentedReader implements ClusterReader {
  readonly source = 'api' as const;
  readonly calls: Array<{ resource: ResourceName; options: ListOptions }> = [];
  constructor(
    private readonly inner: ClusterReader,
    private readonly failure?: { resource: ResourceName; error: Error },
  ) {}

  async *list<T extends KubeObject>(resource: ResourceName, options: ListOptions = {}): AsyncGenerator<T> {
    this.calls.push({ resource, options });
    if (this.failure?.resource === resource) throw this.failure.error;
    yield* this.inner.list<T>(resource, options);
  }

  get<T extends KubeObject>(
    resource: ResourceName,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    return this.inner.get<T>(resource, name, namespace);
  }

  readLog(options: Parameters<ClusterReader['readLog']>[0]): Promise<string[]> {
    return this.inner.readLog(options);
  }
}

function forbidden(resource: string, group: string): ApiError {
  return new ApiError({
    method: 'GET',
    url: `/apis/${group}/v1/${resource}`,
    server: 'https://127.0.0.1:6443',
    attempts: 1,
    status: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message: `${resource}.${group} is forbidden: User "system:serviceaccount:ops:stuckfailed" cannot list resource "${resource}" in API group "${group}" at the cluster scope`,
    },
  });
}

describe('diagnose', () => {
  it('counts only Failed launchers, attributes each to one cause and joins their events', async () => {
    const reader = new InstrumentedReader(new SnapshotReader(cluster()));
    const { diagnosis, artifacts } = await diagnose(reader, { threshold: 3, now: () => NOW });
    assert.equal(diagnosis.failedLaunchers, 4);
    assert.equal(diagnosis.conditionMet, true);
    assert.equal(diagnosis.generatedAt, NOW.toISOString());
    assert.deepEqual(diagnosis.byNamespace, [
      { key: 'ci-vms', count: 2 },
      { key: 'web-vms', count: 2 },
    ]);
    assert.deepEqual(diagnosis.byReason, [
      { key: 'Error', count: 3 },
      { key: 'Evicted', count: 1 },
    ]);
    assert.deepEqual(
      diagnosis.causes.map((cause) => [cause.category, cause.pods]),
      [
        ['image', 3],
        ['resources', 1],
      ],
    );
    assert.equal(diagnosis.causes[0]?.evidence[0]?.message, PULL_FAILED);
    assert.match(diagnosis.causes[0]?.summary ?? '', /quay\.io\/containerdisks\/fedora:41/);
    assert.equal(diagnosis.migrations.inFlight, 1);
    assert.equal(diagnosis.controlPlane.namespace, 'kubevirt');
    assert.equal(diagnosis.controlPlane.version, 'v1.6.2');
    assert.equal(diagnosis.controlPlane.errorBursts[0]?.component, 'virt-handler');
    assert.deepEqual(diagnosis.gatherErrors, []);
    assert.equal('scope' in diagnosis, false);
    const imageSamples = diagnosis.samples.filter((sample) => sample.category === 'image');
    assert.equal(imageSamples.length, 3);
    assert.equal(imageSamples[0]?.events[0]?.reason, 'Failed');

    // The server filters: one pod list with both selectors, one Warning-event list per namespace holding Failed
    // launchers (most failures first), never per pod.
    const podLists = reader.calls.filter((call) => call.resource === 'pods' && call.options.fieldSelector);
    assert.deepEqual(podLists, [
      {
        resource: 'pods',
        options: {
          labelSelector: 'kubevirt.io=virt-launcher',
          fieldSelector: 'status.phase=Failed',
          readsAll: true,
        },
      },
    ]);
    assert.deepEqual(
      reader.calls.filter((call) => call.resource === 'events').map((call) => call.options),
      [
        // The nodes' Rebooted events, in one list selected by the server (node-reboots.ts), read with the nodes.
        { namespace: 'default', fieldSelector: 'involvedObject.kind=Node,reason=Rebooted' },
        { namespace: 'ci-vms', fieldSelector: 'involvedObject.kind=Pod,type=Warning' },
        { namespace: 'web-vms', fieldSelector: 'involvedObject.kind=Pod,type=Warning' },
      ],
    );
    const paths = artifacts.map((artifact) => artifact.path);
    assert.ok(paths.includes('pods/web-vms/virt-launcher-fedora-a-aaaaa.json'));
    assert.ok(paths.includes('events/web-vms/virt-launcher-fedora-a-aaaaa.json'));
    assert.ok(paths.includes('kubevirt.json'));
    assert.ok(paths.includes('vmims.json'));
    assert.ok(paths.includes('logs/kubevirt/virt-handler-7k2mq/virt-handler.log'));
  });

  it('scopes to -n and -l on the server', async () => {
    const reader = new InstrumentedReader(new SnapshotReader(cluster()));
    const { diagnosis } = await diagnose(reader, {
      namespace: 'web-vms',
      labelSelector: 'kubevirt.io/nodeName=worker-1',
    });
    assert.equal(diagnosis.failedLaunchers, 2);
    // The report keeps what was asked, so that its next steps act on that and nothing more.
    assert.deepEqual(diagnosis.scope, {
      namespace: 'web-vms',
      labelSelector: 'kubevirt.io/nodeName=worker-1',
    });
    const podList = reader.calls.find((call) => call.resource === 'pods' && call.options.fieldSelector);
    assert.deepEqual(podList?.options, {
      namespace: 'web-vms',
      labelSelector: 'kubevirt.io=virt-launcher,kubevirt.io/nodeName=worker-1',
      fieldSelector: 'status.phase=Failed',
      readsAll: true,
    });
  });

  it('degrades on a forbidden resource and names the missing RBAC rule', async () => {
    const reader = new InstrumentedReader(new SnapshotReader(cluster()), {
      resource: 'virtualmachineinstancemigrations',
      error: forbidden('virtualmachineinstancemigrations', 'kubevirt.io'),
    });
    const { diagnosis } = await diagnose(reader);
    assert.equal(diagnosis.failedLaunchers, 4);
    assert.equal(diagnosis.gatherErrors.length, 1);
    assert.equal(diagnosis.gatherErrors[0]?.type, 'forbidden');
    assert.match(
      diagnosis.gatherErrors[0]?.message ?? '',
      /^missing RBAC rule \{apiGroups: \["kubevirt.io"\], resources: \["virtualmachineinstancemigrations"\], verbs: \["list"\]\} cluster-wide: /,
    );
  });

  it('fails when the cluster cannot be reached at all', async () => {
    const reader = new InstrumentedReader(new SnapshotReader(cluster()), {
      resource: 'nodes',
      error: new StuckfailedError(
        'UNREACHABLE',
        'cannot reach the API server at https://127.0.0.1:1: connection refused (ECONNREFUSED)',
      ),
    });
    await assert.rejects(
      diagnose(reader),
      (error: unknown) => error instanceof StuckfailedError && error.exitCode === 3,
    );
  });

  it('falls back to the API when Prometheus is down, and says so', async () => {
    const reader = new SnapshotReader(cluster());
    const { diagnosis } = await diagnose(reader, {
      // Port 9 (discard) has no listener here: the real client meets a refused connection.
      prometheus: createPrometheusGatherer(createPrometheusClient({ url: 'http://127.0.0.1:9' })),
    });
    assert.equal(diagnosis.failedLaunchers, 4);
    assert.deepEqual(
      diagnosis.gatherErrors.map((error) => error.type),
      ['prometheus'],
    );
    assert.equal(diagnosis.prometheus, undefined);
    assert.match(
      diagnosis.gatherErrors[0]?.message ?? '',
      /^Prometheus at http:\/\/127\.0\.0\.1:9 failed, counts come from the API alone/,
    );
  });

  it('reports no cause on a healthy cluster', async () => {
    const healthy = cluster();
    healthy.objects = healthy.objects.filter(
      (object) => object.kind !== 'Pod' || (object as Pod).status?.phase !== 'Failed',
    );
    const { diagnosis } = await diagnose(new SnapshotReader(healthy));
    assert.equal(diagnosis.failedLaunchers, 0);
    assert.equal(diagnosis.conditionMet, false);
    assert.deepEqual(diagnosis.causes, []);
    assert.deepEqual(diagnosis.samples, []);
  });
});
