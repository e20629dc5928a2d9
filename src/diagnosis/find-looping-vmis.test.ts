import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vmim } from '../../test/helpers/vm-fixtures.js';
import type { KubeObject } from '../kube/types.js';
import { SnapshotReader } from '../snapshot/snapshot-reader.js';
import { findLoopingVmis } from './find-looping-vmis.js';

describe('findLoopingVmis', () => {
  it('returns every VMI with LOOP_THRESHOLD failed migrations, past the 20 the report shows', async () => {
    const objects: KubeObject[] = [];
    for (let vmi = 0; vmi < 25; vmi += 1) {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        objects.push(vmim(`ns-${vmi % 2}`, `m-${vmi}-${attempt}`, `vmi-${vmi}`, 'Failed'));
      }
      objects.push(vmim(`ns-${vmi % 2}`, `m-${vmi}-now`, `vmi-${vmi}`, 'Running'));
    }
    // Two failures, then a success: not a loop.
    objects.push(vmim('ns-0', 'calm-1', 'calm', 'Failed'), vmim('ns-0', 'calm-2', 'calm', 'Failed'));
    objects.push(vmim('ns-0', 'calm-3', 'calm', 'Succeeded'));
    const reader = new SnapshotReader({ objects, logs: [] });
    const looping = await findLoopingVmis(reader);
    assert.equal(looping.length, 25);
    assert.ok(looping.every((vmi) => vmi.failed === 3 && vmi.inFlight === 1));
    const inNamespace = await findLoopingVmis(reader, { namespace: 'ns-1' });
    assert.deepEqual(
      inNamespace.map((vmi) => vmi.namespace),
      Array(12).fill('ns-1'),
    );
  });
});
