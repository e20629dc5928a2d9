import type { ClusterReader } from '../cluster/reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { findLoopingVmis } from '../diagnosis/find-looping-vmis.js';
import type { Cause, CauseCategory, Diagnosis } from '../diagnosis/types.js';
import { formatDuration } from '../duration.js';
import type { Pod } from '../kube/types.js';
import { FAILED_LAUNCHER_FIELD_SELECTOR, FAILED_LAUNCHER_LABEL_SELECTOR } from '../launcher/launcher-pod.js';
import {
  DEFAULT_WINDOW_MS,
  type ValidationProgress,
  type ValidationVerdict,
  validateClearing,
} from '../validation/validate-clearing.js';
import { type CheckedExecutor, rulesIn, withAccess } from './access-check.js';
import { cancelMigrations, planCancelMigrations } from './cancel-migrations.js';
import { createCleanExecutor, planCleanStep } from './clean.js';
import { archiveLaunchersTo, makePauseExecutor, planPause } from './pause.js';
import {
  type JournalEntry,
  makePlan,
  type Plan,
  type PlanAction,
  type PlanScope,
  type PlanStep,
  type StepExecutor,
  type UntouchedCause,
} from './plan.js';

// `mitigate` (and `serve` after an approval): the runbook's Mitigation section as one ordered plan. Stop the source
// first (cancel the in-flight migrations of the VMIs in a migration loop; halt the VMs that keep failing, when
// asked), then clean the Failed launchers, then validate that the alert clears. Each step names the cause it
// answers; a cause no command can fix (an image tag, a CNI outage) gets its remediation and no action.

export const VALIDATE_STEP = 'validate';

export interface MitigationPlanOptions {
  /** Reads what the steps act on (the live API through LiveClusterReader, or a snapshot in tests). */
  reader: ClusterReader;
  /** The diagnosis of the same scope, just made: decides which steps there are and why. */
  diagnosis: Diagnosis;
  /** One namespace or all; `selector` narrows the launchers cleaned and validated (not the VMs or vmims). */
  scope: PlanScope;
  /** Halt the VMs with at least this many Failed launchers; undefined: no pause step. */
  pauseMinFailed?: number | undefined;
  /** clean keeps the newest K Failed launchers of each VMI (default 0). */
  keepPerVmi?: number | undefined;
  /** clean only the launchers that ended at least this long ago, in milliseconds. */
  olderThanMs?: number | undefined;
  /** validate: how long the count must stay below the threshold (default 10m, the alert's `for`). */
  windowMs?: number | undefined;
  /** validate gives up after this long (default three windows). */
  timeoutMs?: number | undefined;
  /** The alert threshold (default: the diagnosis's). */
  threshold?: number | undefined;
  now: Date;
}

export interface MitigationPlan {
  plan: Plan;
  /** For a person reading the plan: what was found, left, kept, and why a step is absent. */
  notes: string[];
}

/** Causes a command answers: a migration loop is stopped by cancelling its in-flight migrations. */
const ACTIONABLE: ReadonlySet<CauseCategory> = new Set(['migration']);

