import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Pod } from '../kube/types.js';
import { humanDuration, podStatusColumns } from './table.js';

describe('humanDuration (apimachinery duration.HumanDuration)', () => {
  const cases: Array<[number, string]> = [
    [-5_000, '<invalid>'],
    [-500, '0s'],
    [45_000, '45s'],
    [119_000, '119s'],
    [200_000, '3m20s'],
    [600_000, '10m'],
    [3 * 3600_000 + 60_000, '3h1m'],
    [10 * 3600_000, '10h'],
    [3 * 86400_000 + 4 * 3600_000, '3d4h'],
    [30 * 86400_000, '30d'],
    [(2 * 365 + 30) * 86400_000, '2y30d'],
    [9 * 365 * 86400_000, '9y'],
  ];
  for (const [milliseconds, expected] of cases) {
    it(`${milliseconds} ms -> ${expected}`, () => assert.equal(humanDuration(milliseconds), expected));
  }
});

function pod(status: NonNullable<Pod['status']>, extra: { deletionTimestamp?: string } = {}): Pod {
  return {
    metadata: { name: 'p', namespace: 'n', ...extra },
    spec: {
      containers: [{ name: 'compute' }, { name: 'guest-console-log' }],
      initContainers: [{ name: 'init' }],
    },
    status,
  };
}

const terminated = (name: string, exitCode: number, reason?: string, signal?: number): ContainerStatus => ({
  name,
  restartCount: 0,
  state: {
    terminated: {
      exitCode,
      ...(reason === undefined ? {} : { reason }),
      ...(signal === undefined ? {} : { signal }),
    },
  },
});
const running = (name: string): ContainerStatus => ({
  name,
  ready: true,
  restartCount: 0,
  state: { running: {} },
});

describe('podStatusColumns (printPod)', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');

  it('lets the first container win: a crashed compute reads Error', () => {
    const columns = podStatusColumns(
      pod({
        phase: 'Failed',
        containerStatuses: [
          terminated('compute', 1, 'Error'),
          terminated('guest-console-log', 0, 'Completed'),
        ],
      }),
      now,
    );
    assert.deepEqual(columns, { ready: '0/2', status: 'Error', restarts: '0' });
  });

  it('reports a status reason (Evicted) when no container says otherwise', () => {
    assert.equal(podStatusColumns(pod({ phase: 'Failed', reason: 'Evicted' }), now).status, 'Evicted');
  });

  it('reports init container failures and waits', () => {
    const failedInit = pod({ phase: 'Failed', initContainerStatuses: [terminated('init', 1, 'StartError')] });
    assert.equal(podStatusColumns(failedInit, now).status, 'Init:StartError');
    const pulling = pod({
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'init', restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } },
      ],
    });
    assert.equal(podStatusColumns(pulling, now).status, 'Init:ImagePullBackOff');
    const started = pod({
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', restartCount: 0, state: { running: {} } }],
    });
    assert.equal(podStatusColumns(started, now).status, 'Init:0/1');
  });

  it('spells signals and exit codes without a reason', () => {
    assert.equal(
      podStatusColumns(
        pod({ phase: 'Failed', containerStatuses: [terminated('compute', 137, undefined, 9)] }),
        now,
      ).status,
      'Signal:9',
    );
    assert.equal(
      podStatusColumns(pod({ phase: 'Failed', containerStatuses: [terminated('compute', 2)] }), now).status,
      'ExitCode:2',
    );
  });

  it('counts ready containers and turns Completed back to Running while one runs', () => {
    const columns = podStatusColumns(
      pod({
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [running('compute'), terminated('guest-console-log', 0, 'Completed')],
      }),
      now,
    );
    assert.deepEqual(columns, { ready: '1/2', status: 'Running', restarts: '0' });
  });

  it('says Terminating for a deleted running pod, not for a finished one', () => {
    const deleting = { deletionTimestamp: '2026-01-01T01:00:30Z' };
    assert.equal(
      podStatusColumns(pod({ phase: 'Running', containerStatuses: [running('compute')] }, deleting), now)
        .status,
      'Terminating',
    );
    assert.equal(
      podStatusColumns(pod({ phase: 'Failed', reason: 'Evicted' }, deleting), now).status,
      'Evicted',
    );
  });

  it('shows restarts with the age of the last one', () => {
    const restarted: ContainerStatus = {
      ...running('compute'),
      restartCount: 2,
      lastState: { terminated: { exitCode: 1, finishedAt: '2026-01-01T00:55:00Z' } },
    };
    assert.equal(
      podStatusColumns(pod({ phase: 'Running', containerStatuses: [restarted] }), now).restarts,
      '2 (5m ago)',
    );
  });
});
