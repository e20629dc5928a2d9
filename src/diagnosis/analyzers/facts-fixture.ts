import { countOf } from './analyzer.js';
import type { DiagnosisFacts, EventGroup, MigrationFacts, PodGroup } from './facts.js';

// Plain facts for the analyzers' table tests: a healthy-looking cluster that each row changes where it matters.

let nextId = 0;

export function podGroup(overrides: Partial<PodGroup> = {}): PodGroup {
  nextId += 1;
  return {
    id: nextId,
    count: 10,
    kind: 'container-error',
    reason: 'Error',
    container: 'compute',
    exitCode: 1,
    initContainer: false,
    launcherImage: 'quay.io/kubevirt/virt-launcher:v1.6.2',
    migrationTarget: false,
    nodeReady: 'True',
    eventClasses: [],
    namespaces: [{ key: 'finance-vms', count: overrides.count ?? 10 }],
    nodes: [{ key: 'worker-1', count: overrides.count ?? 10 }],
    examples: [
      {
        namespace: 'finance-vms',
        name: `virt-launcher-vm-${nextId}-abcde`,
        node: 'worker-1',
        reason: 'Error',
      },
    ],
    ...overrides,
  };
}

export function eventGroup(
  overrides: Partial<EventGroup> & Pick<EventGroup, 'eventClass' | 'reason'>,
): EventGroup {
  return {
    involvedKind: 'Pod',
    shape: overrides.example?.message ?? '',
    objects: 1,
    occurrences: 1,
    onFailedLaunchers: 1,
    example: {
      kind: 'Pod',
      namespace: 'finance-vms',
      name: 'virt-launcher-vm-abcde',
      reason: overrides.reason,
    },
    ...overrides,
  };
}

/** Migration facts of a cluster with no migrations, with the given fields set. */
export function migrationFacts(overrides: Partial<MigrationFacts> = {}): MigrationFacts {
  return {
    total: 0,
    inFlight: 0,
    failed: 0,
    succeeded: 0,
    evacuation: 0,
    workloadUpdate: 0,
    vmis: [],
    failedExamples: [],
    ...overrides,
  };
}

export function factsWith(overrides: Partial<DiagnosisFacts> = {}): DiagnosisFacts {
  const groups = overrides.groups ?? [];
  return {
    failedLaunchers: countOf(groups),
    groups,
    events: [],
    migrations: migrationFacts(),
    nodes: [],
    controlPlane: {
      namespace: 'kubevirt',
      name: 'kubevirt',
      observedVersion: 'v1.6.2',
      targetVersion: 'v1.6.2',
      upgrading: false,
      errorBursts: [],
    },
    ...overrides,
  };
}