export async function buildMitigationPlan(options: MitigationPlanOptions): Promise<MitigationPlan> {
  const { reader, diagnosis, scope } = options;
  const namespace = scopeNamespace(scope);
  const notes: string[] = [];
  const steps: PlanStep[] = [];
  const top = diagnosis.causes[0];
  const migration = diagnosis.causes.find((cause) => cause.category === 'migration');
  let migrationAnswered = false;

  // 1. Stop the source: the loops first, since every failed attempt leaves another Failed launcher.
  if (migration !== undefined || diagnosis.migrations.storm) {
    const looping = await findLoopingVmis(reader, namespace === undefined ? {} : { namespace });
    const vmis = looping.map((vmi) => ({ namespace: vmi.namespace, vmi: vmi.vmi }));
    const cancel = await planCancelMigrations(
      reader,
      { namespace, vmis },
      {
        reason: {
          cause: 'migration',
          summary: `stop the loop: cancel the in-flight migrations of ${looping.length} VMI(s) in a migration loop (${
            migration?.summary ?? 'migration storm'
          })`,
        },
      },
    );
    if (cancel.step.count > 0) {
      steps.push(cancel.step);
      migrationAnswered = true;
      for (const wave of cancel.returningWaves) notes.push(`note: ${wave.count} ${wave.fix}`);
    } else {
      notes.push(
        looping.length === 0
          ? 'no cancel-migrations step: no VMI is in a migration loop in scope'
          : `no cancel-migrations step: none of the ${looping.length} looping VMI(s) has a migration in flight now`,
      );
    }
    const left = cancel.finished.succeeded + cancel.finished.failed;
    if (left > 0) notes.push(`kept ${left} finished migration(s) of those VMIs: they are history`);
  }
  if (options.pauseMinFailed !== undefined) {
    const pause = await planPause(
      reader,
      { namespace, minFailed: options.pauseMinFailed },
      {
        reason: {
          cause: top?.category ?? 'unknown',
          summary: `halt the VMs with at least ${options.pauseMinFailed} Failed launchers: each restart leaves another one while ${
            top === undefined ? 'the cause lasts' : `the ${top.category} cause lasts (${top.summary})`
          }`,
        },
      },
    );
    if (pause.step.count > 0) steps.push(pause.step);
    else notes.push(`no pause step: no running VM in scope has ${options.pauseMinFailed} Failed launchers`);
    if (pause.alreadyPaused > 0) notes.push(`${pause.alreadyPaused} VM(s) already paused by stuckfailed`);
  }

  // 2. Clean: what the alert counts. It answers every cause's leftovers, not any cause itself.
  const clean = await planCleanStep(
    reader.list<Pod>('pods', {
      ...(namespace === undefined ? {} : { namespace }),
      labelSelector: [FAILED_LAUNCHER_LABEL_SELECTOR, scope.selector].filter(Boolean).join(','),
      fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
    }),
    {
      keepPerVmi: options.keepPerVmi ?? 0,
      olderThanSeconds: options.olderThanMs === undefined ? undefined : options.olderThanMs / 1000,
      now: options.now,
    },
  );
  if (clean.step.count > 0) {
    steps.push({
      ...clean.step,
      reason: { cause: top?.category ?? 'unknown', summary: cleanSummary(diagnosis, clean.step.count) },
    });
  } else {
    notes.push('no clean step: no Failed virt-launcher pod to delete in scope');
  }
  if (clean.kept > 0) {
    notes.push(
      `kept ${clean.kept} Failed launcher(s) as evidence: the newest ${options.keepPerVmi} of each of ${clean.keptVmis} VMI(s)`,
    );
  }
  if (clean.tooRecent > 0) notes.push(`kept ${clean.tooRecent} that ended less than --older-than ago`);

  // 3. Validate: the alert must clear and stay clear; new launchers must come up.
  const threshold = options.threshold ?? diagnosis.threshold;
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const timeoutMs = options.timeoutMs ?? 3 * windowMs;
  steps.push({
    id: VALIDATE_STEP,
    action: 'validate',
    reason: {
      cause: top?.category ?? 'unknown',
      summary: `the alert clears: fewer than ${threshold} Failed launchers for ${formatDuration(windowMs)}, new launchers Running (runbook, Mitigation 4)`,
    },
    targets: [],
    count: 0,
    caps: {
      threshold,
      windowMs,
      timeoutMs,
      ...(namespace === undefined ? {} : { namespace }),
      ...(scope.selector ? { selector: scope.selector } : {}),
    },
  });

  const untouched: UntouchedCause[] = diagnosis.causes
    .filter((cause) => !(ACTIONABLE.has(cause.category) && migrationAnswered))
    .map((cause) => ({ cause: cause.category, remediation: [...cause.remediation] }));
  return {
    plan: makePlan({ createdAt: options.now.toISOString(), scope, steps, untouched }),
    notes,
  };
}

function scopeNamespace(scope: PlanScope): string | undefined {
  if (scope.namespaces === 'all') return undefined;
  if (scope.namespaces.length !== 1) {
    throw new Error(`a mitigation plan covers one namespace or all of them, not ${scope.namespaces.length}`);
  }
  return scope.namespaces[0];
}

