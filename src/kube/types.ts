// Kubernetes and KubeVirt objects as they travel on the wire (JSON): timestamps are RFC3339 strings.
// Only the fields stuckfailed reads are typed; everything else passes through untouched.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  generateName?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  running?: { startedAt?: string };
  waiting?: { reason?: string; message?: string };
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: ContainerState;
  lastState?: ContainerState;
  containerID?: string;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface Pod extends KubeObject {
  spec: {
    nodeName?: string;
    containers: Container[];
    initContainers?: Container[];
    restartPolicy?: string;
    schedulerName?: string;
    serviceAccountName?: string;
    hostNetwork?: boolean;
    priorityClassName?: string;
    terminationGracePeriodSeconds?: number;
    nodeSelector?: Record<string, string>;
    volumes?: Array<Record<string, unknown> & { name: string }>;
    [key: string]: unknown;
  };
  status?: {
    phase?: PodPhase;
    reason?: string;
    message?: string;
    hostIP?: string;
    podIP?: string;
    podIPs?: Array<{ ip: string }>;
    nominatedNodeName?: string;
    startTime?: string;
    qosClass?: string;
    conditions?: PodCondition[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface Event extends KubeObject {
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string | null;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
}

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Node extends KubeObject {
  spec?: { unschedulable?: boolean; taints?: Array<{ key: string; value?: string; effect: string }> };
  status?: {
    conditions?: NodeCondition[];
    nodeInfo?: { kubeletVersion?: string; [key: string]: unknown };
    addresses?: Array<{ type: string; address: string }>;
    [key: string]: unknown;
  };
}

export interface Namespace extends KubeObject {
  status?: { phase?: string };
}

export type MigrationPhase =
  | ''
  | 'Pending'
  | 'Scheduling'
  | 'Scheduled'
  | 'PreparingTarget'
  | 'TargetReady'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'WaitingForSync'
  | 'Synchronizing';

export interface VirtualMachineInstanceMigration extends KubeObject {
  spec: { vmiName: string; [key: string]: unknown };
  status?: {
    phase?: MigrationPhase;
    phaseTransitionTimestamps?: Array<{ phase: string; phaseTransitionTimestamp: string }>;
    migrationState?: {
      sourceNode?: string;
      targetNode?: string;
      sourcePod?: string;
      targetPod?: string;
      completed?: boolean;
      failed?: boolean;
      abortRequested?: boolean;
      failureReason?: string;
      [key: string]: unknown;
    };
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

export interface VirtualMachineInstance extends KubeObject {
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    nodeName?: string;
    reason?: string;
    activePods?: Record<string, string>;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    migrationState?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export interface VirtualMachine extends KubeObject {
  spec: { runStrategy?: string; running?: boolean; [key: string]: unknown };
  status?: { printableStatus?: string; ready?: boolean; [key: string]: unknown };
}

export interface KubeVirt extends KubeObject {
  spec?: Record<string, unknown>;
  status?: {
    phase?: string;
    observedKubeVirtVersion?: string;
    targetKubeVirtVersion?: string;
    operatorVersion?: string;
    outdatedVirtualMachineInstanceWorkloads?: number;
    conditions?: Array<{
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    [key: string]: unknown;
  };
}

export interface Lease extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: ListMeta;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    retryAfterSeconds?: number;
    causes?: Array<{ reason?: string; message?: string; field?: string }>;
  };
  code: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
