import type { KubeVirt } from '../../kube/types.js';
import { plural } from '../../util/plural.js';
import { listNames } from '../analyzers/analyzer.js';
import type { TimelineMark } from '../types.js';
import type { MigrationAggregate } from './read-migrations.js';
import type { NodeEntry } from './read-nodes.js';
import { conditionOf } from './read-nodes.js';

// The moments that may explain a timeline of failures, from what gather already read: a KubeVirt upgrade starting,
// nodes turning NotReady, evacuation and workload-update migration waves starting.

/** Nodes whose Ready condition changed within this window of each other share one mark. */
const NODE_MARK_WINDOW_MS = 60_000;
const MAX_NODE_MARKS = 10;

export function timelineMarks(
  kubevirt: KubeVirt | undefined,
  nodes: ReadonlyMap<string, NodeEntry>,
  vmims: MigrationAggregate | undefined,
): TimelineMark[] {
  const marks: TimelineMark[] = [];
  const status = kubevirt?.status;
  const observed = status?.observedKubeVirtVersion;
  const target = status?.targetKubeVirtVersion;
  const progressing = conditionOf(status?.conditions, 'Progressing');
  if (progressing?.status === 'True' && progressing.lastTransitionTime !== undefined) {
    const versions =
      observed !== undefined && target !== undefined && observed !== target
        ? ` from ${observed} to ${target}`
        : '';
    marks.push({
      time: progressing.lastTransitionTime,
      kind: 'kubevirt-version',
      text: `KubeVirt upgrade${versions} started`,
    });
  }
  const notReady = [...nodes.values()]
    .filter(
      (node) =>
        node.facts.ready !== 'True' &&
        node.readySince !== undefined &&
        Number.isFinite(Date.parse(node.readySince)),
    )
    .sort((a, b) => Date.parse(a.readySince ?? '') - Date.parse(b.readySince ?? ''));
  const nodeMarks: Array<{ time: string; names: string[] }> = [];
  for (const node of notReady) {
    const previous = nodeMarks.at(-1);
    if (previous && Date.parse(node.readySince ?? '') - Date.parse(previous.time) <= NODE_MARK_WINDOW_MS) {
      previous.names.push(node.facts.name);
    } else {
      nodeMarks.push({ time: node.readySince ?? '', names: [node.facts.name] });
    }
  }
  for (const { time, names } of nodeMarks.slice(0, MAX_NODE_MARKS)) {
    marks.push({ time, kind: 'node', text: `${plural(names.length, 'node')} NotReady: ${listNames(names)}` });
  }
  if (vmims?.evacuationSince !== undefined) {
    marks.push({
      time: vmims.evacuationSince,
      kind: 'migrations',
      text: `evacuation wave (node drain): ${plural(vmims.evacuation, 'migration')}`,
    });
  }
  if (vmims?.workloadUpdateSince !== undefined) {
    marks.push({
      time: vmims.workloadUpdateSince,
      kind: 'migrations',
      text: `workload-update wave (KubeVirt upgrade): ${plural(vmims.workloadUpdate, 'migration')}`,
    });
  }
  return marks;
}