function cleanSummary(diagnosis: Diagnosis, count: number): string {
  const causes = diagnosis.causes.map((cause: Cause) => `${cause.category} ${cause.pods}`).join(', ');
  return (
    `delete the ${count} Failed virt-launcher pods the alert counts${causes ? ` (left by: ${causes})` : ''}; ` +
    'nothing else removes them before the pod garbage collector starts at 12,500 (runbook, Mitigation 2)'
  );
}

export interface MitigationExecutorOptions {
  /** clean and pause archive each pod and its events here first; undefined: no archive. */
  archiveDir?: string | undefined;
  /** The validate step's verdict, as soon as it is known (to print it, or to store it with an incident). */
  onVerdict?: (verdict: ValidationVerdict) => void;
  onValidationProgress?: (status: ValidationProgress) => void;
  onWarning?: (message: string) => void;
}

/** One executor per action of a mitigation plan, for applyPlan. */
export function mitigationExecutors(
  options: MitigationExecutorOptions = {},
): Record<PlanAction, CheckedExecutor> {
  const { archiveDir } = options;
  return {
    'cancel-migrations': cancelMigrations,
    pause: makePauseExecutor({
      archive: archiveDir === undefined ? undefined : archiveLaunchersTo(archiveDir),
    }),
    clean: createCleanExecutor({ archiveDir }),
    validate: createValidateExecutor(options),
  };
}

/**
 * Waits for the alert to clear (validateClearing, over the executor's API) with the step's caps; the verdict is
 * one journal entry: done when cleared, failed with the reason when not. After an abort nothing is recorded, so a
 * re-run validates again; a server dry run changed nothing, so there is nothing to validate.
 */
export function createValidateExecutor(options: MitigationExecutorOptions = {}): CheckedExecutor {
  const run: StepExecutor = async (step, context) => {
    const counts = { done: 0, skipped: 0, gone: 0, conflict: 0, failed: 0 };
    const name = 'VirtLauncherPodsStuckFailed';
    const namespace = typeof step.caps.namespace === 'string' ? step.caps.namespace : undefined;
    const entry = (outcome: JournalEntry['outcome'], detail: string): JournalEntry => ({
      time: context.now().toISOString(),
      step: step.id,
      action: step.action,
      kind: 'Alert',
      namespace: namespace ?? '',
      name,
      uid: '',
      outcome,
      detail,
    });
    if (context.dryRun === 'server') {
      counts.skipped = 1;
      return { step: step.id, action: step.action, counts, failures: [] };
    }
    const verdict = await validateClearing({
      api: context.api,
      namespace,
      labelSelector: typeof step.caps.selector === 'string' ? step.caps.selector : undefined,
      threshold: numberCap(step.caps.threshold, DEFAULT_THRESHOLD),
      windowMs: numberCap(step.caps.windowMs, DEFAULT_WINDOW_MS),
      timeoutMs: numberCap(step.caps.timeoutMs, 3 * numberCap(step.caps.windowMs, DEFAULT_WINDOW_MS)),
      signal: context.signal,
      ...(options.onValidationProgress === undefined ? {} : { onProgress: options.onValidationProgress }),
      ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    });
    options.onVerdict?.(verdict);
    if (verdict.outcome === 'aborted') return { step: step.id, action: step.action, counts, failures: [] };
    const recorded = entry(verdict.cleared ? 'done' : 'failed', verdict.reason);
    await context.journal.append(recorded);
    if (verdict.cleared) {
      counts.done = 1;
      return { step: step.id, action: step.action, counts, failures: [] };
    }
    counts.failed = 1;
    return { step: step.id, action: step.action, counts, failures: [recorded] };
  };
  // It watches the launchers and their VMIs, in the step's namespace or in all of them; a server dry run skips it.
  return withAccess(run, (step, context) => {
    if (context.dryRun === 'server') return [];
    const namespaces = [typeof step.caps.namespace === 'string' ? step.caps.namespace : undefined];
    return [
      ...rulesIn(namespaces, '', 'pods', ['list', 'watch']),
      ...rulesIn(namespaces, 'kubevirt.io', 'virtualmachineinstances', ['list', 'watch']),
    ];
  });
}

function numberCap(value: number | string | boolean | undefined, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}
