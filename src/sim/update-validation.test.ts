import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESOURCES } from '../kube/resources.js';
import type { KubeObject, ObjectMeta } from '../kube/types.js';
import { updateValidationErrors } from './update-validation.js';

const FORBIDDEN_SPEC_CHANGE =
  'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n';

type Spec = Record<string, unknown>;

function pod(spec: Spec = {}, metadata: Partial<ObjectMeta> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'apps', uid: 'uid-1', ...metadata },
    spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }] }], ...spec },
  } as KubeObject;
}

/** The messages of the update of `before` to `next`, as the 422's causes print them. */
const podErrors = (before: KubeObject, next: KubeObject) =>
  updateValidationErrors(RESOURCES.pods, before, next).map((error) => error.message);

describe('updateValidationErrors: ValidatePodUpdate', () => {
  it('lets images, a lower or new activeDeadlineSeconds, added tolerations and labels change', () => {
    const before = pod({
      initContainers: [{ name: 'init', image: 'init:1' }],
      activeDeadlineSeconds: 60,
      tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }],
    });
    const next = pod(
      {
        containers: [{ name: 'app', image: 'app:2', env: [{ name: 'A', value: '1' }] }],
        initContainers: [{ name: 'init', image: 'init:2' }],
        activeDeadlineSeconds: 30,
        tolerations: [
          { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 50 },
          { key: 'new', operator: 'Exists' },
        ],
      },
      { labels: { tier: 'b' }, annotations: { note: 'x' } },
    );
    assert.deepEqual(podErrors(before, next), []);
    // Semantic.DeepEqual: an empty list or map is an absent one.
    assert.deepEqual(podErrors(pod(), pod({ volumes: [], nodeSelector: {} })), []);
  });

  it('refuses any other spec change with the diff of what changed', () => {
    const next = pod({
      containers: [{ name: 'app', image: 'app:2', env: [{ name: 'A', value: '10' }] }],
      restartPolicy: 'Never',
    });
    assert.deepEqual(podErrors(pod(), next), [
      `${FORBIDDEN_SPEC_CHANGE}  core.PodSpec{\n- \tcontainers[0].env[0].value: "1",\n+ \tcontainers[0].env[0].value: "10",\n+ \trestartPolicy: "Never",\n  }\n`,
    ]);
  });

  it('refuses an added or removed container before anything else', () => {
    const added = pod({
      containers: [
        { name: 'app', image: 'app:1' },
        { name: 'debug', image: 'busybox' },
      ],
      activeDeadlineSeconds: -1,
    });
    assert.deepEqual(podErrors(pod(), added), [
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
    assert.deepEqual(podErrors(pod(), pod({ initContainers: [{ name: 'init', image: 'init:1' }] })), [
      'spec.initContainers: Forbidden: pod updates may not add or remove containers',
    ]);
    assert.deepEqual(podErrors(pod(), pod({ containers: [{ name: 'app', image: ' app:2' }] })).slice(0, 1), [
      'spec.containers[0].image: Invalid value: " app:2": must not have leading or trailing whitespace',
    ]);
  });

  it('checks activeDeadlineSeconds: never raised, unset or out of range', () => {
    assert.deepEqual(podErrors(pod({ activeDeadlineSeconds: 30 }), pod({ activeDeadlineSeconds: 60 })), [
      'spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value',
    ]);
    assert.deepEqual(podErrors(pod(), pod({ activeDeadlineSeconds: -1 })), [
      'spec.activeDeadlineSeconds: Invalid value: -1: must be between 0 and 2147483647, inclusive',
    ]);
    assert.deepEqual(podErrors(pod({ activeDeadlineSeconds: 30 }), pod()), [
      'spec.activeDeadlineSeconds: Invalid value: "null": must not update from a positive integer to nil value',
    ]);
  });

  it('allows only added tolerations and removed scheduling gates', () => {
    const toleration = { key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' };
    assert.deepEqual(
      podErrors(pod({ tolerations: [toleration] }), pod({ tolerations: [{ ...toleration, value: 'w' }] })),
      ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds'],
    );
    const gated = pod({ schedulingGates: [{ name: 'a' }, { name: 'b' }] });
    assert.deepEqual(podErrors(gated, pod({ schedulingGates: [{ name: 'b' }] })), []);
    assert.deepEqual(
      podErrors(gated, pod({ schedulingGates: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] })),
      [
        "spec.schedulingGates[2].name: Forbidden: only deletion is allowed, but found new scheduling gate 'c'",
      ],
    );
  });

  it('lets a gated pod gain nodeSelector entries only, and a negative grace period become 1', () => {
    const gated = pod({ schedulingGates: [{ name: 'a' }], nodeSelector: { zone: 'a' } });
    assert.deepEqual(
      podErrors(gated, pod({ schedulingGates: [{ name: 'a' }], nodeSelector: { zone: 'a', disk: 'ssd' } })),
      [],
    );
    assert.deepEqual(
      podErrors(gated, pod({ schedulingGates: [{ name: 'a' }], nodeSelector: { zone: 'b' } })),
      [
        'spec.nodeSelector: Invalid value: map[string]string{"zone":"b"}: only additions to spec.nodeSelector are allowed (no mutations or deletions)',
      ],
    );
    // Not gated: a nodeSelector is as immutable as the rest.
    assert.equal(podErrors(pod(), pod({ nodeSelector: { zone: 'a' } })).length, 1);
    assert.deepEqual(
      podErrors(pod({ terminationGracePeriodSeconds: -1 }), pod({ terminationGracePeriodSeconds: 1 })),
      [],
    );
    assert.match(
      podErrors(pod({ terminationGracePeriodSeconds: 30 }), pod({ terminationGracePeriodSeconds: 1 }))[0] ??
        '',
      /^spec: Forbidden: pod updates may not change fields other than [^\n]*\n {2}core\.PodSpec\{\n- \tterminationGracePeriodSeconds: 30,\n\+ \tterminationGracePeriodSeconds: 1,\n {2}\}\n$/,
    );
  });

  it('refuses adding, changing or removing the mirror-pod and AppArmor annotations', () => {
    const mirror = { 'kubernetes.io/config.mirror': 'hash' };
    const apparmor = 'container.apparmor.security.beta.kubernetes.io/app';
    assert.deepEqual(
      podErrors(pod(), pod({}, { annotations: { ...mirror, [apparmor]: 'runtime/default' } })),
      [
        'metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not add mirror pod annotation',
        `metadata.annotations[${apparmor}]: Forbidden: may not add AppArmor annotations`,
      ],
    );
    assert.deepEqual(podErrors(pod({}, { annotations: mirror }), pod()), [
      'metadata.annotations[kubernetes.io/config.mirror]: Forbidden: may not remove or update mirror pod annotation',
    ]);
  });
});

