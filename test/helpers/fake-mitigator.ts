import { readFileSync } from 'node:fs';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { makePlan, type Plan, type PlanStep, type PlanTarget, targetKey } from '../../src/mitigation/plan.js';
import {
  emptyCounts,
  type Mitigator,
  type MitigatorApplyOptions,
  type MitigatorApplyResult,
  type ValidateResult,
} from '../../src/server/mitigator.js';
import type { Policy } from '../../src/server/policy.js';

// A Mitigator for the service's unit tests: it records every call, answers with what the test set, and its apply
// journals each target of each writing step (done), skipping what `settled` holds, as the real executors do.

export const MIXED_DIAGNOSIS = JSON.parse(
  readFileSync(new URL('../fixtures/diagnosis-mixed.json', import.meta.url), 'utf8'),
) as Diagnosis;

export function pods(namespace: string, count: number, prefix = 'virt-launcher-vm'): PlanTarget[] {
  return Array.from({ length: count }, (_, index) => ({
    kind: 'Pod',
    namespace,
    name: `${prefix}-${index}-abcde`,
    uid: `${namespace}-${prefix}-${index}`,
  }));
}

export function cleanStep(targets: PlanTarget[], cause: PlanStep['reason']['cause'] = 'migration'): PlanStep {
  return {
    id: 'clean',
    action: 'clean',
    reason: { cause, summary: 'Failed launchers' },
    targets,
    count: targets.length,
    caps: {},
  };
}

export function planOf(steps: PlanStep[]): Plan {
  return makePlan({
    createdAt: '2026-11-29T10:00:00.000Z',
    scope: { namespaces: 'all' },
    steps,
    untouched: [],
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export class FakeMitigator implements Mitigator {
  calls: string[] = [];
  diagnosis: Diagnosis = MIXED_DIAGNOSIS;
  diagnoseError: Error | undefined;
  /** When set, diagnose waits for it: the test decides when the diagnosis ends. */
  diagnoseGate: Promise<void> | undefined;
  nextPlan: Plan = planOf([cleanStep(pods('vms-a', 3))]);
  /** What recheck returns; the plan it is given when undefined (nothing changed). */
  recheckPlan: Plan | undefined;
  verdict: ValidateResult = { verdict: 'cleared', reason: 'below the threshold' };
  isReady = true;
  /** When set, apply waits for it before each target (to interrupt a run half-way). */
  applyGate: ((index: number) => Promise<void>) | undefined;
  settledSeen: Array<ReadonlySet<string>> = [];

  async diagnose(): Promise<Diagnosis> {
    this.calls.push('diagnose');
    await this.diagnoseGate;
    if (this.diagnoseError !== undefined) throw this.diagnoseError;
    return this.diagnosis;
  }

  async plan(_diagnosis: Diagnosis, _policy: Policy): Promise<Plan> {
    this.calls.push('plan');
    return this.nextPlan;
  }

  async apply(plan: Plan, options: MitigatorApplyOptions): Promise<MitigatorApplyResult> {
    this.calls.push(`apply ${plan.digest}`);
    this.settledSeen.push(options.settled);
    const steps = [];
    let index = 0;
    for (const step of plan.steps) {
      if (step.action === 'validate') continue;
      const counts = emptyCounts();
      for (const target of step.targets) {
        await this.applyGate?.(index);
        if (options.signal?.aborted) return { steps, interrupted: true };
        index += 1;
        if (options.settled.has(targetKey(step.id, target))) continue;
        await options.journal.append({
          time: '2026-11-29T10:00:01.000Z',
          step: step.id,
          action: step.action,
          ...target,
          outcome: 'done',
        });
        counts.done += 1;
        options.onProgress?.({ step: step.id, action: step.action, settled: index, total: step.count });
      }
      steps.push({ step: step.id, action: step.action, counts, failures: [] });
    }
    return { steps, interrupted: false };
  }

  async validate(): Promise<ValidateResult> {
    this.calls.push('validate');
    return this.verdict;
  }

  async recheck(plan: Plan): Promise<Plan> {
    this.calls.push('recheck');
    return this.recheckPlan ?? plan;
  }

  async ready(): Promise<boolean> {
    return this.isReady;
  }
}
