import type { ClusterReader } from '../../cluster/reader.js';
import type { Node } from '../../kube/types.js';
import { definedProps } from '../../util/defined-props.js';
import type { NodeFacts } from '../analyzers/facts.js';
import type { GatherProgress } from '../gather.js';

// Runbook step 5, infrastructure: each node's readiness, pressure and taints, joined to the launchers by name.

export interface NodeEntry {
  index: number;
  facts: Omit<NodeFacts, 'failedLaunchers'>;
  /** When the Ready condition last changed, for the timeline's marks. */
  readySince?: string;
}

export async function readNodes(
  reader: ClusterReader,
  progress: (progress: GatherProgress) => void,
): Promise<Map<string, NodeEntry>> {
  const nodes = new Map<string, NodeEntry>();
  for await (const node of reader.list<Node>('nodes')) {
    const conditions = node.status?.conditions ?? [];
    const ready = conditionOf(conditions, 'Ready');
    const status = ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
    nodes.set(node.metadata.name, {
      index: nodes.size + 1,
      facts: {
        name: node.metadata.name,
        ready: status,
        unschedulable: node.spec?.unschedulable ?? false,
        pressure: conditions
          .filter((condition) => condition.type.endsWith('Pressure') && condition.status === 'True')
          .map((condition) => condition.type),
        taints: (node.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`),
        ...definedProps({
          readyReason: ready?.reason,
          readyMessage: ready?.message,
          bootId: typeof node.status?.nodeInfo?.bootID === 'string' ? node.status.nodeInfo.bootID : undefined,
        }),
      },
      ...definedProps({ readySince: ready?.lastTransitionTime }),
    });
    if (nodes.size % 500 === 0) progress({ phase: 'nodes', done: nodes.size });
  }
  progress({ phase: 'nodes', done: nodes.size });
  return nodes;
}
export function conditionOf<T extends { type: string }>(
  conditions: T[] | undefined,
  type: string,
): T | undefined {
  return conditions?.find((condition) => condition.type === type);
}
