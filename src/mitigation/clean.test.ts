import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeApi, PagedListOptions } from '../cluster/kube-api.js';
import type { Pod } from '../kube/types.js';
import { createCleanExecutor, HeldPods, NamespacePods, planCleanStep } from './clean.js';
import type { ApplyContext } from './plan.js';

const NOW = new Date('2026-11-29T12:00:00Z');

function pod(
  name: string,
  options: { vmi?: string; finishedAt?: string; created?: string; phase?: string; label?: boolean } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      creationTimestamp: options.created ?? '2026-11-29T00:00:00Z',
      labels: options.label === false ? {} : { 'kubevirt.io': 'virt-launcher' },
      ...(options.vmi === undefined
        ? {}
        : {
            ownerReferences: [
              {
                apiVersion: 'kubevirt.io/v1',
                kind: 'VirtualMachineInstance',
                name: options.vmi,
                uid: `vmi-${options.vmi}`,
                controller: true,
              },
            ],
          }),
    },
    spec: { containers: [{ name: 'compute' }] },
    status: {
      phase: (options.phase ?? 'Failed') as 'Failed',
      containerStatuses:
        options.finishedAt === undefined
          ? []
          : [
              {
                name: 'compute',
                ready: false,
                restartCount: 0,
                state: { terminated: { exitCode: 1, finishedAt: options.finishedAt } },
              },
            ],
    },
  };
}

async function* stream(pods: Pod[]): AsyncGenerator<Pod> {
  yield* pods;
}

describe('planCleanStep', () => {
  it('selects only Failed pods with the label and the name, whatever the list returned', async () => {
    const selection = await planCleanStep(
      stream([
        pod('virt-launcher-a-11111'),
        pod('virt-launcher-b-22222', { phase: 'Running' }),
        pod('virt-launcher-c-33333', { label: false }),
        pod('launcher-d-44444'),
      ]),
      { keepPerVmi: 0, now: NOW },
    );
    assert.deepEqual(
      selection.step.targets.map((target) => target.name),
      ['virt-launcher-a-11111'],
    );
    assert.equal(selection.notLaunchers, 3);
    assert.equal(selection.step.count, 1);
  });

  it('keeps the newest K of each VMI by termination time; launchers without a VMI are not kept', async () => {
    const selection = await planCleanStep(
      stream([
        pod('virt-launcher-web-aaaaa', { vmi: 'web', finishedAt: '2026-11-29T10:00:00Z' }),
        pod('virt-launcher-web-bbbbb', { vmi: 'web', finishedAt: '2026-11-29T11:00:00Z' }),
        pod('virt-launcher-web-ccccc', { vmi: 'web', finishedAt: '2026-11-29T09:00:00Z' }),
        pod('virt-launcher-db-ddddd', { vmi: 'db', finishedAt: '2026-11-29T08:00:00Z' }),
        pod('virt-launcher-orphan-eeeee'),
      ]),
      { keepPerVmi: 1, now: NOW },
    );
    assert.deepEqual(
      selection.step.targets.map((target) => target.name),
      ['virt-launcher-web-aaaaa', 'virt-launcher-web-ccccc', 'virt-launcher-orphan-eeeee'],
    );
    assert.equal(selection.kept, 2);
    assert.equal(selection.keptVmis, 2);
    assert.deepEqual(selection.step.caps, { keepPerVmi: 1 });
  });

  it('--older-than reads the last container termination, else the creation time', async () => {
    const selection = await planCleanStep(
      stream([
        pod('virt-launcher-old-aaaaa', { finishedAt: '2026-11-29T10:00:00Z' }),
        pod('virt-launcher-new-bbbbb', { finishedAt: '2026-11-29T11:50:00Z' }),
        pod('virt-launcher-never-ran', { created: '2026-11-29T11:00:00Z' }),
        pod('virt-launcher-just-made', { created: '2026-11-29T11:59:00Z' }),
      ]),
      { keepPerVmi: 0, olderThanSeconds: 30 * 60, now: NOW },
    );
    assert.deepEqual(
      selection.step.targets.map((target) => target.name),
      ['virt-launcher-old-aaaaa', 'virt-launcher-never-ran'],
    );
    assert.equal(selection.tooRecent, 2);
    assert.equal(selection.step.caps.olderThanSeconds, 1800);
  });
});

