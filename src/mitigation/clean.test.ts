import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../kube/types.js';
import { planCleanStep } from './clean.js';

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
