import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClearingCondition } from './clearing-condition.js';
import type { NewLauncherSummary } from './launcher-tracker.js';

const WINDOW = 600_000;
const NONE: NewLauncherSummary = {
  total: 0,
  running: 0,
  pending: 0,
  failed: 0,
  succeeded: 0,
  pendingExamples: [],
  runningVmis: [],
};
const VMIS_OK = { notRunning: 0, examples: [] };

function condition() {
  return new ClearingCondition({ threshold: 200, windowMs: WINDOW });
}

describe('ClearingCondition', () => {
  it('waits for a first count', () => {
    const status = condition().evaluate(0, NONE, VMIS_OK);
    assert.equal(status.cleared, false);
    assert.deepEqual(status.waitingFor, ['the first count of Failed launchers']);
  });

  it('clears once the count has stayed below the threshold for the whole window, not a moment before', () => {
    const clearing = condition();
    clearing.observeCount(250, 0);
    assert.match(clearing.evaluate(1_000, NONE, VMIS_OK).waitingFor[0] ?? '', /drop below 200 \(now 250\)/);
    clearing.observeCount(199, 5_000);
    clearing.observeCount(12, 6_000);
    const early = clearing.evaluate(5_000 + WINDOW - 1, NONE, VMIS_OK);
    assert.equal(early.cleared, false);
    assert.match(early.waitingFor[0] ?? '', /to stay below 200 for 10m: 9m59s so far/);
    const done = clearing.evaluate(5_000 + WINDOW, NONE, VMIS_OK);
    assert.equal(done.cleared, true);
    assert.equal(done.clearForMs, WINDOW);
    assert.deepEqual(done.waitingFor, []);
  });

  it('starts over when the count reaches the threshold again', () => {
    const clearing = condition();
    clearing.observeCount(10, 0);
    clearing.observeCount(200, 300_000);
    clearing.observeCount(150, 310_000);
    assert.equal(clearing.evaluate(WINDOW + 1, NONE, VMIS_OK).cleared, false);
    assert.equal(clearing.evaluate(310_000 + WINDOW, NONE, VMIS_OK).cleared, true);
  });

  it('restarts the window when a launcher goes Failed, and says so', () => {
    const clearing = condition();
    clearing.observeCount(0, 0);
    clearing.observeFailure(400_000);
    clearing.observeCount(1, 400_000);
    const status = clearing.evaluate(WINDOW, NONE, VMIS_OK);
    assert.equal(status.cleared, false);
    assert.equal(status.clearForMs, 200_000);
    assert.match(
      status.waitingFor[0] ?? '',
      /restarted 3m20s ago when a launcher went Failed \(1 since the start\)/,
    );
    assert.equal(clearing.evaluate(400_000 + WINDOW, NONE, VMIS_OK).cleared, true);
    assert.equal(clearing.failures, 1);
  });

  it('waits for new launchers to reach Running and for their VMIs to run', () => {
    const clearing = condition();
    clearing.observeCount(0, 0);
    const starting = {
      ...NONE,
      total: 3,
      running: 1,
      pending: 2,
      pendingExamples: ['vms/virt-launcher-a-1', 'vms/virt-launcher-b-2'],
    };
    const status = clearing.evaluate(WINDOW, starting, { notRunning: 1, examples: ['vms/c (Scheduling)'] });
    assert.equal(status.cleared, false);
    assert.deepEqual(status.waitingFor, [
      '2 of the 3 launchers created since the start to reach Running (e.g. vms/virt-launcher-a-1, vms/virt-launcher-b-2)',
      '1 VMIs of new launchers to be Running (e.g. vms/c (Scheduling))',
    ]);
    assert.equal(status.clearForMs, WINDOW, 'the count side is clear');
    const running = { ...NONE, total: 3, running: 3, runningVmis: ['vms/a', 'vms/b', 'vms/c'] };
    assert.equal(clearing.evaluate(WINDOW, running, VMIS_OK).cleared, true);
  });
});
