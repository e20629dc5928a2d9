import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanStep, planOf, pods } from '../../test/helpers/fake-mitigator.js';
import type { PlanStep } from '../mitigation/plan.js';
import { judgePlan, parsePolicy } from './policy.js';
import { withinPolicy } from './serve-mitigation.js';

const cancelStep: PlanStep = {
  id: 'cancel-migrations',
  action: 'cancel-migrations',
  reason: { cause: 'migration', summary: 'stop the loop' },
  targets: [{ kind: 'VirtualMachineInstanceMigration', namespace: 'vms-a', name: 'm-1', uid: 'u-1' }],
  count: 1,
  caps: {},
};
const validateStep: PlanStep = {
  id: 'validate',
  action: 'validate',
  reason: { cause: 'migration', summary: 'the alert clears' },
  targets: [],
  count: 0,
  caps: { threshold: 200 },
};

describe('withinPolicy', () => {
  it('leaves a plan the policy allows as it is (same digest)', () => {
    const plan = planOf([cancelStep, cleanStep([...pods('vms-a', 3), ...pods('vms-b', 2)]), validateStep]);
    const policy = parsePolicy(
      'default: {actions: {cancel-migrations: approval, clean: approval}}',
      'p.yaml',
    );
    assert.equal(withinPolicy(plan, policy).digest, plan.digest);
  });

  it('cuts clean to the caps per namespace then per run, keeps plan order, and says what is left', () => {
    const plan = planOf([cancelStep, cleanStep([...pods('vms-a', 5), ...pods('vms-b', 5)]), validateStep]);
    const policy = parsePolicy(
      'causes:\n  migration:\n    actions: {cancel-migrations: approval, clean: automatic}\n    caps: {podsPerNamespace: 3, podsPerRun: 4}\n',
      'p.yaml',
    );
    const cut = withinPolicy(plan, policy);
    const clean = cut.steps.find((step) => step.action === 'clean');
    assert.deepEqual(
      clean?.targets.map((target) => `${target.namespace}/${target.name}`),
      [...pods('vms-a', 3), ...pods('vms-b', 1)].map((target) => `${target.namespace}/${target.name}`),
    );
    assert.equal(clean?.count, 4);
    assert.deepEqual({ ...clean?.caps }, { podsPerNamespace: 3, podsPerRun: 4 });
    assert.notEqual(cut.digest, plan.digest);
    assert.match(
      cut.untouched.at(-1)?.remediation[0] ?? '',
      /6 more target\(s\) of step clean .*podsPerRun=4/,
    );
    assert.deepEqual(judgePlan(policy, cut).violations, []);
    assert.deepEqual(judgePlan(policy, plan).violations.length > 0, true);
  });

  it('drops a step whose action the policy never allows for its cause, and says so', () => {
    const plan = planOf([cancelStep, cleanStep(pods('vms-a', 2)), validateStep]);
    const policy = parsePolicy('causes:\n  migration:\n    actions: {clean: approval}\n', 'p.yaml');
    const cut = withinPolicy(plan, policy);
    assert.deepEqual(
      cut.steps.map((step) => step.action),
      ['clean', 'validate'],
    );
    assert.match(
      cut.untouched[0]?.remediation[0] ?? '',
      /the policy \(p\.yaml\) does not allow cancel-migrations for cause migration; 1 target/,
    );
    assert.deepEqual(judgePlan(policy, cut).violations, []);
  });
});
