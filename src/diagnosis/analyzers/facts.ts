import type { FailureSignature } from '../../launcher/failure-signature.js';
import type { EventClass } from '../event-class.js';
import type { Count, ErrorBurst, Evidence } from '../types.js';

// The plain objects analyzers read: what gather made of the cluster, aggregated so that nothing here grows with
// the number of pods (groups are bounded by distinct signatures, nodes and namespaces).

/** Failed launchers that look alike to every analyzer: same signature, role, node health and event classes. */
export interface PodGroup extends FailureSignature {
  id: number;
  count: number;
  /** The compute container's virt-launcher image: its tag is the KubeVirt version that created the pods. */
  launcherImage?: string;
  /** Migration target pods (label kubevirt.io/migrationJobUID). */
  migrationTarget: boolean;
  /** The Ready condition of the node the pods ran on, when known. */
  nodeReady: 'True' | 'False' | 'Unknown' | 'missing' | 'unscheduled';
  /** Classes of the Warning events recorded on these pods. */
  eventClasses: EventClass[];
  namespaces: Count[];
  nodes: Count[];
  examples: PodExample[];
}

export interface PodExample {
  namespace: string;
  name: string;
  node?: string;
  reason?: string;
  message?: string;
}

/** Warning events grouped by (class, involved kind, reason, message shape). */
export interface EventGroup {
  eventClass: EventClass;
  involvedKind: string;
  reason: string;
  shape: string;
  /** Event objects in the group. */
  objects: number;
  /** Sum of the events' `count` (how often it happened). */
  occurrences: number;
  /** Events whose involved object is one of the Failed launchers. */
  onFailedLaunchers: number;
  /** A real event of the group. */
  example: Evidence;
}

export interface VmiMigrations {
  namespace: string;
  vmi: string;
  migrations: number;
  failed: number;
  inFlight: number;
  failedLaunchers: number;
  failedTargetLaunchers: number;
}

export interface MigrationFacts {
  total: number;
  inFlight: number;
  failed: number;
  succeeded: number;
  /** vmims named kubevirt-evacuation-* (node drains). */
  evacuation: number;
  /** vmims named kubevirt-workload-update-* (KubeVirt upgrades). */
  workloadUpdate: number;
  /** The VMIs with most migrations or failed launchers, most first. */
  vmis: VmiMigrations[];
  /** A few failed vmims, with their failure reason when recorded. */
  failedExamples: Evidence[];
}

export interface NodeFacts {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  readyReason?: string;
  readyMessage?: string;
  unschedulable: boolean;
  /** Pressure conditions that are True (MemoryPressure, DiskPressure, PIDPressure). */
  pressure: string[];
  taints: string[];
  failedLaunchers: number;
  /** status.nodeInfo.bootID: a Rebooted event naming it is the node's current boot. */
  bootId?: string;
  /** The node's latest Rebooted event (src/diagnosis/node-reboots.ts). */
  rebooted?: { at: string; bootId: string; message: string };
}

export interface ControlPlaneFacts {
  /** Where the KubeVirt CR lives (kubevirt upstream, openshift-cnv on OpenShift). */
  namespace?: string;
  name?: string;
  observedVersion?: string;
  targetVersion?: string;
  /** observed != target, or Progressing=True: an upgrade is rolling. */
  upgrading: boolean;
  degraded?: { reason?: string; message?: string };
  outdatedWorkloads?: number;
  errorBursts: ErrorBurst[];
}

export interface DiagnosisFacts {
  failedLaunchers: number;
  groups: PodGroup[];
  events: EventGroup[];
  migrations: MigrationFacts;
  nodes: NodeFacts[];
  controlPlane: ControlPlaneFacts;
}
