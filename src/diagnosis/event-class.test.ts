import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyEvent, type EventClass } from './event-class.js';

// Warning events as the kubelet and controllers write them (sources in the comments of each row).
const table: Array<{ reason: string; message: string; expected: EventClass }> = [
  // kubelet images/puller.go: "Failed" + "Failed to pull image ..."
  {
    reason: 'Failed',
    message:
      'Failed to pull image "quay.io/containerdisks/fedora:41": rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized',
    expected: 'image-pull',
  },
  { reason: 'Failed', message: 'Error: ErrImagePull', expected: 'image-pull' },
  {
    reason: 'BackOff',
    message: 'Back-off pulling image "quay.io/containerdisks/fedora:41"',
    expected: 'image-pull',
  },
  // multus-cni issue #1223
  {
    reason: 'FailedCreatePodSandBox',
    message:
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "37d6": plugin type="multus-shim" name="multus-cni-network" failed (add)',
    expected: 'sandbox-network',
  },
  {
    reason: 'FailedMount',
    message:
      'MountVolume.SetUp failed for volume "pvc-3f1e" : rpc error: code = Internal desc = mount failed: exit status 32',
    expected: 'volume',
  },
  {
    reason: 'FailedAttachVolume',
    message:
      'Multi-Attach error for volume "pvc-3f1e" Volume is already exclusively attached to one node and can\'t be attached to another',
    expected: 'volume',
  },
  { reason: 'Evicted', message: 'The node was low on resource: memory. ', expected: 'eviction' },
  {
    reason: 'OOMKilling',
    message: 'Memory cgroup out of memory: Killed process 4242 (qemu-kvm)',
    expected: 'oom',
  },
  { reason: 'NodeNotReady', message: 'Node is not ready', expected: 'node' },
  // kubevirt migration controller
  {
    reason: 'FailedMigration',
    message: 'Migration failed because target pod shutdown during migration',
    expected: 'migration',
  },
  // Should NOT count as a failure mechanism: a probe failure says nothing of why the launcher died.
  {
    reason: 'Unhealthy',
    message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
    expected: 'other',
  },
];

describe('classifyEvent', () => {
  for (const row of table) {
    it(`${row.reason}: ${row.message.slice(0, 60)} -> ${row.expected}`, () => {
      assert.equal(classifyEvent(row), row.expected);
    });
  }
});
