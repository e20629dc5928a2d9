// The shared machinery of every scenario: the nodes, namespaces, KubeVirt CR and component pods of the cluster,
// how failures are spread over namespaces and nodes, and the component logs, collected in time order.

import type { ClusterObjects, PodLog } from '../../kube/cluster-objects.js';
import type { KubeObject, Pod } from '../../kube/types.js';
import {
  type EventInput,
  formatKubevirtLog,
  KUBEVIRT_NAMESPACE,
  type KubevirtComponent,
  type KubevirtLogFields,
  kubevirtTimestamp,
  launcherImage,
  makeComponentPod,
  makeEvent,
  makeKubeVirt,
  makeNamespace,
  makeNode,
  makeVmIdentity,
  type NodeHealth,
  type NodeInfo,
  secondsBefore,
  type VmIdentity,
  type VmIdentityOptions,
} from '../objects.js';
import { createRandom, deriveSeed, type Random } from '../random.js';
import type { ScenarioOptions } from './types.js';

export const KUBEVIRT_VERSION = 'v1.6.2';
/** The version before an upgrade (control-plane scenario: observed != target). */
export const PREVIOUS_KUBEVIRT_VERSION = 'v1.5.2';
/** kubectl logs --tail=200 is what the runbook reads; keep a few times that, as a kubelet's rotated log would. */
const MAX_LOG_LINES = 1000;
/** Failures happen within the last hour, so their events are still there (kube-apiserver --event-ttl defaults to 1h). */
const FAILURE_WINDOW_SECONDS = 55 * 60;

const NAMESPACE_WORDS = [
  'finance',
  'analytics',
  'web',
  'ci',
  'data',
  'ml',
  'erp',
  'payments',
  'crm',
  'devtest',
  'media',
  'edge',
];

export function namespaceName(index: number): string {
  const word = NAMESPACE_WORDS[index % NAMESPACE_WORDS.length];
  const round = Math.floor(index / NAMESPACE_WORDS.length);
  return round === 0 ? `${word}-vms` : `${word}-vms-${round + 1}`;
}

export function nodeInfo(index: number): NodeInfo {
  const third = 16 + Math.floor(index / 250);
  return {
    name: `worker-${String(index).padStart(3, '0')}`,
    ip: `10.0.${third}.${10 + (index % 240)}`,
    podSubnet: `10.${128 + Math.floor(index / 256)}.${index % 256}`,
  };
}

/** Where and when one failed launcher goes. */
export interface FailureSlot {
  namespace: string;
  node: NodeInfo;
  failedAt: Date;
}

interface LogEntry {
  /** Microseconds since the epoch: the order the timestamps print in, and the timestamp printed. */
  at: number;
  fields: Omit<KubevirtLogFields, 'timestamp'>;
}

interface LogStream {
  namespace: string;
  pod: string;
  container: string;
  entries: LogEntry[];
}

interface ComponentPodPlan {
  component: KubevirtComponent;
  name: string;
  node: NodeInfo;
  templateHash: string;
}

export interface ClusterBuilderOptions {
  /** The stream that draws this build's objects (build: the seed; churn: a stream per step). */
  random: Random;
  /** The first VM index this builder hands out: churn steps start far above the initial build's. */
  firstVmIndex: number;
  now: Date;
  /** How far back failures go (default: the last 55 minutes). */
  failureWindowSeconds?: number;
  /**
   * Receives each object as it is made instead of collecting it: a 100k-pod cluster held as objects until the end
   * made garbage collection most of the simulator's start. finishCluster() then returns only the layout objects.
   */
  emit?: ((object: KubeObject) => void) | undefined;
}

/**
 * Collects one scenario's objects. The cluster layout (node and namespace names, node subsets, component pod names)
 * depends only on the options, so a churn step rebuilt later addresses the same nodes as the initial build.
 */
