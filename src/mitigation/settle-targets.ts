import { isApiError } from '../cluster/api-error.js';
import type {
  ApplyContext,
  JournalEntry,
  JournalOutcome,
  PlanStep,
  PlanTarget,
  StepOutcome,
} from './plan.js';
import { JOURNAL_OUTCOMES, targetKey } from './plan.js';

// How an executor walks its targets: a few at a time (the KubeApi under it caps QPS and requests in flight),
// skipping what an earlier run settled, journaling each outcome as it happens, stopping on abort after the
// writes in flight.

/** What settling one target came to. */
export interface TargetResult {
  outcome: JournalOutcome;
  detail?: string;
}

/** Settles one target; not given the abort signal, since an abort lets the target in hand finish its writes. */
export type SettleTarget = (target: PlanTarget) => Promise<TargetResult>;

const DEFAULT_CONCURRENCY = 8;

/**
 * Settles every target of a step with `settle`. An API error on one object (a 5xx past the retries, a 422) is
 * that target's `failed` outcome; no credentials, no permission or no server at all stops the step (after the
 * targets in flight) and is thrown, since every other target would fail the same way.
 */
export async function settleTargets(
  step: PlanStep,
  context: ApplyContext,
  settle: SettleTarget,
  concurrency = DEFAULT_CONCURRENCY,
): Promise<StepOutcome> {
  const counts = Object.fromEntries(JOURNAL_OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    JournalOutcome,
    number
  >;
  const failures: JournalEntry[] = [];
  let settled = 0;
  let next = 0;
  let fatal: unknown;
  const report = () =>
    context.onProgress?.({ step: step.id, action: step.action, settled, total: step.targets.length });

  const worker = async () => {
    while (next < step.targets.length && fatal === undefined && !context.signal?.aborted) {
      const target = step.targets[next] as PlanTarget;
      next += 1;
      if (context.settled.has(targetKey(step.id, target))) {
        counts.skipped += 1;
        settled += 1;
        report();
        continue;
      }
      let result: TargetResult;
      try {
        result = await settle(target);
      } catch (error) {
        if (!isApiError(error) || error.statusCode === 401 || error.statusCode === 403) {
          fatal ??= error;
          return;
        }
        result = { outcome: 'failed', detail: error.message };
      }
      const entry: JournalEntry = {
        time: context.now().toISOString(),
        step: step.id,
        action: step.action,
        kind: target.kind,
        namespace: target.namespace,
        name: target.name,
        uid: target.uid,
        outcome: result.outcome,
        ...(result.detail === undefined ? {} : { detail: result.detail }),
      };
      await context.journal.append(entry);
      counts[result.outcome] += 1;
      if (result.outcome === 'conflict' || result.outcome === 'failed') failures.push(entry);
      settled += 1;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, step.targets.length)) }, worker));
  if (fatal !== undefined) throw fatal;
  return { step: step.id, action: step.action, counts, failures };
}
