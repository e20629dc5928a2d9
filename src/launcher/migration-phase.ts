import type { VirtualMachineInstanceMigration } from '../kube/types.js';

// What a vmim's phase and name say about it (shared/kubevirt.md §3): read by diagnose to count the storm and by
// cancel-migrations to choose what it may delete.

/** Succeeded and Failed are final (IsFinal in kubevirt types.go); every other phase, unset included, is in flight. */
export function isFinalMigration(vmim: VirtualMachineInstanceMigration): boolean {
  const phase = vmim.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The controller-made waves that come back after a cancel unless their source is stopped. */
export type MigrationWave = 'evacuation' | 'workload-update';

/**
 * The wave a vmim belongs to, from the GenerateName of the evacuation and workload-updater controllers or their
 * annotations; undefined for a vmim made by a person or by `virtctl migrate`.
 */
export function migrationWave(vmim: VirtualMachineInstanceMigration): MigrationWave | undefined {
  const name = vmim.metadata.name;
  const annotations = vmim.metadata.annotations ?? {};
  if (name.startsWith('kubevirt-evacuation-') || 'kubevirt.io/evacuationMigration' in annotations) {
    return 'evacuation';
  }
  if (name.startsWith('kubevirt-workload-update-') || 'kubevirt.io/workloadUpdateMigration' in annotations) {
    return 'workload-update';
  }
  return undefined;
}