export class ClusterBuilder {
  readonly options: ScenarioOptions;
  readonly random: Random;
  readonly now: Date;
  readonly nodes: NodeInfo[];
  readonly namespaces: string[];
  /** What the scenario laid down, unless an emit option takes each object as it is made. */
  readonly objects: KubeObject[] = [];
  readonly #emit: (object: KubeObject) => void;
  readonly nodeHealth = new Map<string, NodeHealth>();
  observedVersion = KUBEVIRT_VERSION;
  targetVersion = KUBEVIRT_VERSION;
  outdatedWorkloads = 0;
  /** When the KubeVirt deployment last changed (an upgrade's start). */
  deployingSince: Date;
  private readonly logStreams = new Map<string, LogStream>();
  private readonly componentPods: ComponentPodPlan[];
  private readonly handlerByNode: Map<string, ComponentPodPlan>;
  private nextVmIndex: number;
  private readonly failureWindowSeconds: number;
  private routineEvents = 0;
  private launcherLogs = 0;

  constructor(options: ScenarioOptions, builder: ClusterBuilderOptions) {
    this.options = options;
    this.random = builder.random;
    this.now = builder.now;
    this.nextVmIndex = builder.firstVmIndex;
    this.failureWindowSeconds = builder.failureWindowSeconds ?? FAILURE_WINDOW_SECONDS;
    this.#emit = builder.emit ?? ((object) => this.objects.push(object));
    this.nodes = Array.from({ length: Math.max(1, options.nodes) }, (_, index) => nodeInfo(index));
    this.namespaces = Array.from({ length: Math.max(1, options.namespaces) }, (_, index) =>
      namespaceName(index),
    );
    this.deployingSince = secondsBefore(options.now, 12 * 86400);
    this.componentPods = planComponentPods(options, this.nodes);
    this.handlerByNode = new Map(
      this.componentPods.filter((pod) => pod.component === 'virt-handler').map((pod) => [pod.node.name, pod]),
    );
  }

  /** The launcher image new pods get: the target version, as virt-controller renders it after an upgrade. */
  get launcherImage(): string {
    return launcherImage(this.targetVersion);
  }

  add(...objects: KubeObject[]): void {
    for (const object of objects) this.#emit(object);
  }

  event(input: EventInput): void {
    this.#emit(makeEvent(input, this.random));
  }

  /** virt-handler's Warning on a VMI it failed to synchronise (KubeVirt's SyncFailed event), with the error. */
  syncFailedEvent(vm: VmIdentity, reason: string, at: Date, host: string): void {
    this.event({
      involved: {
        kind: 'VirtualMachineInstance',
        apiVersion: 'kubevirt.io/v1',
        namespace: vm.namespace,
        name: vm.name,
        uid: vm.vmiUid,
      },
      reason: 'SyncFailed',
      message: reason,
      type: 'Warning',
      count: 1,
      first: at,
      last: at,
      component: 'virt-handler',
      host,
    });
  }

  /**
   * An everyday event (SuccessfulCreate, Scheduled) that says nothing about the cause: the first few hundred are
   * enough to look real, and 100k of them would only cost memory.
   */
  routineEvent(input: EventInput): void {
    if (this.routineEvents >= 500) return;
    this.routineEvents++;
    this.event(input);
  }

  newVm(namespace: string, options: Omit<VmIdentityOptions, 'namespace' | 'index'>): VmIdentity {
    const index = this.nextVmIndex++;
    return makeVmIdentity(this.random, { ...options, namespace, index });
  }

  /** A random moment in the failure window (the last hour, so events still exist). */
  failureTime(): Date {
    const window = this.failureWindowSeconds;
    return secondsBefore(this.now, this.random.int(Math.min(60, Math.floor(window / 2)), window));
  }

  /**
   * Where `count` failures go. The first pass walks namespaces and nodes round-robin (in a seeded order), so every
   * namespace and node gets one when there are enough failures; the rest is skewed, as real incidents are.
   */
  slots(count: number, nodes: readonly NodeInfo[] = this.nodes): FailureSlot[] {
    const namespaces = this.random.shuffle(this.namespaces);
    const nodeOrder = this.random.shuffle(nodes);
    const slots: FailureSlot[] = [];
    const skewed = <T>(items: readonly T[]): T =>
      items[Math.min(items.length - 1, Math.floor(items.length * this.random.next() ** 1.7))] as T;
    for (let index = 0; index < count; index++) {
      const uniform = index < Math.max(namespaces.length, nodeOrder.length);
      slots.push({
        namespace: uniform ? (namespaces[index % namespaces.length] as string) : skewed(namespaces),
        node: uniform ? (nodeOrder[index % nodeOrder.length] as NodeInfo) : skewed(nodeOrder),
        failedAt: this.failureTime(),
      });
    }
    return slots;
  }

