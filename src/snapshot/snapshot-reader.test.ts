import assert from 'node:assert/strict';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNotFound } from '../cluster/api-error.js';
import { StuckfailedError } from '../errors.js';
import type { Event, KubeObject, Node, Pod } from '../kube/types.js';
import { loadClusterObjects } from './load.js';
import { SnapshotReader } from './snapshot-reader.js';

const mustGather = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test/fixtures/must-gather',
);

async function names(iterable: AsyncIterable<KubeObject>): Promise<string[]> {
  const result: string[] = [];
  for await (const object of iterable) {
    result.push(
      object.metadata.namespace
        ? `${object.metadata.namespace}/${object.metadata.name}`
        : object.metadata.name,
    );
  }
  return result;
}

describe('SnapshotReader over a must-gather', () => {
  let reader: SnapshotReader;
  before(async () => {
    reader = new SnapshotReader(await loadClusterObjects([mustGather]));
  });

  it('selects Failed launchers by label and field, across namespaces, in namespace/name order', async () => {
    const failed = await names(
      reader.list<Pod>('pods', {
        labelSelector: 'kubevirt.io=virt-launcher',
        fieldSelector: 'status.phase=Failed',
      }),
    );
    // The imposter is Failed and named like a launcher, but has no kubevirt.io label.
    assert.deepEqual(failed, [
      'vm-dev/virt-launcher-fedora-1-k3j4h',
      'vm-prod/virt-launcher-db-1-x8k2m',
      'vm-prod/virt-launcher-web-1-a1b2c',
      'vm-prod/virt-launcher-web-1-q9w8e',
    ]);
    assert.equal(reader.source, 'snapshot');
  });

  it('limits a list to one namespace, and ignores the namespace for cluster-scoped resources', async () => {
    assert.deepEqual(await names(reader.list('pods', { namespace: 'vm-dev' })), [
      'vm-dev/virt-launcher-fedora-1-k3j4h',
    ]);
    assert.deepEqual(await names(reader.list('pods', { namespace: 'vm' })), []);
    assert.deepEqual(await names(reader.list<Node>('nodes', { namespace: 'vm-prod' })), [
      'worker-0',
      'worker-1',
      'worker-2',
    ]);
  });

  it('supports the full label grammar: exists, notin (true when absent), !=', async () => {
    assert.deepEqual(await names(reader.list('pods', { labelSelector: 'kubevirt.io/migrationJobUID' })), [
      'vm-prod/virt-launcher-web-1-q9w8e',
    ]);
    assert.deepEqual(
      await names(reader.list('pods', { labelSelector: 'kubevirt.io notin (virt-launcher)' })),
      [
        'kubevirt/virt-controller-7d9f8c6b5-m4n5p',
        'kubevirt/virt-handler-x7k2p',
        'vm-prod/virt-launcher-imposter-aaaaa',
      ],
    );
    assert.deepEqual(
      await names(
        reader.list('pods', { labelSelector: 'kubevirt.io=virt-launcher,kubevirt.io/nodeName!=worker-0' }),
      ),
      [
        'vm-dev/virt-launcher-fedora-1-k3j4h',
        'vm-prod/virt-launcher-db-1-x8k2m',
        'vm-prod/virt-launcher-web-1-q9w8e',
      ],
    );
  });

  it('selects events by involved object, as kubectl describe does', async () => {
    const events: Event[] = [];
    for await (const event of reader.list<Event>('events', {
      namespace: 'vm-prod',
      fieldSelector: 'involvedObject.name=virt-launcher-db-1-x8k2m,involvedObject.namespace=vm-prod',
    })) {
      events.push(event);
    }
    assert.deepEqual(
      events.map((event) => event.reason),
      ['OOMKilling'],
    );
    assert.deepEqual(await names(reader.list('events', { fieldSelector: 'type=Warning,source=kubelet' })), [
      'vm-prod/virt-launcher-web-1-a1b2c.17f0a1b2c3d4e5f7',
    ]);
  });

  it('rejects what the server rejects: an unsupported field, a malformed label selector', async () => {
    const rejects = (iterable: AsyncIterable<unknown>, pattern: RegExp) =>
      assert.rejects(names(iterable as AsyncIterable<KubeObject>), (error: unknown) => {
        assert.ok(error instanceof StuckfailedError);
        assert.equal(error.code, 'INPUT');
        assert.match(error.message, pattern);
        return true;
      });
    await rejects(
      reader.list('pods', { fieldSelector: 'status.hostIP=10.0.0.1' }),
      /field label not supported: status\.hostIP/,
    );
    await rejects(
      reader.list('virtualmachineinstancemigrations', { fieldSelector: 'spec.vmiName=web-1' }),
      /field label not supported: spec\.vmiName/,
    );
    await rejects(reader.list('pods', { labelSelector: 'a in (b' }), /unable to parse requirement/);
    assert.deepEqual(
      await names(
        reader.list('virtualmachineinstancemigrations', {
          fieldSelector: 'metadata.name=kubevirt-evacuation-9kd2x',
        }),
      ),
      ['vm-prod/kubevirt-evacuation-9kd2x'],
    );
  });

  it('gets namespaced and cluster-scoped objects, undefined when absent', async () => {
    assert.equal((await reader.get('kubevirts', 'kubevirt', 'kubevirt'))?.kind, 'KubeVirt');
    assert.equal((await reader.get<Node>('nodes', 'worker-2'))?.spec?.unschedulable, true);
    assert.equal(await reader.get('pods', 'virt-launcher-db-1-x8k2m', 'vm-dev'), undefined);
    assert.equal(await reader.get('pods', 'nope', 'vm-prod'), undefined);
  });

  it('reads logs with tailLines and previous; a pod it does not hold is NotFound', async () => {
    const handler = { namespace: 'kubevirt', pod: 'virt-handler-x7k2p', container: 'virt-handler' };
    assert.equal((await reader.readLog(handler)).length, 3);
    const tail = await reader.readLog({ ...handler, tailLines: 1 });
    assert.equal(tail.length, 1);
    assert.match(tail[0] ?? '', /Synchronizing the VirtualMachineInstance failed/);
    const previous = await reader.readLog({ ...handler, previous: true });
    assert.match(previous.at(-1) ?? '', /"level":"fatal"/);
    assert.deepEqual(await reader.readLog({ ...handler, tailLines: 0 }), []);
    // A launcher's log was not captured (must-gathers collect running pods only): empty, not an error.
    assert.deepEqual(
      await reader.readLog({ namespace: 'vm-prod', pod: 'virt-launcher-db-1-x8k2m', container: 'compute' }),
      [],
    );
    await assert.rejects(
      reader.readLog({ namespace: 'vm-prod', pod: 'ghost', container: 'compute' }),
      (error) => isNotFound(error),
    );
  });
});

describe('SnapshotReader over objects in any order', () => {
  it('serves them sorted by namespace/name, like the apiserver', async () => {
    const pod = (namespace: string, name: string): Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace },
      spec: { containers: [] },
    });
    const reader = new SnapshotReader({
      objects: [pod('b', 'x'), pod('a', 'z'), pod('a', 'a'), pod('a-b', 'c'), pod('a', 'y')],
      logs: [],
    });
    assert.deepEqual(await names(reader.list('pods')), ['a-b/c', 'a/a', 'a/y', 'a/z', 'b/x']);
  });
});
