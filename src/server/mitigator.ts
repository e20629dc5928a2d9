// What the service asks of the cluster: diagnose, plan, apply, validate, re-check a plan, and whether the cluster
// answers at all. The service's logic is written against this interface only; createClusterMitigator is the real
// one (diagnose and ready here, plan/apply/validate/recheck from the mitigation commands, passed in).
import { ApiError } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { ClusterReader } from '../cluster/reader.js';
import { DEFAULT_THRESHOLD, type DiagnoseOptions, diagnose } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { checkPlanAccess } from '../mitigation/apply-plan.js';
import type {
  ApplyContext,
  JournalOutcome,
  JournalSink,
  Plan,
  PlanAction,
  StepExecutor,
  StepOutcome,
  StepProgress,
} from '../mitigation/plan.js';
import type { Policy } from './policy.js';

export interface MitigatorApplyOptions {
  /** The incident the run belongs to (its archive is kept apart from other incidents'). */
  incidentId: string;
  /** Where each action's outcome goes: the incident's journal (its audit trail). */
  journal: JournalSink;
  /** targetKey()s an earlier (interrupted) run settled: not written again. */
  settled: ReadonlySet<string>;
  /** Aborted when the service stops: the writes in flight finish, the rest waits for the restart. */
  signal?: AbortSignal;
  onProgress?: (progress: StepProgress) => void;
}

export interface MitigatorApplyResult {
  steps: StepOutcome[];
  /** True when the signal stopped the run before every step was done. */
  interrupted: boolean;
}

export interface ValidateResult {
  verdict: 'cleared' | 'not-cleared';
  reason: string;
}

export interface Mitigator {
  diagnose(signal?: AbortSignal): Promise<Diagnosis>;
  /** The plan for a diagnosis, within what the policy allows. */
  plan(diagnosis: Diagnosis, policy: Policy): Promise<Plan>;
  /** Runs the plan's writing steps in order (validate steps are the resolved notification's job). */
  apply(plan: Plan, options: MitigatorApplyOptions): Promise<MitigatorApplyResult>;
  /** Whether the alert's condition cleared and stays clear. */
  validate(signal?: AbortSignal): Promise<ValidateResult>;
  /** The plan re-made against the cluster as it is now (same digest when nothing changed). */
  recheck(plan: Plan, policy: Policy): Promise<Plan>;
  /** The cluster answers (readiness). */
  ready(): Promise<boolean>;
}

/** The cluster-side pieces a mitigator is built from, each given the one cluster writer and the clock. */
export interface MitigationFunctions {
  /** mitigate's planner: the plan for a diagnosis, within the policy's actions and caps. */
  plan(input: { diagnosis: Diagnosis; policy: Policy; api: KubeApi; now: () => Date }): Promise<Plan>;
  /** The executor of each writing action (clean, cancel-migrations, pause) of one incident's run, as the CLI
   * commands run them. */
  executors(input: { incidentId: string }): Partial<Record<PlanAction, StepExecutor>>;
  /** validate's check, once: cleared or not, with the reason. */
  validate(input: {
    api: KubeApi;
    reader: ClusterReader;
    /** serve --threshold: the count the alert's condition is measured against. */
    threshold: number;
    now: () => Date;
    signal?: AbortSignal;
  }): Promise<ValidateResult>;
  /** Re-plans against the cluster now; when absent, a fresh diagnosis and plan do it. */
  recheck?(input: { plan: Plan; policy: Policy; api: KubeApi; now: () => Date }): Promise<Plan>;
}

export interface ClusterMitigatorOptions {
  reader: ClusterReader;
  api: KubeApi;
  functions: MitigationFunctions;
  /** threshold, samples, scope, prometheus: as `diagnose` takes them. */
  diagnoseOptions?: Omit<DiagnoseOptions, 'now' | 'onProgress'>;
  now: () => Date;
}

export function emptyCounts(): Record<JournalOutcome, number> {
  return { done: 0, skipped: 0, gone: 0, conflict: 0, failed: 0 };
}

/**
 * Runs a plan's writing steps one after the other with their executors. A step whose action has no executor is
 * reported failed (each target), never silently passed over; validate steps are left to validate.
 */
export async function applyWithExecutors(
  plan: Plan,
  executors: Partial<Record<PlanAction, StepExecutor>>,
  context: MitigatorApplyOptions & { api: KubeApi; now: () => Date },
): Promise<MitigatorApplyResult> {
  const applyContext: ApplyContext = {
    api: context.api,
    journal: context.journal,
    settled: context.settled,
    dryRun: 'none',
    now: context.now,
    ...(context.signal === undefined ? {} : { signal: context.signal }),
    ...(context.onProgress === undefined ? {} : { onProgress: context.onProgress }),
  };
  // serve validates with its own watch (MitigationFunctions.validate), not with a validate step: only writes are asked.
  await checkPlanAccess(
    { ...plan, steps: plan.steps.filter((step) => step.action !== 'validate') },
    executors,
    applyContext,
  );
  const steps: StepOutcome[] = [];
  for (const step of plan.steps) {
    if (step.action === 'validate') continue;
    if (context.signal?.aborted) return { steps, interrupted: true };
    const executor = executors[step.action];
    if (executor === undefined) {
      const counts = emptyCounts();
      const failures = [];
      for (const target of step.targets) {
        const entry = {
          time: context.now().toISOString(),
          step: step.id,
          action: step.action,
          ...target,
          outcome: 'failed' as const,
          detail: `this build of serve has no executor for ${step.action}`,
        };
        await context.journal.append(entry);
        failures.push(entry);
        counts.failed += 1;
      }
      steps.push({ step: step.id, action: step.action, counts, failures });
      continue;
    }
    steps.push(await executor(step, applyContext));
  }
  return { steps, interrupted: context.signal?.aborted ?? false };
}

export function createClusterMitigator(options: ClusterMitigatorOptions): Mitigator {
  const { reader, api, functions, now } = options;
  const mitigator: Mitigator = {
    async diagnose(signal) {
      signal?.throwIfAborted();
      const { diagnosis } = await diagnose(reader, { ...options.diagnoseOptions, now });
      return diagnosis;
    },
    plan: (diagnosis, policy) => functions.plan({ diagnosis, policy, api, now }),
    apply: (plan, applyOptions) =>
      applyWithExecutors(plan, functions.executors({ incidentId: applyOptions.incidentId }), {
        ...applyOptions,
        api,
        now,
      }),
    validate: (signal) =>
      functions.validate({
        api,
        reader,
        threshold: options.diagnoseOptions?.threshold ?? DEFAULT_THRESHOLD,
        now,
        ...(signal === undefined ? {} : { signal }),
      }),
    async recheck(plan, policy) {
      if (functions.recheck !== undefined) return functions.recheck({ plan, policy, api, now });
      return mitigator.plan(await mitigator.diagnose(), policy);
    },
    async ready() {
      try {
        await api.get('namespaces', 'default');
        return true;
      } catch (error) {
        // 403: the API server answered, and serve does not need to read namespaces.
        return error instanceof ApiError && error.statusCode === 403;
      }
    },
  };
  return mitigator;
}
