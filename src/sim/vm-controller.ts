import type { Pod, VirtualMachine, VirtualMachineInstance } from '../kube/types.js';
import { decodeObject, type ObjectStore, type StoredObject } from './store.js';

// The one piece of virt-controller the simulator plays, so that `pause` ends where it ends on a real cluster
// (shared/kubevirt.md §7): a VM whose run strategy becomes Halted (or `running: false`) loses its VMI, and the
// VMI's launcher pods go with it (virt-controller deletes the finalized ones, the garbage collector the rest).

/** After a write to a VM: if it is now halted, delete its VMI and that VMI's launchers, and mark it Stopped. */
export function haltIfStopped(store: ObjectStore, stored: StoredObject): void {
  const vm = decodeObject<VirtualMachine>(stored);
  const halted = vm.spec.runStrategy === 'Halted' || vm.spec.running === false;
  const namespace = vm.metadata.namespace;
  if (!halted || namespace === undefined) return;
  const vmiStored = store.get('virtualmachineinstances', namespace, vm.metadata.name);
  if (vmiStored !== undefined) {
    for (const pod of [...store.objects('pods')]) {
      if (pod.namespace !== namespace) continue;
      const owner = decodeObject<Pod>(pod).metadata.ownerReferences?.find(
        (reference) => reference.kind === 'VirtualMachineInstance' && reference.uid === vmiStored.uid,
      );
      if (owner !== undefined) store.delete('pods', namespace, pod.name);
    }
    // The VMI's finalizers are virt-controller's own: it drops them once the launchers are gone.
    store.delete('virtualmachineinstances', namespace, vm.metadata.name);
    const vmi = decodeObject<VirtualMachineInstance>(vmiStored);
    store.update('virtualmachineinstances', {
      ...vmi,
      metadata: { ...vmi.metadata, resourceVersion: '', finalizers: [] },
    });
  }
  if (vm.status?.printableStatus !== 'Stopped') {
    const stopped: VirtualMachine = {
      ...vm,
      metadata: { ...vm.metadata, resourceVersion: '' },
      status: { ...vm.status, printableStatus: 'Stopped', ready: false },
    };
    store.update('virtualmachines', stopped);
  }
}
