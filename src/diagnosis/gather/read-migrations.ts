import type { ClusterReader } from '../../cluster/reader.js';
import type { VirtualMachineInstanceMigration } from '../../kube/types.js';
import { isFinalMigration, migrationWave } from '../../launcher/migration-phase.js';
import { definedProps } from '../../util/defined-props.js';
import { isLoopingVmi } from '../analyzers/analyze-migration.js';
import type { MigrationFacts, VmiMigrations } from '../analyzers/facts.js';
import type { GatherProgress } from '../gather.js';
import type { Evidence } from '../types.js';

// Runbook step 3, migration storms (`get vmim -A`): phases, evacuation and workload-update waves, churn per VMI.

const MAX_VMIM_ARTIFACT = 1000;

export interface MigrationAggregate {
  total: number;
  inFlight: number;
  failed: number;
  succeeded: number;
  evacuation: number;
  workloadUpdate: number;
  /** When the first evacuation and workload-update migrations seen were created: where their waves start. */
  evacuationSince: string | undefined;
  workloadUpdateSince: string | undefined;
  byVmi: Map<string, { migrations: number; failed: number; inFlight: number }>;
  failedExamples: Evidence[];
  /** The in-flight and failed vmims (bounded) for the bundle. */
  kept: VirtualMachineInstanceMigration[];
}

export async function readMigrations(
  reader: ClusterReader,
  namespace: string | undefined,
  progress: (progress: GatherProgress) => void,
): Promise<MigrationAggregate> {
  const aggregate: MigrationAggregate = {
    total: 0,
    inFlight: 0,
    failed: 0,
    succeeded: 0,
    evacuation: 0,
    workloadUpdate: 0,
    evacuationSince: undefined,
    workloadUpdateSince: undefined,
    byVmi: new Map(),
    failedExamples: [],
    kept: [],
  };
  const list = reader.list<VirtualMachineInstanceMigration>(
    'virtualmachineinstancemigrations',
    definedProps({ namespace }),
  );
  for await (const vmim of list) {
    aggregate.total += 1;
    const phase = vmim.status?.phase;
    const wave = migrationWave(vmim);
    if (wave === 'evacuation') {
      aggregate.evacuation += 1;
      aggregate.evacuationSince = earliest(aggregate.evacuationSince, vmim.metadata.creationTimestamp);
    }
    if (wave === 'workload-update') {
      aggregate.workloadUpdate += 1;
      aggregate.workloadUpdateSince = earliest(
        aggregate.workloadUpdateSince,
        vmim.metadata.creationTimestamp,
      );
    }
    const key = `${vmim.metadata.namespace ?? ''}/${vmim.spec.vmiName}`;
    const perVmi = aggregate.byVmi.get(key) ?? { migrations: 0, failed: 0, inFlight: 0 };
    perVmi.migrations += 1;
    if (phase === 'Succeeded') aggregate.succeeded += 1;
    if (phase === 'Failed') {
      aggregate.failed += 1;
      perVmi.failed += 1;
      if (aggregate.failedExamples.length < 5) aggregate.failedExamples.push(failedMigrationEvidence(vmim));
    }
    if (!isFinalMigration(vmim)) {
      aggregate.inFlight += 1;
      perVmi.inFlight += 1;
    }
    aggregate.byVmi.set(key, perVmi);
    if (phase !== 'Succeeded' && aggregate.kept.length < MAX_VMIM_ARTIFACT) aggregate.kept.push(vmim);
    if (aggregate.total % 500 === 0) progress({ phase: 'migrations', done: aggregate.total });
  }
  progress({ phase: 'migrations', done: aggregate.total });
  return aggregate;
}

function earliest(held: string | undefined, time: string | undefined): string | undefined {
  if (time === undefined) return held;
  return held === undefined || Date.parse(time) < Date.parse(held) ? time : held;
}

export function failedMigrationEvidence(vmim: VirtualMachineInstanceMigration): Evidence {
  const state = vmim.status?.migrationState;
  const failedCondition = vmim.status?.conditions?.find((condition) => condition.message);
  const message =
    state?.failureReason ?? failedCondition?.message ?? `migration of VMI ${vmim.spec.vmiName} failed`;
  return {
    kind: 'VirtualMachineInstanceMigration',
    name: vmim.metadata.name,
    reason: 'Failed',
    message: `vmi ${vmim.spec.vmiName}: ${message}`,
    ...definedProps({ namespace: vmim.metadata.namespace }),
  };
}

export function migrationFacts(
  vmims: MigrationAggregate | undefined,
  failedByVmi: ReadonlyMap<string, { failed: number; targets: number }>,
): MigrationFacts {
  const keys = new Set([...(vmims?.byVmi.keys() ?? []), ...failedByVmi.keys()]);
  const vmis: VmiMigrations[] = [];
  for (const key of keys) {
    const migrations = vmims?.byVmi.get(key);
    const launchers = failedByVmi.get(key);
    // A VMI with one Failed launcher and no migration is no churn: leave it out, the list stays short.
    if (!migrations && (launchers?.failed ?? 0) < 2) continue;
    const slash = key.indexOf('/');
    vmis.push({
      namespace: key.slice(0, slash),
      vmi: key.slice(slash + 1),
      migrations: migrations?.migrations ?? 0,
      failed: migrations?.failed ?? 0,
      inFlight: migrations?.inFlight ?? 0,
      failedLaunchers: launchers?.failed ?? 0,
      failedTargetLaunchers: launchers?.targets ?? 0,
    });
  }
  vmis.sort(
    (a, b) =>
      b.failed + b.failedTargetLaunchers - (a.failed + a.failedTargetLaunchers) ||
      b.migrations - a.migrations ||
      b.failedLaunchers - a.failedLaunchers ||
      `${a.namespace}/${a.vmi}`.localeCompare(`${b.namespace}/${b.vmi}`),
  );
  return {
    total: vmims?.total ?? 0,
    inFlight: vmims?.inFlight ?? 0,
    failed: vmims?.failed ?? 0,
    succeeded: vmims?.succeeded ?? 0,
    evacuation: vmims?.evacuation ?? 0,
    workloadUpdate: vmims?.workloadUpdate ?? 0,
    // The top 20 for the report, and every looping VMI besides: cancel-migrations --looping acts on all of them.
    vmis: vmis.filter((vmi, index) => index < 20 || isLoopingVmi(vmi)),
    failedExamples: vmims?.failedExamples ?? [],
  };
}
