import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  controllerPod,
  kubevirtCr,
  launcherPod,
  migration,
  podEvent,
} from '../../test/helpers/cluster-fixtures.js';
import type { ClusterObjects } from '../kube/cluster-objects.js';
import type { KubeList, KubeObject, Pod, Status } from '../kube/types.js';
import { type RunningSimulator, startSimulator } from './index.js';
import { decodeContinue } from './server.js';

const TABLE_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const AGGREGATED_ACCEPT =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

function cluster(): ClusterObjects {
  const failed = Array.from({ length: 9 }, (_, index) =>
    launcherPod({
      namespace: `ns-${index % 3}`,
      name: `virt-launcher-vm${index}-abcde`,
      uid: `uid-${index}`,
    }),
  );
  const running = launcherPod({ namespace: 'ns-0', name: 'virt-launcher-run-abcde', phase: 'Running' });
  const controller = controllerPod('kubevirt', 'virt-controller-1', 5);
  const vm = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'vm0', namespace: 'ns-0' },
    spec: { runStrategy: 'Always', template: {} },
  } as KubeObject;
  return {
    objects: [
      ...failed,
      running,
      ...controller.objects,
      podEvent(failed[0] as Pod, 'BackOff', 'Back-off pulling image'),
      migration('ns-0', 'mig-0', 'vm0', 'Failed'),
      migration('ns-0', 'mig-1', 'vm0', 'Running'),
      kubevirtCr(),
      vm,
    ],
    logs: controller.logs,
  };
}

