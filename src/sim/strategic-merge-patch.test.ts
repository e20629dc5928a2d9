// The list cases are apimachinery v0.32 pkg/util/strategicpatch/patch_test.go's (ThreeWay applied to Current gives
// Result), moved from its test struct's mergingList/mergingIntList onto a pod's containers and finalizers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiStatusError } from './api-status.js';
import type { JsonValue } from './patch.js';
import { strategicMergePatch } from './strategic-merge-patch.js';

type Json = { [key: string]: JsonValue };

function apply(original: Json, patch: JsonValue, kind = 'Pod', fieldValidation = 'Strict'): Json {
  return strategicMergePatch(original, patch, { kind, fieldValidation }).patched as Json;
}

const pod = (spec: Json, metadata: Json = {}): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', ...metadata },
  spec,
});

const containers = (object: Json) => (object.spec as Json).containers;

/** The Status the function answered with (and fails when it answered nothing). */
function refusal(run: () => unknown): {
  code: number;
  reason?: string | undefined;
  message?: string | undefined;
} {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ApiStatusError, String(error));
    return { code: error.code, reason: error.status.reason, message: error.status.message };
  }
  assert.fail('expected the patch to be refused');
}

describe('strategicMergePatch', () => {
  it('merges containers and their env by name and replaces a list without a merge key whole', () => {
    const original = pod({
      containers: [
        { name: 'a', image: 'a:1' },
        {
          name: 'c',
          image: 'c:1',
          env: [
            { name: 'X', value: '1' },
            { name: 'Y', value: '2' },
          ],
        },
      ],
      tolerations: [{ key: 'k1', operator: 'Exists' }],
    });
    const patched = apply(original, {
      spec: {
        containers: [{ name: 'c', image: 'c:2', env: [{ name: 'Y', value: '3' }] }],
        tolerations: [{ key: 'k2', operator: 'Exists' }],
      },
    });
    assert.deepEqual(containers(patched), [
      { name: 'a', image: 'a:1' },
      {
        name: 'c',
        image: 'c:2',
        env: [
          { name: 'X', value: '1' },
          { name: 'Y', value: '3' },
        ],
      },
    ]);
    assert.deepEqual((patched.spec as Json).tolerations, [{ key: 'k2', operator: 'Exists' }]);
  });

  it('puts an element new to the list first when no $setElementOrder orders it (mergeSortedSlice)', () => {
    const patched = apply(pod({ containers: [{ name: 'a' }, { name: 'b' }] }), {
      spec: { containers: [{ name: 'new', image: 'n' }] },
    });
    assert.deepEqual(containers(patched), [{ name: 'new', image: 'n' }, { name: 'a' }, { name: 'b' }]);
  });

  it('orders by $setElementOrder and keeps server-only items where they were', () => {
    // "set elements order in a list with server-only items".
    const current = pod({
      containers: [
        { name: '1', other: 'a' },
        { name: '3', image: '3' },
        { name: '4', image: '4' },
        { name: '2', image: '2' },
        { name: '9' },
      ],
    });
    const patched = apply(current, {
      spec: { '$setElementOrder/containers': [{ name: '4' }, { name: '2' }, { name: '3' }, { name: '1' }] },
    });
    assert.deepEqual(containers(patched), [
      { name: '4', image: '4' },
      { name: '2', image: '2' },
      { name: '3', image: '3' },
      { name: '1', other: 'a' },
      { name: '9' },
    ]);
  });

  it('adds items where $setElementOrder puts them and merges the others', () => {
    // "add multiple items in a list and preserve order".
    const current = pod({
      containers: [
        { name: '1', other: 'a' },
        { name: '2', image: '2', other: 'b' },
      ],
    });
    const patched = apply(current, {
      spec: {
        '$setElementOrder/containers': [{ name: '1' }, { name: '4' }, { name: '2' }, { name: '3' }],
        containers: [
          { name: '4', image: '4' },
          { name: '3', image: '3' },
        ],
      },
    });
    assert.deepEqual(containers(patched), [
      { name: '1', other: 'a' },
      { name: '4', image: '4' },
      { name: '2', image: '2', other: 'b' },
      { name: '3', image: '3' },
    ]);
  });

  it('merges a primitive list with a merge strategy and deletes from it with $deleteFromPrimitiveList', () => {
    // "add and delete items in lists of scalars", on metadata.finalizers.
    const current = pod({}, { finalizers: ['f1', 'f2', 'f3', 'f4'] });
    const patched = apply(current, {
      metadata: {
        '$setElementOrder/finalizers': ['f1', 'f2', 'f4'],
        '$deleteFromPrimitiveList/finalizers': ['f3'],
      },
    });
    assert.deepEqual((patched.metadata as Json).finalizers, ['f1', 'f2', 'f4']);
    const added = apply(current, { metadata: { finalizers: ['f2', 'f5'] } });
    assert.deepEqual((added.metadata as Json).finalizers, ['f1', 'f2', 'f5', 'f3', 'f4']);
  });

  it('deletes and replaces list elements with $patch, and ownerReferences merge by uid', () => {
    const current = pod(
      { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] },
      {
        ownerReferences: [
          { uid: 'u1', name: 'one' },
          { uid: 'u2', name: 'two' },
        ],
      },
    );
    const deleted = apply(current, {
      metadata: { ownerReferences: [{ uid: 'u2', $patch: 'delete' }] },
      spec: { containers: [{ name: 'b', $patch: 'delete' }] },
    });
    assert.deepEqual(containers(deleted), [{ name: 'a' }, { name: 'c' }]);
    assert.deepEqual((deleted.metadata as Json).ownerReferences, [{ uid: 'u1', name: 'one' }]);
    const replaced = apply(current, {
      spec: { containers: [{ name: 'z', image: 'z' }, { $patch: 'replace' }] },
    });
    assert.deepEqual(containers(replaced), [{ name: 'z', image: 'z' }]);
  });

  it('replaces or empties a map with $patch, deletes a key with null, and clears keys missing from $retainKeys', () => {
    const current = pod({
      nodeSelector: { a: '1', b: '2' },
      securityContext: { runAsUser: 1, fsGroup: 2 },
      volumes: [{ name: 'v', hostPath: { path: '/x' } }],
      hostname: 'h',
    });
    const patched = apply(current, {
      spec: {
        nodeSelector: { c: '3', $patch: 'replace' },
        securityContext: { $patch: 'delete' },
        volumes: [{ name: 'v', emptyDir: {}, $retainKeys: ['name', 'emptyDir'] }],
        hostname: null,
      },
    });
    assert.deepEqual(patched.spec, {
      nodeSelector: { c: '3' },
      securityContext: {},
      volumes: [{ name: 'v', emptyDir: {} }],
    });
  });

  it('merges node conditions and addresses by type and replaces taints whole', () => {
    const node = {
      metadata: { name: 'n' },
      spec: { taints: [{ key: 't1', effect: 'NoSchedule' }] },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'MemoryPressure', status: 'False' },
        ],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    };
    const patched = apply(
      node,
      {
        spec: { taints: [{ key: 't2', effect: 'NoExecute' }] },
        status: {
          conditions: [{ type: 'Ready', status: 'False' }],
          addresses: [{ type: 'Hostname', address: 'n' }],
        },
      },
      'Node',
    );
    assert.deepEqual(patched.spec, { taints: [{ key: 't2', effect: 'NoExecute' }] });
    assert.deepEqual((patched.status as Json).conditions, [
      { type: 'Ready', status: 'False' },
      { type: 'MemoryPressure', status: 'False' },
    ]);
    assert.deepEqual((patched.status as Json).addresses, [
      { type: 'Hostname', address: 'n' },
      { type: 'InternalIP', address: '10.0.0.1' },
    ]);
  });

  it('replaces lists whole for a kind without tagged lists', () => {
    const patched = apply(
      { metadata: { name: 'l' }, spec: { holderIdentity: 'a' }, list: [{ name: 'x' }] },
      { list: [{ name: 'y' }] },
      'Lease',
    );
    assert.deepEqual(patched.list, [{ name: 'y' }]);
  });

  it('answers malformed directives with 400 and lists of lists with 422, as the patch handler does', () => {
    const current = pod({ containers: [{ name: 'a' }] }, { finalizers: ['f'] });
    assert.deepEqual(
      refusal(() => apply(current, { spec: { $retainKeys: 'name' } })),
      {
        code: 400,
        reason: 'BadRequest',
        message: 'invalid patch format of retainKeys',
      },
    );
    assert.equal(
      refusal(() => apply(current, { spec: { $retainKeys: ['containers'], hostname: 'h' } })).code,
      400,
    );
    assert.deepEqual(
      refusal(() => apply(current, { metadata: { '$deleteFromPrimitiveListX/finalizers': ['f'] } })),
      {
        code: 400,
        reason: 'BadRequest',
        message: 'invalid patch format of primitive list',
      },
    );
    assert.deepEqual(
      refusal(() => apply(current, { spec: { $setElementOrder: [] } })),
      {
        code: 400,
        reason: 'BadRequest',
        message: 'invalid patch format of setElementOrder list',
      },
    );
    assert.deepEqual(
      refusal(() => apply(pod({}, { finalizers: [] }), { metadata: { finalizers: [['f']] } })),
      {
        code: 422,
        reason: 'Invalid',
        message: 'the server rejected our request due to an error in our request',
      },
    );
    assert.equal(refusal(() => apply(current, ['not', 'a', 'map'])).code, 400);
  });

  it('answers an unknown $patch, $patch: merge in a list and a missing merge key with a 500 without reason', () => {
    const current = pod({ containers: [{ name: 'a' }], securityContext: { runAsUser: 1 } });
    assert.deepEqual(
      refusal(() => apply(current, { spec: { containers: [{ name: 'a', $patch: 'frob' }] } })),
      {
        code: 500,
        reason: undefined,
        message: 'unknown patch type: frob in map: map[$patch:frob name:a]',
      },
    );
    assert.equal(
      refusal(() => apply(current, { spec: { securityContext: { $patch: 'merge' } } })).message,
      'unknown patch type: merge in map: map[$patch:merge]',
    );
    assert.equal(
      refusal(() => apply(current, { spec: { containers: [{ $patch: 'merge' }] } })).message,
      'merging lists cannot yet be specified in the patch',
    );
    assert.deepEqual(
      refusal(() => apply(current, { spec: { containers: [{ image: 'x' }] } })),
      {
        code: 500,
        reason: undefined,
        message: 'map: map[image:x] does not contain declared merge key: name',
      },
    );
  });

  it('drops unknown $-keys with a warning, or refuses them with fieldValidation=Strict', () => {
    const current = pod({ containers: [{ name: 'a' }] });
    const patch = { spec: { $frob: 1, containers: [{ name: 'a', $other: true }] } };
    const warned = strategicMergePatch(current, patch, { kind: 'Pod', fieldValidation: '' });
    assert.deepEqual(warned.patched, pod({ containers: [{ name: 'a' }] }));
    // The converter walks the struct's fields first, then reports the map's unmatched keys.
    assert.deepEqual(warned.warnings, [
      'unknown field "spec.containers[0].$other"',
      'unknown field "spec.$frob"',
    ]);
    assert.deepEqual(
      strategicMergePatch(current, patch, { kind: 'Pod', fieldValidation: 'Ignore' }).warnings,
      [],
    );
    const strict = refusal(() => apply(current, patch));
    assert.equal(strict.code, 422);
    assert.equal(
      strict.message,
      ' "" is invalid: patch: Invalid value: "map[spec:map[$frob:1 containers:[map[$other:true name:a]]]]": ' +
        'strict decoding error: unknown field "spec.containers[0].$other", unknown field "spec.$frob"',
    );
  });

  it('leaves its arguments unchanged', () => {
    const current = pod({ containers: [{ name: 'a', env: [{ name: 'X', value: '1' }] }] });
    const patch = {
      spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a', image: 'i' }] },
    };
    const before = [structuredClone(current), structuredClone(patch)];
    apply(current, patch);
    assert.deepEqual([current, patch], before);
  });
});
