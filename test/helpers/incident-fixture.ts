// A realistic incident for the web page's tests: the mixed diagnosis fixture (412 Failed launchers in 5 namespaces),
// a plan that cancels 3 in-flight migrations and cleans every Failed launcher, nothing approved or run yet.
import { readFileSync } from 'node:fs';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { makePlan, type PlanTarget } from '../../src/mitigation/plan.js';
import { diagnosisSchema } from '../../src/report/schema.js';
import type { Incident } from '../../src/server/incident.js';

export function diagnosisFixture(): Diagnosis {
  return diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );
}

/** One Failed launcher target per pod of diagnosis.byNamespace, named and uid'd deterministically. */
export function launcherTargets(diagnosis: Diagnosis): PlanTarget[] {
  return diagnosis.byNamespace.flatMap(({ key, count }) =>
    Array.from({ length: count }, (_, index) => ({
      kind: 'Pod',
      namespace: key,
      name: `virt-launcher-${key}-vm-${index}-x7k2p`,
      uid: `00000000-0000-4000-8000-${key.length.toString(16).padStart(4, '0')}${index.toString(16).padStart(8, '0')}`,
    })),
  );
}

export function incidentFixture(overrides: Partial<Incident> = {}): Incident {
  const diagnosis = diagnosisFixture();
  const plan = makePlan({
    createdAt: '2026-11-23T21:47:30.000Z',
    scope: { namespaces: 'all' },
    steps: [
      {
        id: 'cancel-migrations',
        action: 'cancel-migrations',
        reason: { cause: 'migration', summary: 'stop the evacuation loop before cleaning' },
        targets: ['kubevirt-evacuation-8xk2p', 'kubevirt-evacuation-q2m9d', 'kubevirt-evacuation-7hh4c'].map(
          (name, index) => ({
            kind: 'VirtualMachineInstanceMigration',
            namespace: 'vm-prod',
            name,
            uid: `11111111-0000-4000-8000-00000000000${index}`,
          }),
        ),
        count: 3,
        caps: {},
      },
      {
        id: 'clean',
        action: 'clean',
        reason: { cause: 'migration', summary: 'delete the Failed launchers, archived first' },
        targets: launcherTargets(diagnosis),
        count: 412,
        caps: { keepPerVmi: 1, maxPods: 1000 },
      },
    ],
    untouched: [{ cause: 'image', remediation: ['Fix the image reference of the affected VMs'] }],
  });
  return {
    id: 'inc-20261123-2147-a1b2',
    status: 'open',
    alert: {
      name: 'VirtLauncherPodsStuckFailed',
      groupKey: '{}:{alertname="VirtLauncherPodsStuckFailed"}',
      labels: { alertname: 'VirtLauncherPodsStuckFailed', severity: 'critical' },
      startsAt: '2026-11-23T21:37:00.000Z',
      state: 'firing',
    },
    openedAt: '2026-11-23T21:47:05.000Z',
    notifications: [
      { receivedAt: '2026-11-23T21:47:05.000Z', status: 'firing', bodyDigest: 'sha256:aa' },
      { receivedAt: '2026-11-23T21:52:05.000Z', status: 'firing', bodyDigest: 'sha256:bb' },
    ],
    diagnosis,
    plan,
    approvals: [],
    actions: [],
    audit: [
      { time: '2026-11-23T21:47:05.000Z', what: 'opened', detail: 'firing notification from Alertmanager' },
      {
        time: '2026-11-23T21:47:30.000Z',
        what: 'diagnosed',
        detail: '412 Failed launchers, top cause migration',
      },
    ],
    ...overrides,
  };
}
