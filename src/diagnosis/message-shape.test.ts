import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageShapes, messageShape } from './message-shape.js';

describe('messageShape', () => {
  it('gives one shape to image pull failures of different pods and images', () => {
    const a = messageShape(
      'Failed to pull image "quay.io/containerdisks/fedora:41": rpc error: code = Unknown desc = reading manifest 41 in quay.io/containerdisks/fedora: unauthorized: access to the requested resource is not authorized',
    );
    const b = messageShape(
      'Failed to pull image "quay.io/containerdisks/centos-stream:9": rpc error: code = Unknown desc = reading manifest 9 in quay.io/containerdisks/centos-stream: unauthorized: access to the requested resource is not authorized',
    );
    assert.equal(a, b);
  });

  it('hides sandbox IDs, pod names, UIDs and IPs (multus-cni issue #1361)', () => {
    const shape = messageShape(
      'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "2abdfc9c59747f33d233f9e46e5c7423f4cf4973f295198e67de801199ebc528": error configuring pod [virtual-machines/virt-launcher-ubuntu-nn5hj] networking: Multus: [virtual-machines/virt-launcher-ubuntu-nn5hj/608c92b4-3a0a-4224-a746-bb3a077519b3]: error waiting for pod 10.128.4.17',
    );
    assert.doesNotMatch(shape, /nn5hj|608c92b4|2abdfc9c|10\.128/);
    assert.match(
      shape,
      /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox/,
    );
  });

  it('keeps the words that tell failures apart', () => {
    assert.notEqual(
      messageShape(
        'MountVolume.SetUp failed for volume "pvc-1" : rpc error: code = Internal desc = mount failed',
      ),
      messageShape(
        'AttachVolume.Attach failed for volume "pvc-1" : rpc error: code = DeadlineExceeded desc = context deadline exceeded',
      ),
    );
  });
});

describe('MessageShapes', () => {
  it('gives what messageShape gives, for repeated messages and past its capacity', () => {
    const shapes = new MessageShapes(2);
    const messages = [
      'Failed to pull image "quay.io/a/b:1": manifest unknown',
      'Back-off pulling image "quay.io/a/b:1"',
      'Failed to pull image "quay.io/a/b:1": manifest unknown',
      'MountVolume.SetUp failed for volume "pvc-1234-abcd" : timed out',
      'Back-off pulling image "quay.io/a/b:1"',
      'Failed to pull image "quay.io/a/b:1": manifest unknown',
    ];
    assert.deepEqual(
      messages.map((message) => shapes.of(message)),
      messages.map((message) => messageShape(message)),
    );
  });
});
