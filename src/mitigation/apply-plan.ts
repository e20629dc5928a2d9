import { StuckfailedError } from '../errors.js';
import { checkAccess } from './access-check.js';
import type { ApplyContext, Plan, PlanAction, StepExecutor, StepOutcome } from './plan.js';

/** What applying a plan did: one outcome per step started, and whether an abort cut it short. */
export interface PlanOutcome {
  steps: StepOutcome[];
  /** The signal aborted: steps not listed, and targets not settled in the last one, are left for a re-run. */
  interrupted: boolean;
}

/**
 * Runs a plan's steps in order, each with the executor for its action. The order is the plan's (stop the source,
 * then clean, then validate), so a step starts only once the one before it has settled every target. An abort
 * lets the step in progress finish its writes in flight (the executor stops starting new ones) and starts no
 * further step. Exceptions (forbidden, unreachable) end the plan: what was done is in the journal already.
 */
export async function applyPlan(
  plan: Plan,
  executors: Partial<Record<PlanAction, StepExecutor>>,
  context: ApplyContext,
): Promise<PlanOutcome> {
  // Every executor is checked before anything is written: a plan this caller cannot finish is not started.
  for (const step of plan.steps) {
    if (executors[step.action] === undefined) {
      throw new StuckfailedError(
        'USAGE',
        `this command cannot apply "${step.action}" steps (step ${step.id}); apply the plan with stuckfailed mitigate`,
      );
    }
  }
  const steps: StepOutcome[] = [];
  for (const step of plan.steps) {
    if (context.signal?.aborted) return { steps, interrupted: true };
    const execute = executors[step.action] as StepExecutor;
    steps.push(await execute(step, context));
  }
  return { steps, interrupted: context.signal?.aborted ?? false };
}

/**
 * Asks the API server whether every request of the plan's steps is allowed (checkAccess). Run before anything is
 * written, journal included: a plan this caller is not allowed to finish is refused whole (FORBIDDEN) instead of
 * stopping half done.
 */
export async function checkPlanAccess(
  plan: Plan,
  executors: Partial<Record<PlanAction, StepExecutor>>,
  context: Pick<ApplyContext, 'api' | 'dryRun' | 'signal'> & {
    /** Told when the server could not be asked: not fatal. */
    onWarning?: (message: string) => void;
  },
): Promise<void> {
  // Stopped already: applyPlan reports the run interrupted without a request.
  if (context.signal?.aborted) return;
  const rules = plan.steps.flatMap((step) => executors[step.action]?.access?.(step, context) ?? []);
  if (rules.length === 0) return;
  // Not stopped by the signal: the few reviews finish, and the run stops before its first write.
  const check = await checkAccess(context.api, rules);
  if (!check.checked) {
    context.onWarning?.(
      `could not check the plan's access beforehand (${check.why}); a refused request will stop it where it happens`,
    );
  }
}