describe('updateValidationErrors: ValidateObjectMetaUpdate, for every kind', () => {
  const lease = (metadata: Partial<ObjectMeta>): KubeObject => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'lock', namespace: 'apps', uid: 'uid-1', ...metadata },
  });
  const errors = (before: KubeObject, next: KubeObject) =>
    updateValidationErrors(RESOURCES.leases, before, next).map((error) => error.message);

  it('keeps the uid: an unset one is the stored one, another one is refused', () => {
    assert.deepEqual(errors(lease({}), lease({ uid: '' })), []);
    assert.deepEqual(errors(lease({}), lease({ uid: 'uid-2' })), [
      'metadata.uid: Invalid value: "uid-2": field is immutable',
    ]);
  });

  it('refuses setting a deletion timestamp or grace period, and new finalizers while deleting', () => {
    assert.deepEqual(
      errors(lease({}), lease({ deletionTimestamp: '2025-01-02T03:04:05Z', deletionGracePeriodSeconds: 30 })),
      [
        'metadata.deletionTimestamp: Invalid value: 2025-01-02 03:04:05 +0000 UTC: field is immutable',
        'metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable',
      ],
    );
    const deleting = lease({
      deletionTimestamp: '2025-01-02T03:04:05Z',
      deletionGracePeriodSeconds: 0,
      finalizers: ['a'],
    });
    // BeforeUpdate puts an unset deletion timestamp and grace period back; finalizers may be removed.
    assert.deepEqual(errors(deleting, lease({ finalizers: [] })), []);
    assert.deepEqual(errors(deleting, lease({ finalizers: ['a', 'c', 'b'] })), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b", "c"}',
    ]);
    assert.deepEqual(errors(deleting, lease({ ...deleting.metadata, deletionGracePeriodSeconds: 5 })), [
      'metadata.deletionGracePeriodSeconds: Invalid value: 5: field is immutable',
    ]);
  });

  it('leaves the spec of other kinds to their own rules', () => {
    const vm = (runStrategy: string) =>
      ({ ...lease({}), spec: { runStrategy, template: { spec: { containers: [] } } } }) as KubeObject;
    assert.deepEqual(
      updateValidationErrors(RESOURCES.virtualmachines, vm('Always'), vm('Halted')).map((e) => e.message),
      [],
    );
  });
});
