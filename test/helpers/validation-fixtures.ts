import type { Pod, PodPhase, VirtualMachineInstance } from '../../src/kube/types.js';

// Small, real-shaped launcher pods (with their VMI owner) and VMIs for the validation tests (shared/examples/ has the full objects).

export interface LauncherSpec {
  namespace?: string;
  phase?: PodPhase;
  vmi?: string;
  /** ISO time the compute container terminated (Failed pods). */
  finishedAt?: string;
  created?: string;
  /** Not a launcher: the label is left off. */
  unlabelled?: boolean;
}

export function launcher(name: string, spec: LauncherSpec = {}): Pod {
  const phase = spec.phase ?? 'Running';
  const vmi = spec.vmi ?? name.replace(/^virt-launcher-/, '').replace(/-[a-z0-9]{5}$/, '');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: spec.namespace ?? 'vms',
      creationTimestamp: spec.created ?? '2026-11-29T08:00:00Z',
      labels: spec.unlabelled
        ? {}
        : { 'kubevirt.io': 'virt-launcher', 'kubevirt.io/created-by': `uid-${vmi}` },
      ownerReferences: [
        {
          apiVersion: 'kubevirt.io/v1',
          kind: 'VirtualMachineInstance',
          name: vmi,
          uid: `uid-${vmi}`,
          controller: true,
        },
      ],
    },
    spec: { containers: [{ name: 'compute' }] },
    status: {
      phase,
      ...(phase === 'Failed'
        ? {
            containerStatuses: [
              {
                name: 'compute',
                state: {
                  terminated: {
                    exitCode: 1,
                    reason: 'Error',
                    finishedAt: spec.finishedAt ?? '2026-11-29T09:00:00Z',
                  },
                },
              },
            ],
          }
        : {}),
    },
  };
}

export function vmi(name: string, phase: string, namespace = 'vms'): VirtualMachineInstance {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace },
    spec: {},
    status: { phase },
  };
}