async function get(sim: RunningSimulator, path: string, accept = 'application/json') {
  const response = await fetch(sim.url + path, { headers: { accept } });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

async function send(
  sim: RunningSimulator,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
) {
  const response = await fetch(sim.url + path, {
    method,
    headers: { 'content-type': contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('simulated API server (HTTP)', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ objects: cluster(), bookmarkIntervalMs: 50 });
  });
  after(async () => {
    await sim.close();
  });

  it('names its API Priority and Fairness flow schema and priority level on every response, as one server', async () => {
    const answers = [
      await get(sim, '/version'),
      await get(sim, '/api/v1/pods'),
      await get(sim, '/api/v1/namespaces/ns-0/pods/no-such-pod'),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [200, 200, 404],
    );
    const flowSchemas = new Set(
      answers.map((answer) => answer.headers.get('x-kubernetes-pf-flowschema-uid')),
    );
    const levels = new Set(answers.map((answer) => answer.headers.get('x-kubernetes-pf-prioritylevel-uid')));
    assert.equal(flowSchemas.size, 1);
    assert.equal(levels.size, 1);
    assert.match([...flowSchemas][0] ?? '', /^[0-9a-f-]{36}$/);
    assert.match([...levels][0] ?? '', /^[0-9a-f-]{36}$/);
  });

  it('pins /version to 1.32', async () => {
    const { status, text } = await get(sim, '/version?timeout=5s');
    assert.equal(status, 200);
    assert.equal(JSON.parse(text).minor, '32');
  });

  it('serves aggregated discovery when asked, legacy otherwise', async () => {
    const aggregated = await get(sim, '/apis?timeout=32s', AGGREGATED_ACCEPT);
    assert.match(aggregated.headers.get('content-type') ?? '', /as=APIGroupDiscoveryList/);
    const body = JSON.parse(aggregated.text);
    const kubevirt = body.items.find(
      (item: { metadata: { name: string } }) => item.metadata.name === 'kubevirt.io',
    );
    const vmim = kubevirt.versions[0].resources.find(
      (resource: { resource: string }) => resource.resource === 'virtualmachineinstancemigrations',
    );
    assert.deepEqual(vmim.shortNames, ['vmim', 'vmims']);
    const core = JSON.parse((await get(sim, '/api', AGGREGATED_ACCEPT)).text);
    assert.equal(core.items[0].metadata.name, '');
    const legacy = JSON.parse((await get(sim, '/api')).text);
    assert.equal(legacy.kind, 'APIVersions');
    const resources = JSON.parse((await get(sim, '/api/v1')).text);
    assert.ok(resources.resources.some((resource: { name: string }) => resource.name === 'pods/log'));
    assert.equal(JSON.parse((await get(sim, '/apis/kubevirt.io/v1')).text).kind, 'APIResourceList');
  });

  it('lists with selectors and answers Table with printPod STATUS', async () => {
    const query = 'labelSelector=kubevirt.io%3Dvirt-launcher&fieldSelector=status.phase%3DFailed&limit=4';
    const table = await get(sim, `/api/v1/pods?${query}`, TABLE_ACCEPT);
    assert.equal(table.status, 200);
    assert.match(table.headers.get('content-type') ?? '', /as=Table/);
    const body = JSON.parse(table.text);
    assert.equal(body.kind, 'Table');
    assert.equal(body.rows.length, 4);
    assert.equal(body.rows[0].cells[2], 'Error');
    assert.equal(body.rows[0].object.kind, 'PartialObjectMetadata');
    assert.equal(body.metadata.remainingItemCount, undefined);
    assert.ok(body.metadata.continue);
    const list = JSON.parse((await get(sim, `/api/v1/pods?${query}`)).text) as KubeList<Pod>;
    assert.equal(list.kind, 'PodList');
    assert.equal(list.items.length, 4);
  });

  it('answers errors with Status bodies', async () => {
    const badField = await get(sim, '/api/v1/pods?fieldSelector=status.hostIP%3D1');
    assert.equal(badField.status, 400);
    assert.equal((JSON.parse(badField.text) as Status).message, 'field label not supported: status.hostIP');
    const badLabel = await get(sim, '/api/v1/pods?labelSelector=a%20in%20b');
    assert.equal(badLabel.status, 400);
    assert.match(JSON.parse(badLabel.text).message, /^unable to parse requirement/);
    const missing = await get(sim, '/api/v1/namespaces/ns-0/pods/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text).details, { name: 'nope', kind: 'pods' });
    const missingCr = await get(
      sim,
      '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachineinstancemigrations/nope',
    );
    assert.equal(
      JSON.parse(missingCr.text).message,
      'virtualmachineinstancemigrations.kubevirt.io "nope" not found',
    );
    const unknown = await get(sim, '/api/v1/widgets');
    assert.equal(unknown.status, 404);
    assert.equal(JSON.parse(unknown.text).message, 'the server could not find the requested resource');
    const allNamespaces = await send(sim, 'DELETE', '/api/v1/pods');
    assert.equal(allNamespaces.status, 405);
    assert.equal(JSON.parse(allNamespaces.text).reason, 'MethodNotAllowed');
    const badContinue = await get(sim, '/api/v1/pods?limit=1&continue=notatoken');
    assert.equal(badContinue.status, 400);
    assert.match(JSON.parse(badContinue.text).message, /^continue key is not valid/);
  });

  it('issues real-format continue tokens relative to the listed prefix', async () => {
    const page = JSON.parse((await get(sim, '/api/v1/namespaces/ns-1/pods?limit=1')).text) as KubeList<Pod>;
    const token = decodeContinue(page.metadata.continue ?? '');
    assert.equal(token.start, `${page.items[0]?.metadata.name}\u0000`);
    assert.equal(token.rv, Number(page.metadata.resourceVersion));
  });

  it('serves logs with the kubelet rules', async () => {
    const base = '/api/v1/namespaces/kubevirt/pods/virt-controller-1/log';
    const all = await get(sim, base);
    assert.equal(all.status, 200);
    assert.equal(all.text.split('\n').filter(Boolean).length, 5);
    const tail = await get(sim, `${base}?container=virt-controller&tailLines=2&timestamps=true`);
    const lines = tail.text.split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^2026-01-01T00:00:03\.000000Z \{/);
    const limited = await get(sim, `${base}?limitBytes=10`);
    assert.equal(limited.text.length, 10);
    const previous = await get(sim, `${base}?previous=true`);
    assert.equal(previous.status, 400);
    assert.equal(
      JSON.parse(previous.text).message,
      'previous terminated container "virt-controller" in pod "virt-controller-1" not found',
    );
    const ambiguous = await get(sim, '/api/v1/namespaces/ns-0/pods/virt-launcher-vm0-abcde/log');
    assert.equal(ambiguous.status, 400);
    assert.equal(
      JSON.parse(ambiguous.text).message,
      'a container name must be specified for pod virt-launcher-vm0-abcde, choose one of: [compute guest-console-log]',
    );
  });

  it('watches from a resourceVersion and from now, with bookmarks', async () => {
    const start = sim.store.resourceVersion;
    sim.store.put('pods', launcherPod({ namespace: 'ns-2', name: 'watched' }));
    const controller = new AbortController();
    const response = await fetch(
      `${sim.url}/api/v1/namespaces/ns-2/pods?watch=true&resourceVersion=${start}&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dwatched`,
      {
        signal: controller.signal,
      },
    );
    const reader = response.body?.getReader();
    assert.ok(reader);
    const events: Array<{ type: string; object: KubeObject }> = [];
    let buffer = '';
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const chunk = await reader.read();
        if (chunk.done) return;
        buffer += Buffer.from(chunk.value).toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          events.push(JSON.parse(buffer.slice(0, newline)));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
      }
    };
    await readUntil(() => events.length >= 1);
    await send(sim, 'DELETE', '/api/v1/namespaces/ns-2/pods/watched');
    await readUntil(
      () =>
        events.some((event) => event.type === 'DELETED') && events.some((event) => event.type === 'BOOKMARK'),
    );
    controller.abort();
    const types = events.map((event) => event.type).filter((type) => type !== 'BOOKMARK');
    assert.deepEqual(types, ['ADDED', 'DELETED']);
    assert.ok(events.every((event) => event.type === 'BOOKMARK' || event.object.metadata.name === 'watched'));
  });

  it('streams initial events then the initial-events-end bookmark, and ends at timeoutSeconds', async () => {
    const text = (
      await get(
        sim,
        '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachineinstancemigrations?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1',
      )
    ).text;
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: KubeObject });
    assert.deepEqual(
      events.slice(0, 2).map((event) => `${event.type} ${event.object.metadata.name}`),
      ['ADDED mig-0', 'ADDED mig-1'],
    );
    assert.equal(events[2]?.type, 'BOOKMARK');
    assert.equal(events[2]?.object.metadata.annotations?.['k8s.io/initial-events-end'], 'true');
  });

  it('answers a watch from a compacted resourceVersion with one 410 ERROR event', async () => {
    const text = (await get(sim, '/api/v1/pods?watch=1&resourceVersion=1')).text;
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 1);
    const event = JSON.parse(lines[0] ?? '{}');
    assert.equal(event.type, 'ERROR');
    assert.equal(event.object.code, 410);
    assert.equal(event.object.reason, 'Expired');
  });

  it('deletes with preconditions, dryRun and propagationPolicy from the query or the body', async () => {
    const path = '/api/v1/namespaces/ns-1/pods/virt-launcher-vm1-abcde';
    const conflict = await send(sim, 'DELETE', path, { preconditions: { uid: 'other' } });
    assert.equal(conflict.status, 409);
    assert.equal(
      JSON.parse(conflict.text).message,
      'Operation cannot be fulfilled on pods "virt-launcher-vm1-abcde": Precondition failed: UID in precondition: other, UID in object meta: uid-1',
    );
    const dry = await send(sim, 'DELETE', `${path}?dryRun=All`);
    assert.equal(dry.status, 200);
    assert.equal((await get(sim, path)).status, 200);
    const deleted = await send(sim, 'DELETE', `${path}?propagationPolicy=Background`, {
      preconditions: { uid: 'uid-1' },
    });
    assert.equal(deleted.status, 200);
    assert.equal(JSON.parse(deleted.text).metadata.name, 'virt-launcher-vm1-abcde');
    assert.equal((await get(sim, path)).status, 404);
  });

  it('deletes a collection and returns the deleted pods', async () => {
    const result = await send(
      sim,
      'DELETE',
      '/api/v1/namespaces/ns-2/pods?labelSelector=kubevirt.io%3Dvirt-launcher&fieldSelector=status.phase%3DFailed',
    );
    assert.equal(result.status, 200);
    const list = JSON.parse(result.text) as KubeList<Pod>;
    assert.equal(list.kind, 'PodList');
    assert.deepEqual(
      list.items.map((pod) => pod.metadata.name),
      ['virt-launcher-vm2-abcde', 'virt-launcher-vm5-abcde', 'virt-launcher-vm8-abcde'],
    );
    assert.equal(JSON.parse((await get(sim, '/api/v1/namespaces/ns-2/pods')).text).items.length, 0);
  });

  it('lets a graceful pod terminate through the kubelet', async () => {
    const path = '/api/v1/namespaces/ns-0/pods/virt-launcher-run-abcde';
    const marked = JSON.parse((await send(sim, 'DELETE', path)).text) as Pod;
    assert.ok(marked.metadata.deletionTimestamp);
    const row = JSON.parse((await get(sim, path, TABLE_ACCEPT)).text);
    assert.equal(row.rows[0].cells[2], 'Terminating');
    await send(sim, 'POST', '/sim/kubelet');
    assert.equal((await get(sim, path)).status, 404);
  });

  it('patches a VM runStrategy with a merge patch and with a JSON patch', async () => {
    const path = '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachines/vm0';
    const merged = await send(
      sim,
      'PATCH',
      path,
      { spec: { runStrategy: 'Halted' } },
      'application/merge-patch+json',
    );
    assert.equal(merged.status, 200);
    assert.equal(JSON.parse(merged.text).spec.runStrategy, 'Halted');
    const patched = await send(
      sim,
      'PATCH',
      path,
      [{ op: 'replace', path: '/spec/runStrategy', value: 'Always' }],
      'application/json-patch+json',
    );
    assert.equal(JSON.parse(patched.text).spec.runStrategy, 'Always');
    const unsupported = await send(sim, 'PATCH', path, {}, 'application/strategic-merge-patch+json');
    assert.equal(unsupported.status, 415);
  });

  it('creates and updates leases with optimistic concurrency', async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'stuckfailed' },
      spec: { holderIdentity: 'a' },
    };
    const created = await send(sim, 'POST', '/apis/coordination.k8s.io/v1/namespaces/ns-0/leases', lease);
    assert.equal(created.status, 201);
    const again = await send(sim, 'POST', '/apis/coordination.k8s.io/v1/namespaces/ns-0/leases', lease);
    assert.equal(again.status, 409);
    assert.equal(JSON.parse(again.text).reason, 'AlreadyExists');
    const current = JSON.parse(created.text) as KubeObject;
    const path = '/apis/coordination.k8s.io/v1/namespaces/ns-0/leases/stuckfailed';
    const updated = await send(sim, 'PUT', path, { ...current, spec: { holderIdentity: 'b' } });
    assert.equal(updated.status, 200);
    const stale = await send(sim, 'PUT', path, { ...current, spec: { holderIdentity: 'c' } });
    assert.equal(stale.status, 409);
    assert.equal(JSON.parse(stale.text).reason, 'Conflict');
  });

  it("refuses what the apiserver's validation and NamespaceLifecycle refuse, with their messages", async () => {
    const pod = (name: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, ...extra },
      spec: { containers: [{ name: 'compute', image: 'quay.io/kubevirt/virt-launcher:v1.6.2' }] },
    });
    const refusal = async (path: string, body: unknown, method = 'POST') => {
      const response = await send(sim, method, path, body);
      const status = JSON.parse(response.text) as Status & {
        details?: { causes?: Array<{ field: string; reason: string }> };
      };
      return {
        code: response.status,
        reason: status.reason,
        message: status.message,
        causes: status.details?.causes,
      };
    };

    const noNamespace = await refusal('/api/v1/namespaces/nope/pods', pod('p'));
    assert.deepEqual(
      [noNamespace.code, noNamespace.reason, noNamespace.message],
      [404, 'NotFound', 'namespaces "nope" not found'],
    );

    const badName = await refusal('/api/v1/namespaces/ns-0/pods', pod('Bad_Name'));
    assert.equal(badName.code, 422);
    assert.equal(
      badName.message,
      `Pod "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
    const badLabel = await refusal('/api/v1/namespaces/ns-0/pods', pod('p', { labels: { 'bad key!': 'v' } }));
    assert.match(
      badLabel.message ?? '',
      /^Pod "p" is invalid: metadata\.labels: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'MyName', {2}or 'my\.name', {2}or '123-abc', regex/,
    );
    const noImage = await refusal('/api/v1/namespaces/ns-0/pods', {
      ...pod('p'),
      spec: { containers: [{ name: 'compute' }, { name: 'compute', image: 'x' }] },
    });
    assert.equal(
      noImage.message,
      'Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "compute"]',
    );
    assert.deepEqual(
      noImage.causes?.map((cause) => [cause.field, cause.reason]),
      [
        ['spec.containers[0].image', 'FieldValueRequired'],
        ['spec.containers[1].name', 'FieldValueDuplicate'],
      ],
    );
    const noContainers = await refusal('/api/v1/namespaces/ns-0/pods', { ...pod('p'), spec: {} });
    assert.equal(noContainers.message, 'Pod "p" is invalid: spec.containers: Required value');
    const badNamespace = await refusal('/api/v1/namespaces', { metadata: { name: 'a.b' } });
    assert.match(
      badNamespace.message ?? '',
      /^Namespace "a\.b" is invalid: metadata\.name: Invalid value: "a\.b": a lowercase RFC 1123 label/,
    );
    // generateName may end with '-'; the name made from it is checked too.
    const generated = await send(sim, 'POST', '/api/v1/namespaces/ns-0/pods', {
      ...pod(''),
      metadata: { generateName: 'virt-launcher-vm-' },
    });
    assert.equal(generated.status, 201, generated.text);
    // An update is validated as a create is (a custom resource's labels too), and a valid one still passes.
    const vm = JSON.parse(
      (await get(sim, '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachines/vm0')).text,
    ) as KubeObject;
    const relabel = await refusal(
      '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachines/vm0',
      { ...vm, metadata: { ...vm.metadata, labels: { app: 'a b' } } },
      'PUT',
    );
    assert.equal(relabel.code, 422);
    assert.match(
      relabel.message ?? '',
      /^VirtualMachine\.kubevirt\.io "vm0" is invalid: metadata\.labels: Invalid value: "a b": a valid label must be/,
    );
    const fine = await send(sim, 'PUT', '/apis/kubevirt.io/v1/namespaces/ns-0/virtualmachines/vm0', {
      ...vm,
      metadata: { ...vm.metadata, labels: { app: 'a-b' } },
    });
    assert.equal(fine.status, 200, fine.text);
  });

  it('serves vmim and KubeVirt tables with their CRD columns', async () => {
    const vmim = JSON.parse(
      (await get(sim, '/apis/kubevirt.io/v1/virtualmachineinstancemigrations?limit=500', TABLE_ACCEPT)).text,
    );
    assert.deepEqual(
      vmim.columnDefinitions.map((column: { name: string }) => column.name),
      ['Name', 'Phase', 'VMI'],
    );
    assert.deepEqual(vmim.rows[0].cells, ['mig-0', 'Failed', 'vm0']);
    const kubevirt = JSON.parse((await get(sim, '/apis/kubevirt.io/v1/kubevirts', TABLE_ACCEPT)).text);
    assert.match(kubevirt.rows[0].cells[1], /^\d+[smhdy]/);
  });

  it('serves kube-state-metrics on /metrics and keeps control paths out of the stats', async () => {
    const before = (await get(sim, '/sim/stats')).text;
    const metrics = await get(sim, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /kube_pod_status_phase\{/);
    const afterStats = JSON.parse((await get(sim, '/sim/stats')).text);
    assert.equal(afterStats.requests, JSON.parse(before).requests);
    await get(sim, '/api/v1/namespaces/ns-0/pods');
    const counted = JSON.parse((await get(sim, '/sim/stats')).text);
    assert.equal(counted.requests, afterStats.requests + 1);
    assert.ok(counted.byVerb.list >= 1);
    assert.ok(counted.byResource.pods >= 1);
  });

  it('injects 429 with Retry-After and turns faults off with {}', async () => {
    assert.equal(
      (await send(sim, 'POST', '/sim/faults', { throttleRate: 1, retryAfterSeconds: 2 })).status,
      200,
    );
    const throttled = await get(sim, '/api/v1/pods');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get('retry-after'), '2');
    // Rejected by API Priority and Fairness: classified first, so the answer names the priority level.
    assert.match(throttled.headers.get('x-kubernetes-pf-prioritylevel-uid') ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(JSON.parse(throttled.text).reason, 'TooManyRequests');
    assert.equal((await send(sim, 'POST', '/sim/faults', { bogus: 1 })).status, 400);
    await send(sim, 'POST', '/sim/faults', { resetRate: 1 });
    await assert.rejects(
      fetch(`${sim.url}/api/v1/pods`),
      TypeError,
      'the connection is destroyed without an answer',
    );
    await send(sim, 'POST', '/sim/faults', { errorRate: 1 });
    const failed = await get(sim, '/api/v1/pods');
    assert.equal(failed.status, 500);
    assert.equal(JSON.parse(failed.text).reason, 'InternalError');
    await send(sim, 'POST', '/sim/faults', {});
    assert.equal((await get(sim, '/api/v1/pods')).status, 200);
  });
});

describe('continue tokens under faults', () => {
  it('expires a continue token after expireContinueAfterSeconds with a fresh token in the Status', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const sim = await startSimulator({
      objects: cluster(),
      clock: () => now,
      faults: { expireContinueAfterSeconds: 60 },
    });
    try {
      const first = JSON.parse((await get(sim, '/api/v1/pods?limit=2')).text) as KubeList<Pod>;
      now += 61_000;
      const expired = await get(sim, `/api/v1/pods?limit=2&continue=${first.metadata.continue}`);
      assert.equal(expired.status, 410);
      const status = JSON.parse(expired.text) as Status;
      assert.equal(status.reason, 'Expired');
      assert.equal(decodeContinue(status.metadata.continue ?? '').rv, -1);
      const resumed = await get(sim, `/api/v1/pods?limit=2&continue=${status.metadata.continue}`);
      assert.equal(resumed.status, 200);
    } finally {
      await sim.close();
    }
  });

  // Property: paging with random page sizes and selectors, retrying injected 429s and 500s, returns exactly the
  // objects a reference filter over the store returns.
  it('paged lists equal a reference filter, with and without faults (property)', async () => {
    const sim = await startSimulator({ objects: cluster() });
    try {
      const everything = (JSON.parse((await get(sim, '/api/v1/pods')).text) as KubeList<Pod>).items;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom('', 'kubevirt.io%3Dvirt-launcher', 'kubevirt.io!%3Dvirt-launcher'),
          fc.constantFrom('', 'status.phase%3DFailed', 'status.phase!%3DFailed'),
          fc.constantFrom(0, 0.3),
          async (limit, label, field, rate) => {
            sim.setFaults(
              rate === 0 ? {} : { throttleRate: rate, errorRate: rate / 2, retryAfterSeconds: 0 },
            );
            const names: string[] = [];
            let token = '';
            for (let requests = 0; requests < 500; requests += 1) {
              const continueParam = token === '' ? '' : `&continue=${token}`;
              const response = await get(
                sim,
                `/api/v1/pods?limit=${limit}&labelSelector=${label}&fieldSelector=${field}${continueParam}`,
              );
              if (response.status === 429 || response.status === 500) continue;
              assert.equal(response.status, 200);
              const page = JSON.parse(response.text) as KubeList<Pod>;
              assert.ok(page.items.length <= limit);
              names.push(...page.items.map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`));
              token = page.metadata.continue ?? '';
              if (token === '') break;
            }
            sim.setFaults({});
            const expected = everything
              .filter((pod) => {
                const launcher = pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher';
                const failed = pod.status?.phase === 'Failed';
                return (
                  (label === '' || (label.includes('!') ? !launcher : launcher)) &&
                  (field === '' || (field.includes('!') ? !failed : failed))
                );
              })
              .map((pod) => `${pod.metadata.namespace}/${pod.metadata.name}`);
            assert.deepEqual(names, expected);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await sim.close();
    }
  });
});

