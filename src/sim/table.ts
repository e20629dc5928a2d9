// Server-side printing (meta.k8s.io/v1 Table), what `kubectl get` asks for by default. Without it kubectl falls
// back to NAME/AGE (apiserver.md §1.2). Built-in columns follow k8s pkg/printers/internalversion/printers.go;
// KubeVirt's columns follow the additionalPrinterColumns of its CRDs
// (kubevirt pkg/virt-operator/resource/generate/components/crds.go), whose `date` cells the apiserver humanises.

import type { ResourceName } from '../kube/resources.js';
import type {
  ContainerStatus,
  Event,
  KubeObject,
  KubeVirt,
  Lease,
  Namespace,
  Node,
  Pod,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineInstanceMigration,
} from '../kube/types.js';
import type { PrinterColumn } from './resource-registry.js';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'date' | 'number' | 'boolean';
  format: string;
  description: string;
  priority: number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface Printer {
  columns: TableColumn[];
  cells(object: KubeObject, now: number): Array<string | number | boolean>;
}

function column(name: string, priority = 0, format = '', description = ''): TableColumn {
  return { name, type: 'string', format, description, priority };
}

const NAME_COLUMN = column(
  'Name',
  0,
  'name',
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
);
const AGE_COLUMN = column(
  'Age',
  0,
  '',
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
);

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration: `45s`, `3m20s`, `5h2m`, `3d4h`, `2y30d`. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.floor(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const rest = seconds % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const rest = hours % 24;
    return rest === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${rest}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** translateTimestampSince: `<unknown>` for a missing timestamp. */
function age(timestamp: string | undefined, now: number): string {
  if (timestamp === undefined) return '<unknown>';
  return humanDuration(now - Date.parse(timestamp));
}

function terminatedReason(prefix: string, status: ContainerStatus): string | undefined {
  const terminated = status.state?.terminated;
  if (terminated === undefined) return undefined;
  if (terminated.reason) return `${prefix}${terminated.reason}`;
  return terminated.signal
    ? `${prefix}Signal:${terminated.signal}`
    : `${prefix}ExitCode:${terminated.exitCode}`;
}

/** printPod's READY, STATUS and RESTARTS (printers.go printPod, Kubernetes 1.32). */
export function podStatusColumns(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const status = pod.status ?? {};
  const initContainers = pod.spec.initContainers ?? [];
  let reason: string = status.reason || status.phase || '';
  let restarts = 0;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  const noteRestart = (container: ContainerStatus) => {
    restarts += container.restartCount ?? 0;
    const finished = container.lastState?.terminated?.finishedAt;
    if (finished !== undefined) lastRestart = Math.max(lastRestart ?? 0, Date.parse(finished));
  };
  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let index = 0; index < initStatuses.length; index += 1) {
    const container = initStatuses[index] as ContainerStatus;
    noteRestart(container);
    const terminated = container.state?.terminated;
    if (terminated !== undefined && terminated.exitCode === 0) continue;
    if (terminated !== undefined) {
      reason = terminatedReason('Init:', container) as string;
    } else if (container.state?.waiting?.reason && container.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${container.state.waiting.reason}`;
    } else {
      reason = `Init:${index}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }
  const initializedCondition = status.conditions?.some(
    (condition) => condition.type === 'Initialized' && condition.status === 'True',
  );
  if (!initializing || initializedCondition) {
    restarts = 0;
    lastRestart = undefined;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    // From the last container to the first, so the first container's state wins (virt-launcher: compute).
    for (let index = statuses.length - 1; index >= 0; index -= 1) {
      const container = statuses[index] as ContainerStatus;
      noteRestart(container);
      if (container.state?.waiting?.reason) {
        reason = container.state.waiting.reason;
      } else if (container.state?.terminated !== undefined) {
        reason = terminatedReason('', container) as string;
      } else if (container.ready && container.state?.running !== undefined) {
        hasRunning = true;
        readyContainers += 1;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = status.conditions?.some(
        (condition) => condition.type === 'Ready' && condition.status === 'True',
      );
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  const terminal = status.phase === 'Failed' || status.phase === 'Succeeded';
  if (pod.metadata.deletionTimestamp !== undefined && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp !== undefined && !terminal) reason = 'Terminating';
  const restartsCell =
    restarts !== 0 && lastRestart !== undefined
      ? `${restarts} (${humanDuration(now - lastRestart)} ago)`
      : String(restarts);
  return {
    ready: `${readyContainers}/${pod.spec.containers.length}`,
    status: reason,
    restarts: restartsCell,
  };
}

const none = (value: string | undefined): string => (value === undefined || value === '' ? '<none>' : value);

function conditionStatus(
  conditions: Array<{ type: string; status: string }> | undefined,
  type: string,
): string | undefined {
  return conditions?.find((condition) => condition.type === type)?.status;
}

const PRINTERS: Record<ResourceName, Printer> = {
  pods: {
    columns: [
      NAME_COLUMN,
      column('Ready', 0, '', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 0, '', 'The aggregate status of the containers in this pod.'),
      column(
        'Restarts',
        0,
        '',
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ),
      AGE_COLUMN,
      column(
        'IP',
        1,
        '',
        'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      ),
      column(
        'Node',
        1,
        '',
        'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.',
      ),
      column(
        'Nominated Node',
        1,
        '',
        'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.',
      ),
      column(
        'Readiness Gates',
        1,
        '',
        'If specified, all readiness gates will be evaluated for pod readiness.',
      ),
    ],
    cells(object, now) {
      const pod = object as Pod;
      const { ready, status, restarts } = podStatusColumns(pod, now);
      const gates = (pod.spec.readinessGates as Array<{ conditionType: string }> | undefined) ?? [];
      const gatesCell =
        gates.length === 0
          ? '<none>'
          : `${gates.filter((gate) => conditionStatus(pod.status?.conditions, gate.conditionType) === 'True').length}/${gates.length}`;
      return [
        pod.metadata.name,
        ready,
        status,
        restarts,
        age(pod.metadata.creationTimestamp, now),
        none(pod.status?.podIPs?.[0]?.ip ?? pod.status?.podIP),
        none(pod.spec.nodeName),
        none(pod.status?.nominatedNodeName),
        gatesCell,
      ];
    },
  },
  events: {
    columns: [
      column('Last Seen'),
      column('Type'),
      column('Reason'),
      column('Object'),
      column('Message'),
      column('Subobject', 1),
      column('Source', 1),
      column('First Seen', 1),
      column('Count', 1),
      column('Name', 1, 'name'),
    ],
    cells(object, now) {
      const event = object as Event;
      const involved = event.involvedObject;
      const lastSeen =
        event.lastTimestamp ?? event.eventTime ?? event.metadata.creationTimestamp ?? undefined;
      return [
        age(lastSeen ?? undefined, now),
        event.type ?? '',
        event.reason ?? '',
        `${(involved.kind ?? '').toLowerCase()}/${involved.name ?? ''}`,
        (event.message ?? '').trim(),
        involved.fieldPath ?? '',
        [event.source?.component, event.source?.host].filter(Boolean).join(', '),
        age(event.firstTimestamp ?? undefined, now),
        event.count ?? 1,
        event.metadata.name,
      ];
    },
  },
  namespaces: {
    columns: [NAME_COLUMN, column('Status'), AGE_COLUMN],
    cells(object, now) {
      const namespace = object as Namespace;
      return [
        namespace.metadata.name,
        namespace.status?.phase ?? 'Active',
        age(namespace.metadata.creationTimestamp, now),
      ];
    },
  },
  nodes: {
    columns: [NAME_COLUMN, column('Status'), column('Roles'), AGE_COLUMN, column('Version')],
    cells(object, now) {
      const node = object as Node;
      const ready = conditionStatus(node.status?.conditions, 'Ready');
      const states = [ready === 'True' ? 'Ready' : ready === undefined ? 'Unknown' : 'NotReady'];
      if (node.spec?.unschedulable) states.push('SchedulingDisabled');
      const roles = Object.keys(node.metadata.labels ?? {})
        .filter((label) => label.startsWith('node-role.kubernetes.io/'))
        .map((label) => label.slice('node-role.kubernetes.io/'.length))
        .sort();
      return [
        node.metadata.name,
        states.join(','),
        roles.length === 0 ? '<none>' : roles.join(','),
        age(node.metadata.creationTimestamp, now),
        node.status?.nodeInfo?.kubeletVersion ?? '',
      ];
    },
  },
  leases: {
    columns: [NAME_COLUMN, column('Holder'), AGE_COLUMN],
    cells(object, now) {
      const lease = object as Lease;
      return [
        lease.metadata.name,
        lease.spec.holderIdentity ?? '',
        age(lease.metadata.creationTimestamp, now),
      ];
    },
  },
  // KubeVirt CRDs: VMIM declares Phase and VMI only (no Age), the others start with Age.
  virtualmachineinstancemigrations: {
    columns: [
      NAME_COLUMN,
      column('Phase', 0, '', 'The current phase of VM instance migration'),
      column('VMI', 0, '', 'The name of the VMI to perform the migration on'),
    ],
    cells(object) {
      const migration = object as VirtualMachineInstanceMigration;
      return [migration.metadata.name, migration.status?.phase ?? '', migration.spec.vmiName];
    },
  },
  virtualmachineinstances: {
    columns: [
      NAME_COLUMN,
      { ...AGE_COLUMN, type: 'date' },
      column('Phase'),
      column('IP'),
      column('NodeName'),
      column('Ready'),
      column('Live-Migratable', 1),
      column('Paused', 1),
    ],
    cells(object, now) {
      const vmi = object as VirtualMachineInstance;
      const conditions = vmi.status?.conditions;
      const interfaces = vmi.status?.interfaces as Array<{ ipAddress?: string }> | undefined;
      return [
        vmi.metadata.name,
        age(vmi.metadata.creationTimestamp, now),
        vmi.status?.phase ?? '',
        interfaces?.[0]?.ipAddress ?? '',
        vmi.status?.nodeName ?? '',
        conditionStatus(conditions, 'Ready') ?? '',
        conditionStatus(conditions, 'LiveMigratable') ?? '',
        conditionStatus(conditions, 'Paused') ?? '',
      ];
    },
  },
  virtualmachines: {
    columns: [NAME_COLUMN, { ...AGE_COLUMN, type: 'date' }, column('Status'), column('Ready')],
    cells(object, now) {
      const vm = object as VirtualMachine;
      return [
        vm.metadata.name,
        age(vm.metadata.creationTimestamp, now),
        vm.status?.printableStatus ?? '',
        conditionStatus(
          vm.status?.conditions as Array<{ type: string; status: string }> | undefined,
          'Ready',
        ) ?? '',
      ];
    },
  },
  kubevirts: {
    columns: [NAME_COLUMN, { ...AGE_COLUMN, type: 'date' }, column('Phase')],
    cells(object, now) {
      const kubevirt = object as KubeVirt;
      return [
        kubevirt.metadata.name,
        age(kubevirt.metadata.creationTimestamp, now),
        kubevirt.status?.phase ?? '',
      ];
    },
  },
};

/** A built-in kind's printer, or undefined for a kind that has none (a CRD's resources use crdPrinter). */
export function builtInPrinter(resource: string): Printer | undefined {
  return (PRINTERS as Record<string, Printer>)[resource];
}

/**
 * The value at a CRD column's simple JSONPath (`.status.phase`, `.spec.items[0].name`, `.metadata.labels.a\\.b`),
 * or undefined when it is absent.
 */
export function jsonPathValue(object: unknown, path: string): unknown {
  const steps: Array<string | number> = [];
  const pattern = /\.((?:\\.|[^.[\\])+)|\[(\d+)\]|\['([^']*)'\]/gy;
  const trimmed = path.startsWith('{') && path.endsWith('}') ? path.slice(1, -1) : path;
  let match: RegExpExecArray | null = pattern.exec(trimmed);
  while (match !== null) {
    if (match[1] !== undefined) steps.push(match[1].replace(/\\(.)/g, '$1'));
    else if (match[2] !== undefined) steps.push(Number(match[2]));
    else steps.push(match[3] as string);
    if (pattern.lastIndex === trimmed.length) break;
    match = pattern.exec(trimmed);
  }
  let value: unknown = object;
  for (const step of steps) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

// apiextensions-apiserver tableconvertor cellForJSONValue: a value of the wrong type prints as nothing; a
// `date` prints as the time since; `string` columns print any value as JSONPath does.
function crdCell(type: PrinterColumn['type'], value: unknown, now: number): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'date':
      if (typeof value !== 'string') return null;
      return Number.isNaN(Date.parse(value)) ? '<invalid>' : humanDuration(now - Date.parse(value));
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** The Table printer of a CRD version: Name, then its additionalPrinterColumns. */
export function crdPrinter(columns: readonly PrinterColumn[]): Printer {
  return {
    columns: [
      NAME_COLUMN,
      ...columns.map((printerColumn) => ({
        name: printerColumn.name,
        type: printerColumn.type,
        format: printerColumn.format ?? '',
        description: printerColumn.description ?? '',
        priority: printerColumn.priority ?? 0,
      })),
    ],
    cells: (object, now) => [
      object.metadata.name,
      ...columns.map(
        (printerColumn) =>
          crdCell(printerColumn.type, jsonPathValue(object, printerColumn.jsonPath), now) as string,
      ),
    ],
  };
}

/** Name and Age: the columns of a kind without a printer of its own. */
export const DEFAULT_PRINTER = crdPrinter([
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
]);

export interface TableMetadata {
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A Table of `objects` (JSON text), with each row's object as asked by `includeObject`. */
export function renderTable(
  printer: Printer,
  objects: Iterable<string>,
  metadata: TableMetadata,
  includeObject: IncludeObject,
  now: number,
): string {
  const rows: string[] = [];
  for (const json of objects) {
    const object = JSON.parse(json) as KubeObject;
    const cells = JSON.stringify(printer.cells(object, now));
    let rowObject = '';
    if (includeObject === 'Object') rowObject = `,"object":${json}`;
    else if (includeObject === 'Metadata') {
      rowObject = `,"object":${JSON.stringify({
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: object.metadata,
      })}`;
    }
    rows.push(`{"cells":${cells}${rowObject}}`);
  }
  return `{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(metadata)},"columnDefinitions":${JSON.stringify(printer.columns)},"rows":[${rows.join(',')}]}`;
}
