import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { StuckfailedError } from '../errors.js';
import type { KubeObject, Pod } from '../kube/types.js';
import { loadClusterObjects } from './load.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
const mustGather = path.join(fixtures, 'must-gather');
const dumps = path.join(fixtures, 'dumps');

const scratch = mkdtempSync(path.join(tmpdir(), 'stuckfailed-load-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function names(objects: KubeObject[], kind: string): string[] {
  return objects
    .filter((object) => object.kind === kind)
    .map((object) =>
      object.metadata.namespace
        ? `${object.metadata.namespace}/${object.metadata.name}`
        : object.metadata.name,
    )
    .sort();
}

async function rejectsWithInput(paths: string[], pattern: RegExp): Promise<void> {
  await assert.rejects(loadClusterObjects(paths), (error: unknown) => {
    assert.ok(error instanceof StuckfailedError);
    assert.equal(error.code, 'INPUT');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('loadClusterObjects: must-gather', () => {
  it('reads pods, events, KubeVirt objects, nodes and namespaces from the must-gather layout', async () => {
    const loaded = await loadClusterObjects([mustGather]);
    assert.deepEqual(names(loaded.objects, 'Pod'), [
      'kubevirt/virt-controller-7d9f8c6b5-m4n5p',
      'kubevirt/virt-handler-x7k2p',
      'vm-dev/virt-launcher-fedora-1-k3j4h',
      'vm-prod/virt-launcher-db-1-x8k2m',
      'vm-prod/virt-launcher-imposter-aaaaa',
      'vm-prod/virt-launcher-web-1-a1b2c',
      'vm-prod/virt-launcher-web-1-q9w8e',
      'vm-prod/virt-launcher-web-1-z7x6v',
    ]);
    assert.equal(names(loaded.objects, 'Event').length, 4);
    assert.deepEqual(names(loaded.objects, 'VirtualMachineInstanceMigration'), [
      'vm-prod/kubevirt-evacuation-7vq4n',
      'vm-prod/kubevirt-evacuation-9kd2x',
    ]);
    assert.deepEqual(names(loaded.objects, 'VirtualMachineInstance'), ['vm-prod/db-1', 'vm-prod/web-1']);
    assert.deepEqual(names(loaded.objects, 'VirtualMachine'), ['vm-prod/db-1', 'vm-prod/web-1']);
    assert.deepEqual(names(loaded.objects, 'KubeVirt'), ['kubevirt/kubevirt']);
    assert.deepEqual(names(loaded.objects, 'Node'), ['worker-0', 'worker-1', 'worker-2']);
    assert.deepEqual(names(loaded.objects, 'Namespace'), ['vm-prod']);
  });

  it('gives list items without a kind the kind and apiVersion of their list', async () => {
    const loaded = await loadClusterObjects([mustGather]);
    for (const object of loaded.objects) {
      assert.ok(object.kind, object.metadata.name);
      assert.ok(object.apiVersion, object.metadata.name);
    }
    const launcher = loaded.objects.find(
      (object) => object.metadata.name === 'virt-launcher-web-1-a1b2c',
    ) as Pod;
    assert.equal(launcher.kind, 'Pod');
    assert.equal(launcher.apiVersion, 'v1');
    assert.equal(launcher.status?.reason, 'Evicted');
  });

  it('keeps the newer copy of a pod found both in core/pods.yaml and in its pod folder', async () => {
    const loaded = await loadClusterObjects([mustGather]);
    const copies = loaded.objects.filter((object) => object.metadata.name === 'virt-launcher-db-1-x8k2m');
    assert.equal(copies.length, 1);
    assert.equal(copies[0]?.metadata.resourceVersion, '5002');
    assert.equal(copies[0]?.metadata.annotations?.['stuckfailed.test/copy'], 'pod-folder');
  });

  it('reads container logs without the kubelet timestamps, and previous logs apart', async () => {
    const loaded = await loadClusterObjects([mustGather]);
    const handler = loaded.logs.find((log) => log.pod === 'virt-handler-x7k2p');
    assert.equal(handler?.namespace, 'kubevirt');
    assert.equal(handler?.container, 'virt-handler');
    assert.equal(handler?.lines.length, 3);
    for (const line of handler?.lines ?? [])
      assert.equal((JSON.parse(line) as { component: string }).component, 'virt-handler');
    assert.equal(loaded.logs.length, 2);
    assert.deepEqual(
      loaded.previousLogs?.map((log) => `${log.namespace}/${log.pod}/${log.container}:${log.lines.length}`),
      ['kubevirt/virt-handler-x7k2p/virt-handler:2'],
    );
  });

  it('skips resources it does not read without parsing them, and counts them', async () => {
    const loaded = await loadClusterObjects([mustGather]);
    // core/configmaps.yaml and the CRD folder are never parsed; timestamp and event-filter.html are not objects.
    assert.equal(loaded.filesSkipped, 2);
    assert.deepEqual(loaded.skipped, {});
  });
});

describe('loadClusterObjects: dumps', () => {
  it('reads a `kubectl get -o yaml` List', async () => {
    const loaded = await loadClusterObjects([path.join(dumps, 'kubectl-get-pods-A.yaml')]);
    assert.deepEqual(names(loaded.objects, 'Pod'), [
      'vm-prod/virt-launcher-web-1-a1b2c',
      'vm-prod/virt-launcher-web-1-z7x6v',
      'vm-qa/virt-launcher-win-1-p0o9i',
    ]);
    assert.equal(loaded.files, 1);
  });

  it('reads multi-document YAML, skips and counts unknown kinds, normalises old KubeVirt versions', async () => {
    const loaded = await loadClusterObjects([path.join(dumps, 'multi-doc.yaml')]);
    assert.deepEqual(
      loaded.objects.map((object) => `${object.apiVersion} ${object.kind} ${object.metadata.name}`),
      [
        'kubevirt.io/v1 VirtualMachineInstanceMigration kubevirt-workload-update-abc12',
        'v1 Node worker-3',
        'kubevirt.io/v1 VirtualMachineInstance legacy-1',
      ],
    );
    assert.deepEqual(loaded.skipped, { 'v1/ConfigMap': 1 });
  });

  it('reads a JSON typed list whose items have no kind', async () => {
    const loaded = await loadClusterObjects([path.join(dumps, 'vmims.json')]);
    assert.deepEqual(names(loaded.objects, 'VirtualMachineInstanceMigration'), [
      'vm-prod/kubevirt-evacuation-7vq4n',
      'vm-prod/manual-mig-1',
    ]);
  });

  it('merges several paths', async () => {
    const loaded = await loadClusterObjects([
      path.join(dumps, 'vmims.json'),
      path.join(dumps, 'kubectl-get-pods-A.yaml'),
    ]);
    assert.equal(loaded.objects.length, 5);
  });
});

describe('loadClusterObjects: links', () => {
  it('reads linked files and does not follow linked folders', async () => {
    const folder = path.join(scratch, 'linked');
    mkdirSync(folder);
    symlinkSync(path.join(dumps, 'vmims.json'), path.join(folder, 'vmims.json'));
    // A link back up would loop forever if followed.
    symlinkSync(scratch, path.join(folder, 'loop'));
    const loaded = await loadClusterObjects([folder]);
    assert.equal(loaded.objects.length, 2);
  });
});

describe('loadClusterObjects: errors', () => {
  // Must-gathers are often truncated: a damaged file is named, and the rest of the input is still read.
  it('names the file and line of bad YAML, and keeps the documents before the damage', async () => {
    const file = path.join(dumps, 'broken', 'broken.yaml');
    const loaded = await loadClusterObjects([file]);
    assert.equal(loaded.unreadable.length, 1);
    assert.match(loaded.unreadable[0] ?? '', new RegExp(`^${escapeRegExp(file)}:\\d+: invalid YAML`));
  });

  it('names the file and line of bad JSON', async () => {
    const file = path.join(dumps, 'broken', 'broken.json');
    const loaded = await loadClusterObjects([file]);
    assert.deepEqual(loaded.objects, []);
    assert.match(loaded.unreadable[0] ?? '', new RegExp(`^${escapeRegExp(file)}:\\d+: invalid JSON`));
  });

  it('reads the rest of a folder holding a bad file, naming that file', async () => {
    const folder = path.join(scratch, 'truncated');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'a-good.json'), readFileSync(path.join(dumps, 'vmims.json')));
    // A multi-document dump cut in the middle of its last document.
    writeFileSync(
      path.join(folder, 'b-cut.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: kept\n  namespace: ns\nspec:\n  containers: []\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: "cut',
    );
    const loaded = await loadClusterObjects([folder]);
    assert.deepEqual(
      loaded.objects.map((object) => object.metadata.name).sort(),
      [
        ...(await loadClusterObjects([path.join(dumps, 'vmims.json')])).objects.map(
          (object) => object.metadata.name,
        ),
        'kept',
      ].sort(),
    );
    assert.equal(loaded.unreadable.length, 1);
    assert.match(loaded.unreadable[0] ?? '', /b-cut\.yaml:\d+: invalid YAML/);
  });

  it('names a path that does not exist', async () => {
    await rejectsWithInput([path.join(scratch, 'nope')], /cannot read .*nope/);
  });

  it('counts parseable files that hold no Kubernetes object', async () => {
    const file = path.join(scratch, 'notes.yaml');
    writeFileSync(file, 'owner: sre-team\nitems-checked: 3\n---\n- 1\n- 2\n');
    const loaded = await loadClusterObjects([file]);
    assert.equal(loaded.objects.length, 0);
    assert.deepEqual(loaded.skipped, { '(not a Kubernetes object)': 1, '(not an object)': 2 });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