describe('simulated API server (HTTPS, bearer tokens)', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({
      objects: cluster(),
      tls: true,
      tokens: { viewer: { user: 'viewer', readOnly: true } },
    });
  });
  after(async () => {
    await sim.close();
  });

  const call = (method: string, path: string, token?: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const request = httpsRequest(
        `${sim.url}${path}`,
        {
          method,
          ca: Buffer.from(sim.caData ?? '', 'base64').toString('utf8'),
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
        },
      );
      request.on('error', reject);
      request.end();
    });

  it('verifies against its CA and answers 401 without or with a wrong token', async () => {
    assert.equal((await call('GET', '/version')).status, 200);
    const anonymous = await call('GET', '/api/v1/pods');
    assert.equal(anonymous.status, 401);
    // Authentication comes before API Priority and Fairness: an unauthenticated request is never classified.
    assert.equal(anonymous.headers['x-kubernetes-pf-flowschema-uid'], undefined);
    assert.equal(JSON.parse(anonymous.body).reason, 'Unauthorized');
    assert.equal((await call('GET', '/api/v1/pods', 'wrong')).status, 401);
    assert.equal((await call('GET', '/api/v1/pods', sim.token)).status, 200);
  });

  it('refuses writes to a read-only identity with the RBAC message', async () => {
    assert.equal((await call('GET', '/api/v1/pods', 'viewer')).status, 200);
    const denied = await call('DELETE', '/api/v1/namespaces/ns-0/pods/virt-launcher-vm0-abcde', 'viewer');
    assert.equal(denied.status, 403);
    // Authorization comes after API Priority and Fairness: a denied request was classified.
    assert.notEqual(denied.headers['x-kubernetes-pf-flowschema-uid'], undefined);
    assert.equal(
      JSON.parse(denied.body).message,
      'pods "virt-launcher-vm0-abcde" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "ns-0"',
    );
  });
});
