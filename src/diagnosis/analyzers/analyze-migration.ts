import { plural } from '../../util/plural.js';
import {
  type Analyzer,
  countOf,
  eventEvidence,
  eventGroupsOf,
  evidenceRows,
  listNames,
  podEvidence,
} from './analyzer.js';
import type { MigrationFacts, PodGroup, VmiMigrations } from './facts.js';

// Migrations: a failed target pod carries kubevirt.io/migrationJobUID (migration.go). The migration controller
// keeps the last 5 finalized vmims per VMI and their pods, so a VMI that keeps failing to migrate holds Failed
// launchers until it is deleted (kubevirt PR #16342). A source pod whose guest-console-log exits 1 after a
// migration also ends Failed (kubevirt issues #10695, #13466).

/** A VMI loops when it has failed to migrate this many times (or holds this many Failed targets). */
export const LOOP_THRESHOLD = 3;
/** KubeVirt's parallelMigrationsPerCluster default (pkg/virt-config/virt-config.go). */
export const PARALLEL_MIGRATIONS_PER_CLUSTER = 5;

export function isLoopingVmi(vmi: VmiMigrations): boolean {
  return vmi.failed >= LOOP_THRESHOLD || vmi.failedTargetLaunchers >= LOOP_THRESHOLD;
}

export function loopingVmis(migrations: MigrationFacts): VmiMigrations[] {
  return migrations.vmis.filter(isLoopingVmi);
}

/**
 * A storm: VMIs loop and the cluster keeps failing migrations (at least the cluster's parallel limit of them),
 * or the in-flight migrations saturate that limit while targets keep failing.
 */
export function isMigrationStorm(migrations: MigrationFacts, failedTargetLaunchers: number): boolean {
  const looping = loopingVmis(migrations).length > 0;
  const failing = Math.max(migrations.failed, failedTargetLaunchers) >= PARALLEL_MIGRATIONS_PER_CLUSTER;
  return looping && (failing || migrations.inFlight >= PARALLEL_MIGRATIONS_PER_CLUSTER);
}

export const analyzeMigration: Analyzer = (facts) => {
  const { migrations } = facts;
  const claimed: PodGroup[] = [];
  const claims = facts.groups.flatMap((group) => {
    const confidence = group.migrationTarget
      ? 0.8
      : group.container === 'guest-console-log' && group.exitCode === 1 && migrations.total > 0
        ? 0.7
        : undefined;
    if (confidence === undefined) return [];
    claimed.push(group);
    return [{ groupId: group.id, confidence }];
  });
  const targets = countOf(claimed.filter((group) => group.migrationTarget));
  const looping = loopingVmis(migrations);
  const storm = isMigrationStorm(migrations, targets);
  const vmiNames = looping.map((vmi) => `${vmi.namespace}/${vmi.vmi}`);
  // Name the VMIs whose migration is in flight now; the looping ones may have none in flight at this moment.
  const inFlightVmis = migrations.vmis
    .filter((vmi) => vmi.inFlight > 0)
    .map((vmi) => `${vmi.namespace}/${vmi.vmi}`);
  const cancelWhat =
    inFlightVmis.length > 0
      ? `of ${listNames(inFlightVmis)} to stop the loop`
      : `to stop the loop${vmiNames.length > 0 ? ` of ${listNames(vmiNames)}` : ''}`;
  const [failedExample] = migrations.failedExamples;
  const waves = [
    migrations.evacuation > 0 ? `${migrations.evacuation} evacuation (node drain)` : '',
    migrations.workloadUpdate > 0 ? `${migrations.workloadUpdate} workload-update (KubeVirt upgrade)` : '',
  ].filter(Boolean);
  const sources = countOf(claimed.filter((group) => !group.migrationTarget));
  // Sources alone, with no failed migration: the leftovers of migrations that succeeded, not a migration failure.
  const leftoverSources = targets === 0 && sources > 0 && migrations.failed === 0 && !storm;
  const summary = [
    leftoverSources
      ? `Source launchers left Failed after their VMIs migrated (guest-console-log exited 1 on ${sources} sources)`
      : storm
        ? 'Migration storm'
        : 'Failed migrations',
    `: ${migrations.failed} failed and ${migrations.inFlight} in-flight migrations`,
    looping.length > 0 ? `, ${plural(looping.length, 'VMI')} looping (${listNames(vmiNames)})` : '',
    waves.length > 0 ? `; waves: ${waves.join(', ')}` : '',
  ].join('');
  const vmiEvidence = looping.slice(0, 3).map((vmi) => ({
    kind: 'VirtualMachineInstance',
    namespace: vmi.namespace,
    name: vmi.vmi,
    reason: 'MigrationLoop',
    message: `${plural(vmi.migrations, 'migration')} (${vmi.failed} failed), ${plural(vmi.failedLaunchers, 'Failed launcher')}`,
  }));
  return {
    category: 'migration',
    claims,
    summary,
    evidence: evidenceRows(
      migrations.failedExamples.slice(0, 3),
      vmiEvidence,
      eventEvidence(eventGroupsOf(facts, ['migration']), 2),
      podEvidence(claimed, 1),
    ),
    remediation: [
      ...(leftoverSources
        ? [
            "These launchers are the sources of migrations that succeeded: their VMIs run elsewhere, and KubeVirt keeps them until the VMI's migration history is collected (the last 5 per VMI). Nothing is failing; delete them once the bundle is written (kubevirt#10695, #15134).",
          ]
        : []),
      // Deleting an in-flight vmim cancels it; the finished ones are the record of what failed and why.
      `Cancel the in-flight migrations ${cancelWhat}: ` +
        'delete only the vmims whose phase is neither Succeeded nor Failed, one at a time (kubectl delete vmim ' +
        '--wait=false -n NAMESPACE NAME; the Next steps print them). Never kubectl delete vmim --all: it also ' +
        "erases the finished migrations' history.",
      ...(migrations.evacuation > 0
        ? [
            'Evacuation migrations come from a node drain: finish or undo the drain (kubectl uncordon) of the source node.',
          ]
        : []),
      ...(migrations.workloadUpdate > 0
        ? [
            'Workload-update migrations come from a KubeVirt upgrade: set spec.workloadUpdateStrategy.workloadUpdateMethods to [] in the KubeVirt CR until the migrations succeed.',
          ]
        : []),
      `Find why the targets fail (target node capacity, network, storage access mode RWX) in the failed vmims: ${failedExample?.namespace ? `kubectl describe vmim -n ${failedExample.namespace} ${failedExample.name}` : 'kubectl get vmim -A'}.`,
    ],
  };
};
