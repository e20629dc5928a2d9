import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  selectableFields,
} from './selectors.js';
import type { Event, Pod } from './types.js';

const labels = { 'kubevirt.io': 'virt-launcher', app: 'web', tier: 'db', replicas: '3' };

describe('parseLabelSelector / matchesLabels', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['kubevirt.io=virt-launcher', true],
    ['kubevirt.io==virt-launcher', true],
    ['kubevirt.io=virt-controller', false],
    ['kubevirt.io!=virt-controller', true],
    // != and notin also hold when the label is absent (labels.Requirement.Matches).
    ['missing!=x', true],
    ['missing notin (a,b)', true],
    ['app in (web,api)', true],
    ['app in (api)', false],
    ['app notin (web)', false],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['missing', false],
    ['replicas>2', true],
    ['replicas<3', false],
    ['app>2', false],
    ['app=web,tier=db', true],
    ['app=web, tier=cache', false],
    ['  app = web  ', true],
    ['missing=', false],
    ['missing!=', true],
  ];
  for (const [selector, expected] of cases) {
    it(`${JSON.stringify(selector)} -> ${expected}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected);
    });
  }

  it('treats an empty value as a value', () => {
    assert.equal(matchesLabels(parseLabelSelector('a='), { a: '' }), true);
    assert.equal(matchesLabels(parseLabelSelector('a in (,x)'), { a: '' }), true);
  });

  it('matches nothing-but-exists selectors against undefined labels', () => {
    assert.equal(matchesLabels(parseLabelSelector('a!=b,!c'), undefined), true);
    assert.equal(matchesLabels(parseLabelSelector('a'), undefined), false);
  });

  const errors: Array<[string, RegExp]> = [
    ['app in web', /^unable to parse requirement: found 'web', expected: '\('$/],
    ['app in (web', /^unable to parse requirement: found '', expected: ',' or '\)'$/],
    ['=web', /^unable to parse requirement: found '=', expected: '!', identifier, or 'end of string'$/],
    ['app=web,', /^unable to parse requirement: found '', expected: '!', identifier, or 'end of string'$/],
    ['app>x', /the value must be an integer/],
    ['-app=x', /invalid label key "-app"/],
    ['Example.COM/app=x', /prefix part must be a DNS subdomain/],
    ['app=-x', /invalid label value/],
    [`app=${'a'.repeat(64)}`, /invalid label value/],
    ['app web', /found 'web', expected/],
    ['!app=x', /found '=', expected: ',' or 'end of string'/],
  ];
  for (const [selector, message] of errors) {
    it(`rejects ${JSON.stringify(selector)}`, () => {
      assert.throws(
        () => parseLabelSelector(selector),
        (error: unknown) => {
          assert.ok(error instanceof SelectorError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it('accepts prefixed keys', () => {
    const selector = parseLabelSelector('kubevirt.io/created-by in (a1b2), vm.kubevirt.io/name');
    assert.deepEqual(selector, [
      { key: 'kubevirt.io/created-by', operator: 'in', values: ['a1b2'] },
      { key: 'vm.kubevirt.io/name', operator: 'exists', values: [] },
    ]);
  });

  // Property: a selector rendered from a random structure parses back and matches exactly as a reference
  // evaluation of that structure does, for random label maps.
  const keyArb = fc.constantFrom('a', 'b', 'kubevirt.io', 'example.com/x');
  const valueArb = fc.constantFrom('', 'v', 'w', '1', '12', 'x.y-z');
  const requirementArb = fc.oneof(
    fc.record({ kind: fc.constantFrom('=', '==', '!='), key: keyArb, value: valueArb }),
    fc.record({
      kind: fc.constantFrom('in', 'notin'),
      key: keyArb,
      values: fc.array(valueArb, { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ kind: fc.constantFrom('exists', '!'), key: keyArb }),
    fc.record({ kind: fc.constantFrom('>', '<'), key: keyArb, bound: fc.integer({ min: -5, max: 20 }) }),
  );
  type Requirement = {
    kind: string;
    key: string;
    value?: string;
    values?: string[];
    bound?: number;
  };
  const render = (requirement: Requirement): string => {
    switch (requirement.kind) {
      case 'in':
      case 'notin':
        return `${requirement.key} ${requirement.kind} (${(requirement.values ?? []).join(',')})`;
      case 'exists':
        return requirement.key;
      case '!':
        return `!${requirement.key}`;
      case '>':
      case '<':
        return `${requirement.key}${requirement.kind}${requirement.bound}`;
      default:
        return `${requirement.key}${requirement.kind}${requirement.value}`;
    }
  };
  const reference = (requirement: Requirement, map: Record<string, string>): boolean => {
    const value = map[requirement.key];
    switch (requirement.kind) {
      case '=':
      case '==':
        return value === requirement.value;
      case '!=':
        return value !== requirement.value;
      case 'in':
        return value !== undefined && (requirement.values ?? []).includes(value);
      case 'notin':
        return value === undefined || !(requirement.values ?? []).includes(value);
      case 'exists':
        return value !== undefined;
      case '!':
        return value === undefined;
      default: {
        if (value === undefined || !/^-?\d+$/.test(value)) return false;
        return requirement.kind === '>'
          ? Number(value) > (requirement.bound ?? 0)
          : Number(value) < (requirement.bound ?? 0);
      }
    }
  };
  it('agrees with a reference evaluation (property)', () => {
    fc.assert(
      fc.property(
        fc.array(requirementArb, { maxLength: 4 }),
        fc.dictionary(keyArb, valueArb),
        (requirements, map) => {
          const selector = parseLabelSelector(requirements.map(render).join(','));
          const expected = requirements.every((requirement) => reference(requirement, map));
          assert.equal(matchesLabels(selector, map), expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

const pod: Pod = {
  metadata: { name: 'virt-launcher-a-1', namespace: 'vms' },
  spec: { nodeName: 'node-1', containers: [], restartPolicy: 'Never', serviceAccountName: 'default' },
  status: { phase: 'Failed', podIPs: [{ ip: '10.0.0.7' }], podIP: '10.0.0.7' },
};

describe('parseFieldSelector / matchesFields', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['status.phase=Failed', true],
    ['status.phase==Failed', true],
    ['status.phase!=Failed', false],
    ['status.phase=Failed,spec.nodeName=node-1', true],
    ['status.phase=Failed,spec.nodeName=node-2', false],
    ['metadata.name=virt-launcher-a-1,metadata.namespace=vms', true],
    ['spec.hostNetwork=false', true],
    ['status.podIP=10.0.0.7', true],
    ['status.nominatedNodeName=', true],
    ['spec.schedulerName=', true],
  ];
  for (const [selector, expected] of cases) {
    it(`pods ${JSON.stringify(selector)} -> ${expected}`, () => {
      assert.equal(matchesFields('pods', parseFieldSelector('pods', selector), pod), expected);
    });
  }

  it('selects unscheduled pods with spec.nodeName=', () => {
    const unscheduled: Pod = { ...pod, spec: { containers: [] } };
    assert.equal(matchesFields('pods', parseFieldSelector('pods', 'spec.nodeName='), unscheduled), true);
    assert.equal(matchesFields('pods', parseFieldSelector('pods', 'spec.nodeName='), pod), false);
  });

  it('rejects fields a resource does not support, with the apiserver message', () => {
    assert.throws(() => parseFieldSelector('pods', 'status.hostIP=10.0.0.1'), {
      name: 'SelectorError',
      message: 'field label not supported: status.hostIP',
    });
    assert.throws(() => parseFieldSelector('virtualmachineinstancemigrations', 'spec.vmiName=x'), {
      message: 'field label not supported: spec.vmiName',
    });
    assert.throws(() => parseFieldSelector('pods', 'status.phase'), /can't understand 'status.phase'/);
  });

  it('accepts only metadata fields on custom resources', () => {
    const migration = { metadata: { name: 'm', namespace: 'vms' } };
    const selector = parseFieldSelector(
      'virtualmachineinstancemigrations',
      'metadata.name=m,metadata.namespace=vms',
    );
    assert.equal(matchesFields('virtualmachineinstancemigrations', selector, migration), true);
  });

  it('unescapes \\, \\= and \\\\ in values', () => {
    const event: Event = {
      metadata: { name: 'e', namespace: 'vms' },
      involvedObject: { name: 'a,b=c\\d' },
    };
    const selector = parseFieldSelector('events', 'involvedObject.name=a\\,b\\=c\\\\d');
    assert.deepEqual(selector, [{ field: 'involvedObject.name', operator: '=', value: 'a,b=c\\d' }]);
    assert.equal(matchesFields('events', selector, event), true);
  });

  it("falls back to reportingController for an event's source", () => {
    const event: Event = {
      metadata: { name: 'e', namespace: 'vms' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'vms', uid: 'u1' },
      reportingComponent: 'virt-handler',
    };
    assert.equal(selectableFields('events', event).source, 'virt-handler');
    const selector = parseFieldSelector(
      'events',
      'involvedObject.name=p,involvedObject.namespace=vms,involvedObject.uid=u1,source=virt-handler',
    );
    assert.equal(matchesFields('events', selector, event), true);
  });

  it('supports the legacy name field on namespaces', () => {
    const namespace = { metadata: { name: 'vms' }, status: { phase: 'Active' } };
    assert.equal(
      matchesFields(
        'namespaces',
        parseFieldSelector('namespaces', 'name=vms,status.phase=Active'),
        namespace,
      ),
      true,
    );
    assert.throws(
      () => parseFieldSelector('namespaces', 'metadata.namespace=x'),
      /field label not supported/,
    );
  });
});
