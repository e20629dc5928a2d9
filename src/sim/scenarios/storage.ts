// storage: the Ceph RBD CSI driver is overloaded. Attaches time out in the external-attacher
// ("AttachVolume.Attach failed for volume ... : rpc error: code = DeadlineExceeded", attachdetach-controller),
// stage operations pile up ("an operation with the given Volume ID ... already exists", ceph-csi), the kubelet gives
// up waiting ("Unable to attach or mount volumes: unmounted volumes=[...]: timed out waiting for the condition",
// kubernetes#93563), and when the volume finally appears qemu cannot read it: the compute container exits 1 and
// the launcher ends Failed. Shapes from longhorn#10670, rancher#20485 and kubevirt#6090.

import type { VmIdentity } from '../objects.js';
import { podReference, secondsAfter, secondsBefore, terminated } from '../objects.js';
import { defineScenario } from './define-scenario.js';
import { type FailureKind, layDownFailedVm } from './failure-kind.js';

export const STORAGE_CLASS = 'ocs-storagecluster-ceph-rbd-virtualization';
export const CSI_DRIVER = 'openshift-storage.rbd.csi.ceph.com';

function qemuOpenError(): string {
  return (
    `virError(Code=1, Domain=10, Message='internal error: process exited while connecting to monitor: ` +
    `qemu-kvm: -blockdev {"driver":"host_device","filename":"/dev/rootdisk","node-name":"libvirt-1-storage"}: ` +
    `Could not open '/dev/rootdisk': Input/output error')`
  );
}

function volumeName(vm: VmIdentity): string {
  return vm.disk.kind === 'persistentVolumeClaim' ? vm.disk.volumeName : 'rootdisk';
}

export const storageFailures: FailureKind = {
  category: 'storage',
  prepare() {
    // Nothing cluster-wide: the CSI driver's pods are outside what stuckfailed reads; the events carry the cause.
  },
  layDown(builder, count) {
    const { random } = builder;
    for (const slot of builder.slots(count)) {
      const livedSeconds = random.int(300, 1500);
      const computeStarted = secondsBefore(slot.failedAt, random.int(3, 20));
      const { vm, pod } = layDownFailedVm(builder, {
        slot,
        disk: 'persistentVolumeClaim',
        storageClass: STORAGE_CLASS,
        livedSeconds,
        outcome: {
          phase: 'Failed',
          containerStates: { compute: terminated(1, 'Error', computeStarted, slot.failedAt) },
        },
        printableStatus: 'CrashLoopBackOff',
      });
      const createdAt = secondsBefore(slot.failedAt, livedSeconds);
      const pv = volumeName(vm);
      const host = slot.node.name;
      const attempts = random.int(3, 12);
      builder.event({
        involved: podReference(pod),
        reason: 'FailedAttachVolume',
        message: `AttachVolume.Attach failed for volume "${pv}" : rpc error: code = DeadlineExceeded desc = context deadline exceeded`,
        type: 'Warning',
        count: attempts,
        first: secondsAfter(createdAt, 75),
        last: secondsBefore(slot.failedAt, 90),
        component: 'attachdetach-controller',
      });
      const mountMessage = random.chance(0.5)
        ? `MountVolume.MountDevice failed for volume "${pv}" : rpc error: code = Aborted desc = an operation with the given Volume ID 0001-0011-openshift-storage-0000000000000001-${pv.slice(4)} already exists`
        : 'Unable to attach or mount volumes: unmounted volumes=[rootdisk], unattached volumes=[rootdisk private public sockets virt-bin-share-dir libvirt-runtime ephemeral-disks container-disks hotplug-disks]: timed out waiting for the condition';
      builder.event({
        involved: podReference(pod),
        reason: 'FailedMount',
        message: mountMessage,
        type: 'Warning',
        count: random.int(1, attempts),
        first: secondsAfter(createdAt, 125),
        last: secondsBefore(slot.failedAt, 30),
        component: 'kubelet',
        host,
      });
      const reason = `server error. command SyncVMI failed: "LibvirtError(Code=1, Domain=10, Message='internal error: process exited while connecting to monitor: Could not open '/dev/rootdisk': Input/output error')"`;
      builder.syncFailedEvent(vm, reason, slot.failedAt, host);
      builder.handlerLog(host, slot.failedAt, {
        level: 'error',
        pos: 'vm.go:2238',
        msg: 'Synchronizing the VirtualMachineInstance failed.',
        kind: '',
        name: vm.name,
        namespace: vm.namespace,
        uid: vm.vmiUid,
        reason,
      });
      builder.launcherLog(pod, secondsBefore(slot.failedAt, 1), {
        level: 'error',
        pos: 'server.go:202',
        component: 'virt-launcher',
        msg: 'Failed to sync vmi',
        kind: '',
        name: vm.name,
        namespace: vm.namespace,
        uid: vm.vmiUid,
        reason: qemuOpenError(),
      });
    }
  },
};

export const storageScenario = defineScenario({
  name: 'storage',
  summary: `CSI driver ${CSI_DRIVER} (storage class ${STORAGE_CLASS}) times out attaching and staging VM disks`,
  expectedTopCause: 'storage',
  causes: [{ kind: storageFailures, share: 1 }],
});
