import type { ClusterReader } from '../cluster/reader.js';
import type { Event } from '../kube/types.js';

// The kubelet records a Warning Rebooted "Node <name> has been rebooted, boot id: <id>" when it finds a new boot id
// (pkg/kubelet/nodestatus/setters.go MachineInfo, events.NodeRebooted), on the Node: the recorder files an event
// about a cluster-scoped object in namespace default (client-go tools/record makeEvent). The Warning events diagnose
// reads are the pods'; these are read apart, in that namespace only (the narrowest RBAC: list events in default),
// selected by the server on two fields the event strategy makes selectable: one small list whatever the cluster.

export const REBOOTED_FIELD_SELECTOR = 'involvedObject.kind=Node,reason=Rebooted';
/** Where the kubelet's node events are (metav1.NamespaceDefault). */
export const NODE_EVENTS_NAMESPACE = 'default';

export interface NodeReboot {
  /** When the kubelet came back (the event's last timestamp). */
  at: string;
  /** The boot id the event names: the node's current one when this is its last reboot. */
  bootId: string;
  message: string;
}

const BOOT_ID = /boot id: (\S+)/;

/** The latest Rebooted event of each node, by node name. */
export async function readNodeReboots(reader: ClusterReader): Promise<Map<string, NodeReboot>> {
  const reboots = new Map<string, NodeReboot>();
  for await (const event of reader.list<Event>('events', {
    namespace: NODE_EVENTS_NAMESPACE,
    fieldSelector: REBOOTED_FIELD_SELECTOR,
  })) {
    const node = event.involvedObject.name;
    const at = event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp;
    if (!node || !at) continue;
    const previous = reboots.get(node);
    if (previous && previous.at >= at) continue;
    const message = event.message ?? '';
    reboots.set(node, { at, bootId: BOOT_ID.exec(message)?.[1] ?? '', message });
  }
  return reboots;
}