  /** A fixed subset of the nodes for a named purpose (the nodes whose CNI is broken, ...): the same for build and churn. */
  nodeSubset(purpose: string, fraction: number): NodeInfo[] {
    const random = createRandom(deriveSeed(this.options.seed, 'node-subset', purpose));
    const size = Math.max(1, Math.min(this.nodes.length, Math.round(this.nodes.length * fraction)));
    return random.shuffle(this.nodes).slice(0, size);
  }

  updateNodeHealth(node: string, health: NodeHealth): void {
    this.nodeHealth.set(node, { ...this.nodeHealth.get(node), ...health });
  }

  // -- logs -------------------------------------------------------------------------------------------------------

  private append(
    namespace: string,
    pod: string,
    container: string,
    at: Date,
    fields: Omit<KubevirtLogFields, 'timestamp'>,
  ): void {
    const key = `${namespace}/${pod}/${container}`;
    let stream = this.logStreams.get(key);
    if (stream === undefined) {
      stream = { namespace, pod, container, entries: [] };
      this.logStreams.set(key, stream);
    }
    // KubeVirt logs microseconds: spread the line over its second (scenario times are whole seconds).
    const micros = Math.floor(at.getTime() / 1000) * 1_000_000 + this.random.int(0, 999_999);
    stream.entries.push({ at: micros, fields });
    // Only the newest lines survive (formatLogs): trim as we go so that 100k failures do not hold 100k lines.
    if (stream.entries.length >= 4 * MAX_LOG_LINES) trimToNewest(stream.entries);
  }

  /** A line of the leading virt-controller (the one holding the lease does the work). */
  controllerLog(at: Date, fields: Omit<KubevirtLogFields, 'timestamp' | 'component'>): void {
    const leader = this.componentPods.find((pod) => pod.component === 'virt-controller');
    if (leader === undefined) return;
    this.append(KUBEVIRT_NAMESPACE, leader.name, 'virt-controller', at, {
      ...fields,
      component: 'virt-controller',
    });
  }

  handlerLog(node: string, at: Date, fields: Omit<KubevirtLogFields, 'timestamp' | 'component'>): void {
    const handler = this.handlerByNode.get(node);
    if (handler === undefined) return;
    this.append(KUBEVIRT_NAMESPACE, handler.name, 'virt-handler', at, {
      ...fields,
      component: 'virt-handler',
    });
  }

