// control-plane: KubeVirt is mid-upgrade (KubeVirt CR target != observed version, Progressing=True). virt-controller
// already renders launchers with the new virt-launcher image while the virt-handler DaemonSet still runs the old
// version; new launchers' compute containers exit right after start (virt-launcher-monitor "failed to run
// virt-launcher" / "monitoring virt-launcher failed", kubevirt#10290, #10364), virt-handler logs bursts of
// "Synchronizing the VirtualMachineInstance failed.", virt-controller re-enqueues VMIs whose pods it cannot create.

import { podReference, secondsBefore, terminated } from '../objects.js';
import { KUBEVIRT_VERSION, PREVIOUS_KUBEVIRT_VERSION } from './cluster-builder.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

/** How long ago the upgrade started. */
const UPGRADE_STARTED_SECONDS_AGO = 58 * 60;

const HANDLER_REASONS: ReadonlyArray<readonly [string, number]> = [
  [
    'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /var/run/kubevirt/sockets/launcher-sock: connect: connection refused"',
    3,
  ],
  ['unable to create virt-launcher client connection: context deadline exceeded', 1],
];

export const controlPlaneFailures: FailureKind = {
  category: 'control-plane',
  prepare(builder) {
    builder.observedVersion = PREVIOUS_KUBEVIRT_VERSION;
    builder.targetVersion = KUBEVIRT_VERSION;
    builder.deployingSince = secondsBefore(builder.now, UPGRADE_STARTED_SECONDS_AGO);
  },
  layDown(builder, count) {
    const { random } = builder;
    for (const [index, slot] of builder.slots(count).entries()) {
      const ran = random.int(1, 4);
      const exitCode = random.weighted([
        [1, 3],
        [2, 1],
      ] as const);
      const { vm, pod } = layDownFailedVm(builder, {
        slot,
        disk: random.chance(0.5) ? 'containerDisk' : 'persistentVolumeClaim',
        livedSeconds: random.int(8, 20),
        outcome: {
          phase: 'Failed',
          containerStates: {
            compute: terminated(exitCode, 'Error', secondsBefore(slot.failedAt, ran), slot.failedAt),
          },
        },
        printableStatus: 'CrashLoopBackOff',
      });
      const host = slot.node.name;
      const reason = random.weighted(HANDLER_REASONS);
      const object = { kind: '', name: vm.name, namespace: vm.namespace, uid: vm.vmiUid };
      builder.handlerLog(host, slot.failedAt, {
        level: 'error',
        pos: 'vm.go:2238',
        msg: 'Synchronizing the VirtualMachineInstance failed.',
        ...object,
        reason,
      });
      builder.handlerLog(host, slot.failedAt, {
        level: 'info',
        pos: 'vm.go:1911',
        msg: `re-enqueuing VirtualMachineInstance ${vm.namespace}/${vm.name}`,
        ...object,
        reason,
      });
      builder.syncFailedEvent(vm, reason, slot.failedAt, host);
      builder.event({
        involved: podReference(pod, 'spec.containers{compute}'),
        reason: 'Started',
        message: 'Started container compute',
        type: 'Normal',
        count: 1,
        first: secondsBefore(slot.failedAt, ran),
        last: secondsBefore(slot.failedAt, ran),
        component: 'kubelet',
        host,
      });
      if (index % 3 === 0) {
        builder.controllerLog(slot.failedAt, {
          level: 'info',
          pos: 'vmi.go:292',
          msg: `reenqueuing VirtualMachineInstance ${vm.namespace}/${vm.name}`,
          reason:
            'failed to create virtual machine pod: Timeout: request did not complete within requested timeout - context deadline exceeded',
        });
      }
      const started = secondsBefore(slot.failedAt, ran);
      const monitorFailure = exitCode === 2;
      builder.launcherLog(pod, started, {
        level: 'info',
        pos: 'manager.go:86',
        component: 'virt-launcher',
        msg: 'Collected all requested hook sidecar sockets',
      });
      builder.launcherLog(pod, started, {
        level: 'info',
        pos: 'libvirt.go:545',
        component: 'virt-launcher',
        msg: `Connecting to libvirt daemon failed: virError(Code=38, Domain=7, Message='Failed to connect socket to '/var/run/libvirt/virtqemud-sock': No such file or directory')`,
      });
      builder.launcherLog(pod, slot.failedAt, {
        level: 'error',
        pos: monitorFailure ? 'virt-launcher-monitor.go:108' : 'virt-launcher-monitor.go:86',
        component: 'virt-launcher-monitor',
        msg: monitorFailure ? 'failed to run virt-launcher' : 'monitoring virt-launcher failed',
        reason: monitorFailure ? 'fork/exec /usr/bin/virt-launcher: errno 0' : 'exit status 1',
      });
    }
  },
};

export const controlPlaneScenario = defineScenario({
  name: 'control-plane',
  summary: `KubeVirt upgrade ${PREVIOUS_KUBEVIRT_VERSION} -> ${KUBEVIRT_VERSION} in flight: new launchers crash against old virt-handlers`,
  expectedTopCause: 'control-plane',
  causes: [{ kind: controlPlaneFailures, share: 1 }],
});
