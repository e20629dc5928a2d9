import { isApiError } from '../cluster/api-error.js';
import { StuckfailedError } from '../errors.js';
import {
  type ApplyContext,
  JOURNAL_OUTCOMES,
  type JournalEntry,
  type JournalOutcome,
  type PlanStep,
  type PlanTarget,
  type StepOutcome,
  targetKey,
} from './plan.js';

// The loop every executor shares: write each target of a step, many at once but within the API client's in-flight
// cap, skipping what an earlier run settled, journaling every outcome, stopping cleanly on abort. An executor only
// says how to write one target.

export interface TargetResult {
  outcome: JournalOutcome;
  detail?: string;
}

/**
 * Writes one target. Throwing is fine: an ApiError 404 becomes `gone`, 409 `conflict`; being forbidden, unauthorized
 * or cut off from the server ends the step (the same would happen to every other target); anything else is
 * `failed` with the error's message. Writes are not cancelled on abort: a request half sent leaves the outcome
 * unknown, so the writes in flight are let finish and only new ones are not started.
 */
export type WriteTarget = (target: PlanTarget) => Promise<TargetResult>;

export interface ForEachTargetOptions {
  /** Targets written at once (default: the API client's in-flight cap). The client's own cap still applies. */
  concurrency?: number;
}

/** Errors that would fail every remaining target alike: stop and report them once (exit 3), not N times. */
const FATAL_CODES = new Set(['FORBIDDEN', 'UNAUTHORIZED', 'UNREACHABLE', 'KUBECONFIG']);

export async function forEachTarget(
  step: PlanStep,
  context: ApplyContext,
  write: WriteTarget,
  options: ForEachTargetOptions = {},
): Promise<StepOutcome> {
  const counts = Object.fromEntries(JOURNAL_OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    JournalOutcome,
    number
  >;
  const failures: JournalEntry[] = [];
  const total = step.targets.length;
  let alreadyDone = 0;
  let settledCount = 0;
  let fatal: unknown;
  const report = () =>
    context.onProgress?.({ step: step.id, action: step.action, settled: settledCount, total });

  const record = (target: PlanTarget, result: TargetResult): Promise<void> => {
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
    return context.journal.append(entry).then(() => {
      counts[result.outcome] += 1;
      if (result.outcome === 'failed' || result.outcome === 'conflict') failures.push(entry);
      settledCount += 1;
      report();
    });
  };
  /**
   * Journal appends on their way to disk. A worker does not wait for its entry's fsync before the next target: an
   * action done and not yet journaled when the process dies is found done by the re-run (a 404, a VM already
   * paused), which every executor handles, so the wait would only slow the run. All are awaited before the step
   * ends, and a failed append stops the run.
   */
  const journaling = new Set<Promise<void>>();

  let next = 0;
  const stopped = () => fatal !== undefined || context.signal?.aborted === true;
  const worker = async (): Promise<void> => {
    while (!stopped() && next < total) {
      const target = step.targets[next] as PlanTarget;
      next += 1;
      if (context.settled.has(targetKey(step.id, target))) {
        alreadyDone += 1;
        settledCount += 1;
        report();
        continue;
      }
      let result: TargetResult;
      try {
        result = await write(target);
      } catch (error) {
        result = resultOfError(error);
        if (result.outcome === 'failed' && error instanceof StuckfailedError && FATAL_CODES.has(error.code)) {
          fatal ??= error;
        }
      }
      const appended = record(target, result).catch((error: unknown) => {
        // A journal that cannot be written makes the run unresumable: stop writing to the cluster.
        fatal ??= error;
      });
      journaling.add(appended);
      void appended.then(() => journaling.delete(appended));
    }
  };

  report();
  const workers = Math.max(1, Math.min(total, options.concurrency ?? context.api.inFlightLimit().max));
  await Promise.all(Array.from({ length: workers }, worker));
  await Promise.all(journaling);
  if (fatal !== undefined) throw fatal;
  return { step: step.id, action: step.action, counts, failures, alreadyDone };
}

function resultOfError(error: unknown): TargetResult {
  if (isApiError(error, 404)) return { outcome: 'gone', detail: 'already gone (404)' };
  if (isApiError(error, 409)) {
    return {
      outcome: 'conflict',
      detail: `changed since the plan (409): ${error.status.message ?? ''}`.trimEnd(),
    };
  }
  return { outcome: 'failed', detail: error instanceof Error ? error.message : String(error) };
}