describe('NamespacePods', () => {
  /** A list that counts the pods it has handed out, and can break after some. */
  function counted(pods: Pod[], breakAfter?: number) {
    const read = { count: 0 };
    async function* list(): AsyncGenerator<Pod> {
      for (const item of pods) {
        if (read.count === breakAfter) throw new Error('connection reset');
        read.count += 1;
        yield item;
      }
    }
    return { read, list: list() };
  }
  const names = (count: number) =>
    Array.from({ length: count }, (_, index) => `virt-launcher-${String(index).padStart(4, '0')}`);

  it('hands each planned pod to its claim while reading no further than the claims need, in key order', async () => {
    const all = names(1000).map((name) => pod(name));
    const { read, list } = counted(all);
    const { gets, fetch } = getter(all);
    const planned = names(1000).filter((_, index) => index % 10 === 0);
    const pods = new NamespacePods(list, new Set(planned), fetch);
    for (const name of planned.slice(0, 5)) assert.equal((await pods.claim(name))?.metadata.name, name);
    // The fifth planned pod is the 41st listed: nothing past it was read, and nothing read twice.
    assert.equal(read.count, 41);
    assert.deepEqual(gets, []);
  });

  /** The namespace as a GET of one pod sees it, counting the GETs. */
  function getter(pods: Pod[]) {
    const gets: string[] = [];
    const fetch = async (name: string) => {
      gets.push(name);
      return pods.find((item) => item.metadata.name === name);
    };
    return { gets, fetch };
  }

  it('reads a name the list has passed or ended without once more by itself', async () => {
    const listed = ['a', 'c', 'e'].map((name) => pod(name));
    const { read, list } = counted(listed);
    // The server still holds y, replaced since the plan by a pod the list's selectors leave out.
    const replaced = pod('y', { phase: 'Running' });
    const { gets, fetch } = getter([...listed, replaced]);
    const pods = new NamespacePods(list, new Set(['b', 'c', 'y', 'z']), fetch);
    assert.equal(await pods.claim('b'), undefined);
    assert.equal(read.count, 2);
    assert.deepEqual(gets, ['b']);
    assert.equal((await pods.claim('c'))?.metadata.name, 'c');
    assert.equal((await pods.claim('y'))?.status?.phase, 'Running');
    assert.equal(await pods.claim('z'), undefined);
    assert.equal(read.count, 3);
    assert.deepEqual(gets, ['b', 'y', 'z']);
  });

  it('finds every pod of a list out of key order, whatever the order of the claims', async () => {
    const listed = ['d', 'a', 'c', 'b'].map((name) => pod(name));
    const { list } = counted(listed);
    const pods = new NamespacePods(list, new Set(['a', 'b', 'c', 'd']), getter(listed).fetch);
    const claimed = await Promise.all(['b', 'd', 'a', 'c', 'x'].map((name) => pods.claim(name)));
    assert.deepEqual(
      claimed.map((found) => found?.metadata.name),
      ['b', 'd', 'a', 'c', undefined],
    );
  });

  it('fails every claim after a broken list instead of taking the pods for gone', async () => {
    const listed = ['a', 'b', 'c'].map((name) => pod(name));
    const { list } = counted(listed, 1);
    const pods = new NamespacePods(list, new Set(['a', 'b', 'c']), getter(listed).fetch);
    assert.equal((await pods.claim('a'))?.metadata.name, 'a');
    await assert.rejects(pods.claim('b'), /connection reset/);
    await assert.rejects(pods.claim('c'), /connection reset/);
  });
});

describe('HeldPods', () => {
  const inNamespace = (namespace: string, name: string): Pod => {
    const held = pod(name);
    held.metadata.namespace = namespace;
    return held;
  };
  const names = async (pods: AsyncIterable<Pod> | undefined): Promise<string[] | undefined> => {
    if (pods === undefined) return undefined;
    const read: string[] = [];
    for await (const each of pods) read.push(each.metadata.name);
    return read;
  };

  it('passes every pod on, and holds whole namespaces, in name order, up to its budget', async () => {
    const held = new HeldPods(3);
    const listed = [
      inNamespace('a', 'virt-launcher-y'),
      inNamespace('a', 'virt-launcher-x'),
      inNamespace('b', 'virt-launcher-z'),
      inNamespace('c', 'virt-launcher-w'),
      inNamespace('c', 'virt-launcher-v'),
    ];
    assert.deepEqual(
      await names(held.pass(stream(listed))),
      listed.map((each) => each.metadata.name),
    );
    assert.deepEqual(await names(held.take('a')), ['virt-launcher-x', 'virt-launcher-y']);
    assert.deepEqual(await names(held.take('b')), ['virt-launcher-z']);
    // Past the budget: c is not held at all, rather than held in part.
    assert.equal(held.take('c'), undefined);
    // Taken once: the executor owns them now.
    assert.equal(held.take('a'), undefined);
  });

  it('lets go of a namespace that gets one more pod once the budget is spent (a list out of order)', async () => {
    const held = new HeldPods(2);
    const listed = [
      inNamespace('a', 'virt-launcher-1'),
      inNamespace('b', 'virt-launcher-2'),
      inNamespace('c', 'virt-launcher-3'),
      inNamespace('a', 'virt-launcher-4'),
    ];
    await names(held.pass(stream(listed)));
    assert.equal(held.take('a'), undefined);
    assert.deepEqual(await names(held.take('b')), ['virt-launcher-2']);
  });

  it('with a budget of 0 holds nothing', async () => {
    const held = new HeldPods(0);
    await names(held.pass(stream([inNamespace('a', 'virt-launcher-1')])));
    assert.equal(held.take('a'), undefined);
  });
});

describe('createCleanExecutor', () => {
  /** The page size of each pods list the executor sends, against an API that holds the one planned pod. */
  async function podListLimits(pageSize: number | undefined): Promise<Array<number | undefined>> {
    const planned = pod('virt-launcher-a');
    const limits: Array<number | undefined> = [];
    const api = {
      list: (resource: string, options: PagedListOptions) => {
        if (resource === 'pods') limits.push(options.limit);
        return stream([planned]);
      },
      get: async () => planned,
      delete: async () => undefined,
      inFlightLimit: () => ({ limit: 1, max: 1 }),
    } as unknown as KubeApi;
    const context: ApplyContext = {
      api,
      journal: { append: async () => undefined },
      settled: new Set(),
      dryRun: 'none',
      now: () => NOW,
    };
    const executor = createCleanExecutor({
      archiveDir: undefined,
      ...(pageSize === undefined ? {} : { pageSize }),
    });
    const step = (await planCleanStep(stream([planned]), { keepPerVmi: 0, now: NOW })).step;
    const outcome = await executor(step, context);
    assert.equal(outcome.counts.done, 1);
    return limits;
  }

  it('lists each namespace 100 pods a page, or as many as it is given', async () => {
    assert.deepEqual(await podListLimits(undefined), [100]);
    assert.deepEqual(await podListLimits(2), [2]);
  });
});
