import { isConflict, isNotFound } from '../cluster/api-error.js';
import type { ClusterReader } from '../cluster/reader.js';
import type { KubeVirt, VirtualMachineInstanceMigration } from '../kube/types.js';
import { isFinalMigration, type MigrationWave, migrationWave } from '../launcher/migration-phase.js';
import { type CheckedExecutor, rulesIn, targetNamespaces, withAccess } from './access-check.js';
import { forEachTarget, type TargetResult } from './for-each-target.js';
import type { PlanStep, PlanTarget } from './plan.js';

// The runbook's Mitigation 1, first half: cancel the migrations that keep making Failed launchers. Cancelling a
// migration is deleting its vmim while it is in flight (what `virtctl migrate-cancel` does); deleting a finished
// one cancels nothing and erases the record of what failed and why, so finished vmims are never targets, and the
// executor checks the phase again right before each delete (shared/kubevirt.md §3).

export const CANCEL_MIGRATIONS_STEP = 'cancel-migrations';
const VMIM_KIND = 'VirtualMachineInstanceMigration';
const RESOURCE = 'virtualmachineinstancemigrations';

/** Which vmims to look at; the in-flight ones among them are cancelled. */
export interface CancelMigrationsScope {
  /** -n NAMESPACE; undefined is every namespace (-A). */
  namespace?: string | undefined;
  /** --vmi NAME: only the migrations of this VMI (spec.vmiName). */
  vmi?: string | undefined;
  /** -l: a label selector on the vmims. */
  labelSelector?: string | undefined;
  /** --looping: only the migrations of these VMIs (findLoopingVmis). An empty list selects nothing. */
  vmis?: ReadonlyArray<{ namespace: string; vmi: string }> | undefined;
}

export interface CancelMigrationsOptions {
  /** Why the step is there; default: the operator asked (or, with `vmis`, the migration loop). */
  reason?: PlanStep['reason'];
}

/** An in-flight vmim the plan cancels, with what the output shows about it. */
export interface PlannedCancel {
  namespace: string;
  name: string;
  vmi: string;
  /** The phase at plan time; '' when the controller has not set one yet (Pending). */
  phase: string;
  wave?: MigrationWave;
  /** The node the VMI migrates away from, when known (what an evacuation needs uncordoned). */
  sourceNode?: string;
}

/** A wave that comes back after the cancel unless its source is stopped, and how to stop it. */
export interface ReturningWave {
  wave: MigrationWave;
  /** In-flight vmims of this wave in the plan. */
  count: number;
  fix: string;
}

export interface CancelMigrationsPlan {
  step: PlanStep;
  /** One per target, in the same order. */
  cancels: PlannedCancel[];
  /** Finished vmims in scope: history, counted and never touched. */
  finished: { succeeded: number; failed: number };
  /** In-flight vmims already being deleted (an earlier run or someone else cancelled them): nothing to send. */
  alreadyCancelling: number;
  returningWaves: ReturningWave[];
}

/** Reads the vmims in scope and plans the deletion of the in-flight ones; writes nothing. */
export async function planCancelMigrations(
  reader: ClusterReader,
  scope: CancelMigrationsScope,
  options: CancelMigrationsOptions = {},
): Promise<CancelMigrationsPlan> {
  const cancels: PlannedCancel[] = [];
  const targets: PlanTarget[] = [];
  const finished = { succeeded: 0, failed: 0 };
  let alreadyCancelling = 0;
  const looping =
    scope.vmis === undefined ? undefined : new Set(scope.vmis.map((vmi) => `${vmi.namespace}/${vmi.vmi}`));
  const inScope = (vmim: VirtualMachineInstanceMigration) =>
    (scope.vmi === undefined || vmim.spec.vmiName === scope.vmi) &&
    (looping === undefined || looping.has(`${vmim.metadata.namespace ?? ''}/${vmim.spec.vmiName}`));
  const list =
    looping?.size === 0
      ? []
      : reader.list<VirtualMachineInstanceMigration>(RESOURCE, {
          ...(scope.namespace === undefined ? {} : { namespace: scope.namespace }),
          ...(scope.labelSelector ? { labelSelector: scope.labelSelector } : {}),
        });
  for await (const vmim of list) {
    if (!inScope(vmim)) continue;
    if (isFinalMigration(vmim)) {
      if (vmim.status?.phase === 'Succeeded') finished.succeeded += 1;
      else finished.failed += 1;
      continue;
    }
    if (vmim.metadata.deletionTimestamp !== undefined) {
      alreadyCancelling += 1;
      continue;
    }
    const namespace = vmim.metadata.namespace ?? '';
    targets.push({ kind: VMIM_KIND, namespace, name: vmim.metadata.name, uid: vmim.metadata.uid ?? '' });
    const wave = migrationWave(vmim);
    const sourceNode = sourceNodeOf(vmim);
    cancels.push({
      namespace,
      name: vmim.metadata.name,
      vmi: vmim.spec.vmiName,
      phase: vmim.status?.phase ?? '',
      ...(wave === undefined ? {} : { wave }),
      ...(sourceNode === undefined ? {} : { sourceNode }),
    });
  }
  const returningWaves = await wavesToStop(reader, cancels);
  const step: PlanStep = {
    id: CANCEL_MIGRATIONS_STEP,
    action: 'cancel-migrations',
    reason: options.reason ?? defaultReason(scope, targets.length),
    targets,
    count: targets.length,
    caps: { inFlightOnly: true },
  };
  return { step, cancels, finished, alreadyCancelling, returningWaves };
}

