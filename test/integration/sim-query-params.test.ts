// The simulator reads query parameters as the apiserver does (k8s.io/apimachinery runtime/conversion.go and the
// options' validation), checked with raw HTTP: what an official client other than kubectl or client-node may
// send (`watch=True`, `watch=1`, `limit=abc`...) gets what a real cluster would answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningSimulator, startSimulator } from '../../src/sim/index.js';

let sim: RunningSimulator;
const now = Date.parse('2026-11-29T10:00:00Z');

before(async () => {
  sim = await startSimulator({
    scenario: 'image-pull',
    failed: 5,
    namespaces: 1,
    nodes: 2,
    clock: () => now,
  });
});
after(async () => {
  await sim.close();
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${sim.url}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The first line of a watch stream, then the connection is dropped. */
async function firstWatchLine(path: string): Promise<{ status: number; line: string }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 20_000);
  const response = await fetch(`${sim.url}${path}`, { signal: controller.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  clearTimeout(timer);
  controller.abort();
  return { status: response.status, line: text.split('\n')[0] as string };
}

const PODS = '/api/v1/namespaces/finance-vms/pods';

describe('simulator query parameters: booleans', () => {
  for (const value of ['true', 'True', 'TRUE', '1', 'yes', '']) {
    it(`watch=${value} starts a watch`, async () => {
      const { status, line } = await firstWatchLine(`${PODS}?watch=${value}`);
      assert.equal(status, 200);
      assert.equal((JSON.parse(line) as { type: string }).type, 'ADDED');
    });
  }

  it('watch=1 on a named object watches that object alone', async () => {
    const pod = [...sim.store.objects('pods')].filter((each) => each.namespace === 'finance-vms')[1];
    assert.ok(pod);
    const { status, line } = await firstWatchLine(`${PODS}/${pod.name}?watch=1`);
    assert.equal(status, 200);
    const event = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
    assert.equal(event.type, 'ADDED');
    assert.equal(event.object.metadata.name, pod.name);
  });

  for (const value of ['false', 'False', 'FALSE', '0']) {
    it(`watch=${value} is a list`, async () => {
      const { status, body } = await call(`${PODS}?watch=${value}`);
      assert.equal(status, 200);
      assert.equal(body.kind, 'PodList');
    });
  }

  it('sendInitialEvents=True ends the initial events with the annotated bookmark', async () => {
    const response = await fetch(
      `${sim.url}${PODS}?watch=1&sendInitialEvents=True&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=1`,
      { signal: AbortSignal.timeout(20_000) },
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('initial-events-end')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    await reader.cancel();
    const last = JSON.parse(text.trim().split('\n').at(-1) as string) as { type: string };
    assert.equal(last.type, 'BOOKMARK');
  });
});

describe('simulator query parameters: integers', () => {
  it("limit=abc is a 400 with strconv.ParseInt's message", async () => {
    const { status, body } = await call(`${PODS}?limit=abc`);
    assert.equal(status, 400);
    assert.equal(body.reason, 'BadRequest');
    assert.equal(body.message, 'strconv.ParseInt: parsing "abc": invalid syntax');
  });

  it('a negative or zero limit lists everything in one page', async () => {
    for (const limit of ['-1', '0']) {
      const { status, body } = await call(`${PODS}?limit=${limit}`);
      assert.equal(status, 200);
      assert.equal((body.metadata as { continue?: string }).continue, undefined);
    }
  });

  it('timeoutSeconds=soon on a watch is a 400', async () => {
    const { status, body } = await call(`${PODS}?watch=true&timeoutSeconds=soon`);
    assert.equal(status, 400);
    assert.equal(body.message, 'strconv.ParseInt: parsing "soon": invalid syntax');
  });

  it('gracePeriodSeconds=x on a DELETE is a 400 and deletes nothing', async () => {
    const pod = [...sim.store.objects('pods')].find((each) => each.namespace === 'finance-vms');
    assert.ok(pod);
    const { status, body } = await call(
      `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}?gracePeriodSeconds=x`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(status, 400);
    assert.equal(body.message, 'strconv.ParseInt: parsing "x": invalid syntax');
    assert.ok(sim.store.get('pods', pod.namespace, pod.name));
  });
});

describe('simulator query parameters: resourceVersion and resourceVersionMatch', () => {
  it('resourceVersionMatch without resourceVersion is 422 Invalid ListOptions', async () => {
    const { status, body } = await call(`${PODS}?resourceVersionMatch=NotOlderThan`);
    assert.equal(status, 422);
    assert.equal(body.reason, 'Invalid');
    assert.equal(
      body.message,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    );
  });

  it('an unknown resourceVersionMatch lists the supported values', async () => {
    const { status, body } = await call(`${PODS}?resourceVersion=1&resourceVersionMatch=Newest`);
    assert.equal(status, 422);
    assert.equal(
      body.message,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
    );
  });

  it('Exact at resourceVersion 0 is forbidden; several errors are listed together', async () => {
    const { body } = await call(`${PODS}?resourceVersion=0&resourceVersionMatch=Exact`);
    assert.equal(
      body.message,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    );
    const both = await call(`${PODS}?resourceVersionMatch=Exact&continue=abc`);
    assert.match(
      String(both.body.message),
      /^ListOptions\.meta\.k8s\.io "" is invalid: \[resourceVersionMatch: Forbidden: .*, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided\]$/,
    );
  });

  it('sendInitialEvents on a list is forbidden', async () => {
    const { status, body } = await call(`${PODS}?sendInitialEvents=true`);
    assert.equal(status, 422);
    assert.equal(
      body.message,
      'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list',
    );
  });

  it('a watch with sendInitialEvents needs resourceVersionMatch=NotOlderThan', async () => {
    const { status, body } = await call(`${PODS}?watch=true&sendInitialEvents=true`);
    assert.equal(status, 422);
    assert.equal(
      body.message,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    );
  });

  it('a resourceVersion that is not a number is a 400', async () => {
    const { status, body } = await call(`${PODS}?resourceVersion=abc`);
    assert.equal(status, 400);
    assert.equal(
      body.message,
      'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    );
  });

  it('a resourceVersion the store has not reached is 504 Too large resource version', async () => {
    const ahead = sim.store.resourceVersion + 1000;
    const { status, body } = await call(`${PODS}?resourceVersion=${ahead}`);
    assert.equal(status, 504);
    assert.equal(body.reason, 'Timeout');
    assert.equal(body.message, `Too large resource version: ${ahead}, current: ${sim.store.resourceVersion}`);
  });
});

describe('simulator query parameters: selectors', () => {
  it('a field the resource does not support is a 400 naming it', async () => {
    const { status, body } = await call(`${PODS}?fieldSelector=spec.image%3Dx`);
    assert.equal(status, 400);
    assert.equal(body.message, 'field label not supported: spec.image');
  });

  it('a malformed label selector is a 400', async () => {
    const { status, body } = await call(`${PODS}?labelSelector=a%20in%20(b`);
    assert.equal(status, 400);
    assert.equal(body.reason, 'BadRequest');
  });
});

describe('simulator query parameters: write options', () => {
  const migration = (name: string) => ({
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstanceMigration',
    metadata: { name },
    spec: { vmiName: 'vm-1' },
  });
  const post = (query: string, name: string) =>
    call(`/apis/kubevirt.io/v1/namespaces/finance-vms/virtualmachineinstancemigrations${query}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(migration(name)),
    });

  it('a body over the 3 MiB the apiserver reads is a 413 Status, and nothing is created', async () => {
    const object = migration('huge');
    const body = JSON.stringify({
      ...object,
      metadata: { ...object.metadata, annotations: { padding: 'x'.repeat(3.5 * 1024 * 1024) } },
    });
    const { status, body: answer } = await call(
      '/apis/kubevirt.io/v1/namespaces/finance-vms/virtualmachineinstancemigrations',
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body },
    );
    assert.equal(status, 413);
    assert.equal(answer.reason, 'RequestEntityTooLarge');
    assert.equal(sim.store.get('virtualmachineinstancemigrations', 'finance-vms', 'huge'), undefined);
  });

  it('dryRun=All creates nothing; any other value is 422 with the supported values', async () => {
    const dry = await post('?dryRun=All', 'dry');
    assert.equal(dry.status, 201);
    assert.equal(sim.store.get('virtualmachineinstancemigrations', 'finance-vms', 'dry'), undefined);
    const wrong = await post('?dryRun=true', 'wrong');
    assert.equal(wrong.status, 422);
    assert.equal(
      wrong.body.message,
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"true"}: supported values: "All"',
    );
    assert.equal(sim.store.get('virtualmachineinstancemigrations', 'finance-vms', 'wrong'), undefined);
  });

  it('fieldValidation takes Ignore, Warn or Strict; fieldManager at most 128 bytes; pretty is accepted', async () => {
    assert.equal(
      (await post('?fieldValidation=Strict&fieldManager=kubectl&pretty=true', 'strict')).status,
      201,
    );
    const bad = await post('?fieldValidation=strict', 'bad');
    assert.equal(bad.status, 422);
    assert.equal(
      bad.body.message,
      'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"',
    );
    const long = await post(`?fieldManager=${'m'.repeat(129)}`, 'long');
    assert.equal(long.status, 422);
    assert.equal(
      long.body.message,
      'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes',
    );
  });

  it('propagationPolicy must be Foreground, Background or Orphan', async () => {
    assert.equal((await post('', 'to-delete')).status, 201);
    const path = '/apis/kubevirt.io/v1/namespaces/finance-vms/virtualmachineinstancemigrations/to-delete';
    const bad = await call(`${path}?propagationPolicy=Later`, { method: 'DELETE' });
    assert.equal(bad.status, 422);
    assert.equal(
      bad.body.message,
      'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan", "nil"',
    );
    const dry = await call(`${path}?propagationPolicy=Background&dryRun=All`, { method: 'DELETE' });
    assert.equal(dry.status, 200);
    assert.ok(sim.store.get('virtualmachineinstancemigrations', 'finance-vms', 'to-delete'));
    const done = await call(`${path}?propagationPolicy=Background`, { method: 'DELETE' });
    assert.equal(done.status, 200);
    assert.equal(sim.store.get('virtualmachineinstancemigrations', 'finance-vms', 'to-delete'), undefined);
  });
});

describe('simulator query parameters: pod logs', () => {
  it('follow=0 and timestamps=True are booleans as everywhere else', async () => {
    const key = [...sim.logs.keys()].find((each) => (sim.logs.get(each) ?? []).length > 0);
    assert.ok(key);
    const [namespace, pod, container] = key.split('/') as [string, string, string];
    const response = await fetch(
      `${sim.url}/api/v1/namespaces/${namespace}/pods/${pod}/log?container=${container}&timestamps=True&follow=0`,
    );
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.notEqual(text, '');
    for (const line of text.split('\n').filter((entry) => entry !== '')) {
      assert.match(line, /^\d{4}-\d{2}-\d{2}T/);
    }
  });
});
