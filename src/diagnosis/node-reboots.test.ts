import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { readNodeReboots } from './node-reboots.js';

function nodeEvent(node: string, reason: string, message: string, at: string, id: string): Event {
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${node}.${id}`, namespace: 'default', creationTimestamp: at },
    involvedObject: { kind: 'Node', apiVersion: 'v1', name: node, uid: node },
    reason,
    message,
    type: reason === 'Rebooted' ? 'Warning' : 'Normal',
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
  } as Event;
}

describe('readNodeReboots', () => {
  it("keeps each node's latest Rebooted event and the boot id it names (nodestatus/setters.go wording)", async () => {
    const reader = new SnapshotReader({
      objects: [
        nodeEvent(
          'worker-1',
          'Rebooted',
          'Node worker-1 has been rebooted, boot id: 1111',
          '2026-11-23T20:00:00Z',
          'a',
        ),
        nodeEvent(
          'worker-1',
          'Rebooted',
          'Node worker-1 has been rebooted, boot id: 2222',
          '2026-11-23T21:00:00Z',
          'b',
        ),
        nodeEvent(
          'worker-2',
          'NodeReady',
          'Node worker-2 status is now: NodeReady',
          '2026-11-23T21:00:00Z',
          'c',
        ),
        nodeEvent(
          'worker-3',
          'Rebooted',
          'Node worker-3 has been rebooted, boot id: 3333',
          '2026-11-23T21:01:00Z',
          'd',
        ),
      ],
      logs: [],
    });
    const reboots = await readNodeReboots(reader);
    assert.deepEqual([...reboots.keys()].sort(), ['worker-1', 'worker-3']);
    assert.deepEqual(reboots.get('worker-1'), {
      at: '2026-11-23T21:00:00Z',
      bootId: '2222',
      message: 'Node worker-1 has been rebooted, boot id: 2222',
    });
  });
});