function defaultReason(scope: CancelMigrationsScope, count: number): PlanStep['reason'] {
  if (scope.vmis !== undefined) {
    return {
      cause: 'migration',
      summary: `cancel the ${count} in-flight migration(s) of ${scope.vmis.length} VMI(s) in a migration loop`,
    };
  }
  return { cause: 'operator', summary: `cancel the ${count} in-flight migration(s) asked for` };
}

function sourceNodeOf(vmim: VirtualMachineInstanceMigration): string | undefined {
  return (
    vmim.status?.migrationState?.sourceNode ??
    vmim.metadata.annotations?.['kubevirt.io/evacuationMigration'] ??
    undefined
  );
}

/**
 * The evacuation controller re-creates a cancelled migration while its node stays drained, and the workload
 * updater while the VMI runs an outdated launcher: name what stops each, with the nodes and the KubeVirt CR.
 */
async function wavesToStop(reader: ClusterReader, cancels: PlannedCancel[]): Promise<ReturningWave[]> {
  const waves: ReturningWave[] = [];
  const evacuations = cancels.filter((cancel) => cancel.wave === 'evacuation');
  if (evacuations.length > 0) {
    const nodes = [...new Set(evacuations.flatMap((cancel) => cancel.sourceNode ?? []))].sort();
    const command = nodes.length > 0 ? `kubectl uncordon ${nodes.join(' ')}` : 'kubectl uncordon NODE';
    waves.push({
      wave: 'evacuation',
      count: evacuations.length,
      fix: `evacuation migrations come back while their node is drained: finish the drain or undo it (${command})`,
    });
  }
  const updates = cancels.filter((cancel) => cancel.wave === 'workload-update');
  if (updates.length > 0) {
    const where = await kubevirtCr(reader);
    waves.push({
      wave: 'workload-update',
      count: updates.length,
      fix:
        'workload-update migrations come back until every VMI runs the new launcher: set ' +
        'spec.workloadUpdateStrategy.workloadUpdateMethods to [] in the KubeVirt CR while you fix the cause ' +
        `(kubectl patch kubevirt -n ${where.namespace} ${where.name} --type merge -p ` +
        `'{"spec":{"workloadUpdateStrategy":{"workloadUpdateMethods":[]}}}'), and put it back afterwards`,
    });
  }
  return waves;
}

/** Where the KubeVirt CR lives (kubevirt upstream, openshift-cnv on OpenShift); the upstream default if unreadable. */
async function kubevirtCr(reader: ClusterReader): Promise<{ namespace: string; name: string }> {
  try {
    for await (const cr of reader.list<KubeVirt>('kubevirts')) {
      return { namespace: cr.metadata.namespace ?? 'kubevirt', name: cr.metadata.name };
    }
  } catch {
    // Advice only: a cluster that hides the CR from us still gets the command, with the upstream names.
  }
  return { namespace: 'kubevirt', name: 'kubevirt' };
}

/** Reads and deletes again when the vmim changed between the two; more changes than this is a conflict. */
const ATTEMPTS = 3;

/**
 * Deletes each planned vmim that is still the planned object and still in flight. The delete carries the uid and
 * the resourceVersion just read as preconditions, so a vmim that finished (or was replaced) between the read and
 * the delete is answered 409 and read again, never deleted: a finished migration is never touched.
 */
export const cancelMigrations: CheckedExecutor = withAccess(
  (step, context) =>
    forEachTarget(step, context, async (target): Promise<TargetResult> => {
      const api = context.api;
      for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
        const vmim = await api.get<VirtualMachineInstanceMigration>(RESOURCE, target.name, target.namespace);
        if (vmim === undefined) return { outcome: 'gone', detail: 'already gone' };
        if (vmim.metadata.uid !== target.uid) {
          return { outcome: 'conflict', detail: 'replaced by a new vmim of the same name since the plan' };
        }
        if (isFinalMigration(vmim)) {
          return {
            outcome: 'skipped',
            detail: `finished (${vmim.status?.phase}) since the plan: kept as history`,
          };
        }
        if (vmim.metadata.deletionTimestamp !== undefined) {
          return { outcome: 'skipped', detail: 'already being cancelled' };
        }
        try {
          await api.delete(RESOURCE, target.name, target.namespace, {
            preconditions: {
              uid: target.uid,
              ...(vmim.metadata.resourceVersion === undefined
                ? {}
                : { resourceVersion: vmim.metadata.resourceVersion }),
            },
            dryRun: context.dryRun === 'server',
          });
          return { outcome: 'done', detail: `cancelled in phase ${vmim.status?.phase || 'Pending'}` };
        } catch (error) {
          if (isNotFound(error)) return { outcome: 'gone', detail: 'already gone' };
          if (!isConflict(error)) throw error;
        }
      }
      return { outcome: 'conflict', detail: `kept changing while we tried to cancel it (${ATTEMPTS} reads)` };
    }),
  (step) => rulesIn(targetNamespaces(step), 'kubevirt.io', RESOURCE, ['get', 'delete']),
);