  /** The compute container's log of a launcher: only for the first few per build, as `kubectl logs` samples would. */
  launcherLog(pod: Pod, at: Date, fields: Omit<KubevirtLogFields, 'timestamp'>): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}/compute`;
    if (!this.logStreams.has(key)) {
      if (this.launcherLogs >= 25) return;
      this.launcherLogs++;
    }
    this.append(pod.metadata.namespace ?? 'default', pod.metadata.name, 'compute', at, fields);
  }

  // -- output -----------------------------------------------------------------------------------------------------

  /** The initial cluster: what the scenario laid down plus nodes, namespaces, the KubeVirt CR and component pods. */
  finishCluster(): ClusterObjects {
    const layout = createRandom(deriveSeed(this.options.seed, 'layout'));
    const clusterBorn = secondsBefore(this.options.now, 200 * 86400);
    const base: KubeObject[] = [];
    for (const name of [KUBEVIRT_NAMESPACE, 'default', ...this.namespaces]) {
      base.push(makeNamespace(name, layout.uuid(), clusterBorn));
    }
    for (const node of this.nodes) {
      base.push(makeNode(node, layout.uuid(), clusterBorn, this.now, this.nodeHealth.get(node.name)));
    }
    base.push(
      makeKubeVirt({
        uid: layout.uuid(),
        createdAt: clusterBorn,
        now: this.now,
        observedVersion: this.observedVersion,
        targetVersion: this.targetVersion,
        outdatedWorkloads: this.outdatedWorkloads,
        deployingSince: this.deployingSince,
      }),
    );
    for (const plan of this.componentPods) {
      // virt-operator rolls virt-controller out first and virt-handler after it: mid-upgrade the handlers lag.
      const version =
        plan.component === 'virt-handler' || plan.component === 'virt-operator'
          ? this.observedVersion
          : this.targetVersion;
      base.push(
        makeComponentPod({
          ...plan,
          version: plan.component === 'virt-operator' ? this.targetVersion : version,
          uid: layout.uuid(),
          createdAt: secondsBefore(this.deployingSince, -120),
          random: layout,
        }),
      );
      this.baselineLogs(plan, layout);
    }
    return { objects: [...base, ...this.objects], logs: this.formatLogs() };
  }

  /** Only what the scenario laid down (a churn step): the cluster around it already exists. */
  finishChurn(): ClusterObjects {
    return { objects: this.objects, logs: this.formatLogs() };
  }

  /** Routine lines every component prints, so that errors stand out against info as they do in a real log. */
  private baselineLogs(plan: ComponentPodPlan, random: Random): void {
    const started = secondsBefore(this.deployingSince, -130);
    const fields = { pos: '', level: 'info' as const };
    if (plan.component === 'virt-controller') {
      for (const [msg, pos] of [
        ['Starting vmi controller.', 'vmi.go:232'],
        ['Starting migration controller.', 'migration.go:285'],
        ['Starting workload update controller.', 'workload-updater.go:220'],
        ['Starting node controller.', 'node.go:110'],
      ] as const) {
        this.append(KUBEVIRT_NAMESPACE, plan.name, plan.component, started, {
          ...fields,
          component: plan.component,
          msg,
          pos,
        });
      }
    }
    if (plan.component === 'virt-handler') {
      this.append(KUBEVIRT_NAMESPACE, plan.name, plan.component, started, {
        ...fields,
        component: plan.component,
        msg: 'Starting virt-handler controller.',
        pos: 'vm.go:1520',
      });
      for (let i = 0; i < 5; i++) {
        this.append(
          KUBEVIRT_NAMESPACE,
          plan.name,
          plan.component,
          secondsBefore(this.now, random.int(10, 3000)),
          {
            ...fields,
            component: plan.component,
            msg: 'Synchronization loop succeeded.',
            pos: 'vm.go:2079',
          },
        );
      }
    }
    if (plan.component === 'virt-api' || plan.component === 'virt-operator') {
      this.append(KUBEVIRT_NAMESPACE, plan.name, plan.component, started, {
        ...fields,
        component: plan.component,
        msg: plan.component === 'virt-api' ? 'Starting virt-api' : 'Starting virt-operator',
        pos: 'application.go:310',
      });
    }
  }

  private formatLogs(): PodLog[] {
    const logs: PodLog[] = [];
    for (const stream of this.logStreams.values()) {
      trimToNewest(stream.entries);
      const kept = stream.entries;
      logs.push({
        namespace: stream.namespace,
        pod: stream.pod,
        container: stream.container,
        lines: kept.map((entry) =>
          formatKubevirtLog({
            ...entry.fields,
            timestamp: kubevirtTimestamp(new Date(Math.floor(entry.at / 1000)), entry.at % 1000),
          }),
        ),
      });
    }
    return logs;
  }
}

/** Sorts oldest first and keeps the newest MAX_LOG_LINES entries (stable for equal times: insertion order). */
function trimToNewest(entries: LogEntry[]): void {
  entries.sort((a, b) => a.at - b.at);
  if (entries.length > MAX_LOG_LINES) entries.splice(0, entries.length - MAX_LOG_LINES);
}

/** Two replicas of each Deployment and one virt-handler per node, named as the ReplicaSet/DaemonSet controllers name them. */
function planComponentPods(options: ScenarioOptions, nodes: NodeInfo[]): ComponentPodPlan[] {
  const random = createRandom(deriveSeed(options.seed, 'component-pods'));
  const plans: ComponentPodPlan[] = [];
  for (const component of ['virt-controller', 'virt-api', 'virt-operator'] as const) {
    const templateHash = random.suffix(10);
    for (let replica = 0; replica < 2; replica++) {
      plans.push({
        component,
        name: `${component}-${templateHash}-${random.suffix()}`,
        node: nodes[(replica * 7 + plans.length) % nodes.length] as NodeInfo,
        templateHash,
      });
    }
  }
  const revision = random.suffix(10);
  for (const node of nodes) {
    plans.push({
      component: 'virt-handler',
      name: `virt-handler-${random.suffix()}`,
      node,
      templateHash: revision,
    });
  }
  return plans;
}
