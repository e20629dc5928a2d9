import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanStep, planOf, pods } from '../../test/helpers/fake-mitigator.js';
import { StuckfailedError } from '../errors.js';
import type { PlanStep } from '../mitigation/plan.js';
import { actionMode, defaultPolicy, judgePlan, parsePolicy } from './policy.js';

const EXAMPLE = `# what runs on its own
causes:
  migration:
    actions:
      cancel-migrations: automatic
      clean: automatic
      pause: approval
    caps:
      podsPerRun: 500
      podsPerNamespace: 100
      vmsPaused: 5
default:
  actions:
    clean: approval
`;

function pauseStep(count: number): PlanStep {
  const targets = Array.from({ length: count }, (_, index) => ({
    kind: 'VirtualMachine',
    namespace: 'vms-a',
    name: `vm-${index}`,
    uid: `uid-${index}`,
  }));
  return {
    id: 'pause',
    action: 'pause',
    reason: { cause: 'migration', summary: 'loop' },
    targets,
    count,
    caps: {},
  };
}

function inputError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StuckfailedError);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail('expected an input error');
}

describe('policy', () => {
  it('without a file: every action on approval, nothing automatic', () => {
    const policy = defaultPolicy();
    assert.equal(actionMode(policy, 'image', 'clean'), 'approval');
    assert.equal(actionMode(policy, 'migration', 'pause'), 'approval');
    const verdict = judgePlan(policy, planOf([cleanStep(pods('vms-a', 5000))]));
    assert.deepEqual(verdict, { automatic: false, violations: [] });
  });

  it('reads per-cause modes and caps, with a default for unlisted causes', () => {
    const policy = parsePolicy(EXAMPLE, 'policy.yaml');
    assert.equal(actionMode(policy, 'migration', 'clean'), 'automatic');
    assert.equal(actionMode(policy, 'migration', 'pause'), 'approval');
    assert.equal(actionMode(policy, 'image', 'clean'), 'approval');
    assert.equal(actionMode(policy, 'image', 'pause'), 'never', 'not listed under default');
    assert.equal(actionMode(policy, 'image', 'validate'), 'automatic');
    assert.equal(judgePlan(policy, planOf([cleanStep(pods('vms-a', 100))])).automatic, true);
    assert.equal(judgePlan(policy, planOf([cleanStep(pods('vms-a', 10)), pauseStep(2)])).automatic, false);
  });

  it('names every cap a plan exceeds, and an action the policy forbids', () => {
    const policy = parsePolicy(EXAMPLE, 'policy.yaml');
    const overNamespace = judgePlan(policy, planOf([cleanStep(pods('vms-a', 101))]));
    assert.equal(overNamespace.automatic, false);
    assert.match(
      overNamespace.violations.join(),
      /101 pods to clean in vms-a, over the cap podsPerNamespace=100/,
    );
    const overRun = judgePlan(
      policy,
      planOf([cleanStep([...Array.from({ length: 6 }, (_, index) => pods(`ns-${index}`, 90)).flat()])]),
    );
    assert.match(overRun.violations.join(), /540 pods to clean, over the cap podsPerRun=500/);
    assert.match(
      judgePlan(policy, planOf([pauseStep(6)])).violations.join(),
      /6 VMs to pause, over the cap vmsPaused=5/,
    );
    const forbidden = judgePlan(
      policy,
      planOf([{ ...pauseStep(1), reason: { cause: 'image', summary: '' } }]),
    );
    assert.match(forbidden.violations.join(), /does not allow pause for cause image/);
  });

  it('names the line of a bad value, an unknown key and a YAML error', () => {
    assert.match(
      inputError(() =>
        parsePolicy('causes:\n  migration:\n    actions:\n      clean: sometimes\n', 'p.yaml'),
      ),
      /p\.yaml:4: causes\.migration\.actions\.clean: /,
    );
    assert.match(
      inputError(() => parsePolicy('causes:\n  migration:\n    caps:\n      podsPerRun: -3\n', 'p.yaml')),
      /p\.yaml:4: causes\.migration\.caps\.podsPerRun: /,
    );
    assert.match(
      inputError(() => parsePolicy('causes:\n  weather: {}\n', 'p.yaml')),
      /p\.yaml:2: causes\.weather/,
    );
    assert.match(
      inputError(() => parsePolicy('causes:\n  migration:\n    action: {}\n', 'p.yaml')),
      /p\.yaml:3: causes\.migration\.action: /,
    );
    assert.match(
      inputError(() => parsePolicy('causes: [\n', 'p.yaml')),
      /p\.yaml:\d+: not valid YAML/,
    );
  });

  it('accepts an empty file as the default', () => {
    const policy = parsePolicy('', 'empty.yaml');
    assert.equal(actionMode(policy, 'node', 'clean'), 'approval');
  });
});
