// Hand-built VMs, VMIs, their launchers and vmims for the tests of cancel-migrations and pause: small, exact, and
// shaped like the objects KubeVirt writes (owner references, the labels the tool selects by).

import { KubeApi } from '../../src/cluster/kube-api.js';
import { loadKubeConfig } from '../../src/cluster/kube-config.js';
import type {
  KubeObject,
  MigrationPhase,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from '../../src/kube/types.js';
import type { ApplyContext, JournalEntry } from '../../src/mitigation/plan.js';
import { launcherPod } from './cluster-fixtures.js';

export type RunFieldInput = { runStrategy: string } | { running: boolean } | Record<string, never>;

export interface VmInput {
  namespace: string;
  name: string;
  run?: RunFieldInput;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export function vm(input: VmInput): VirtualMachine {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      uid: `vm-uid-${input.namespace}-${input.name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      ...(input.labels === undefined ? {} : { labels: input.labels }),
      // The apiserver never stores an empty map (omitempty), so neither does a fixture.
      ...(input.annotations === undefined || Object.keys(input.annotations).length === 0
        ? {}
        : { annotations: input.annotations }),
    },
    spec: { ...(input.run ?? { runStrategy: 'Always' }), template: { spec: {} } },
    status: { printableStatus: 'CrashLoopBackOff', ready: false },
  };
}

export function vmiOf(owner: VirtualMachine): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: {
      name: owner.metadata.name,
      namespace: owner.metadata.namespace as string,
      uid: `vmi-uid-${owner.metadata.namespace}-${owner.metadata.name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      finalizers: ['kubevirt.io/virtualMachineControllerFinalize'],
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachine',
          name: owner.metadata.name,
          uid: owner.metadata.uid as string,
          controller: true,
        },
      ],
    },
    spec: {},
    status: { phase: 'Scheduling' },
  };
}

/** A launcher of `owner`'s VMI, labelled and owned as virt-controller makes them. */
export function launcherOf(
  owner: VirtualMachineInstance,
  suffix: string,
  phase: 'Failed' | 'Running' = 'Failed',
): Pod {
  const pod = launcherPod({
    namespace: owner.metadata.namespace as string,
    name: `virt-launcher-${owner.metadata.name}-${suffix}`,
    phase,
    uid: `pod-uid-${owner.metadata.namespace}-${owner.metadata.name}-${suffix}`,
    labels: { 'vm.kubevirt.io/name': owner.metadata.name },
  });
  pod.metadata.ownerReferences = [
    {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachineInstance',
      name: owner.metadata.name,
      uid: owner.metadata.uid as string,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  return pod;
}

export function vmim(
  namespace: string,
  name: string,
  vmiName: string,
  phase: MigrationPhase | undefined,
  options: { sourceNode?: string; annotations?: Record<string, string> } = {},
): VirtualMachineInstanceMigration {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstanceMigration',
    metadata: {
      name,
      namespace,
      uid: `vmim-uid-${namespace}-${name}`,
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'kubevirt.io/vmi-name': vmiName },
      ...(options.annotations === undefined ? {} : { annotations: options.annotations }),
      finalizers: ['kubevirt.io/migrationJobFinalize'],
    },
    spec: { vmiName },
    status: {
      ...(phase === undefined ? {} : { phase }),
      ...(options.sourceNode === undefined ? {} : { migrationState: { sourceNode: options.sourceNode } }),
    },
  };
}

/** A KubeApi on a simulator's kubeconfig, with retries short enough for tests under faults. */
export function testApi(kubeconfig: string): KubeApi {
  const { kubeConfig } = loadKubeConfig({ kubeconfig, env: {} });
  return new KubeApi({
    kubeConfig,
    qps: 0,
    retry: { maxRetries: 30, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 5 },
  });
}

/** An ApplyContext that keeps the journal in memory. */
export function memoryContext(
  api: KubeApi,
  overrides: Partial<ApplyContext> = {},
): ApplyContext & { entries: JournalEntry[] } {
  const entries: JournalEntry[] = [];
  return {
    api,
    journal: {
      async append(entry) {
        entries.push(entry);
      },
    },
    settled: new Set(),
    dryRun: 'none',
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...overrides,
    entries,
  };
}

export function objects(...lists: KubeObject[][]): { objects: KubeObject[]; logs: [] } {
  return { objects: lists.flat(), logs: [] };
}
