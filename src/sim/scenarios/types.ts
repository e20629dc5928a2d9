import type { CauseCategory } from '../../diagnosis/types.js';
import type { ClusterObjects } from '../../kube/cluster-objects.js';
import type { KubeObject } from '../../kube/types.js';

export const SCENARIO_NAMES = [
  'healthy',
  'image-pull',
  'cni',
  'storage',
  'migration-storm',
  'control-plane',
  'eviction',
  'node-shutdown',
  'init-container',
  'node-reboot',
  'mixed',
] as const;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface ScenarioOptions {
  /** Exactly this many Failed virt-launcher pods (DESIGN §4 definition) in the initial state. */
  failed: number;
  namespaces: number;
  nodes: number;
  seed: number;
  /** The simulated "now": timestamps are laid out before it. */
  now: Date;
}

/** The running state of a scenario after build(), advanced by churn. */
export interface ScenarioState {
  options: ScenarioOptions;
  /** How many objects churn has produced so far (names stay unique and deterministic). */
  sequence: number;
}

export interface Scenario {
  name: ScenarioName;
  summary: string;
  /** The cause diagnose must rank first (healthy: none; mixed: the largest share). */
  expectedTopCause: CauseCategory | undefined;
  /**
   * The initial cluster: launchers, VMIs, VMs, vmims, the KubeVirt CR, nodes, events, component pods and logs.
   * With `emit`, every object the scenario lays down goes to it as soon as it is made, and the result holds only
   * the rest (nodes, namespaces, the KubeVirt CR, component pods) and the logs: a caller that stores objects as
   * they come never holds a 100k-pod cluster as objects.
   */
  build(options: ScenarioOptions, emit?: (object: KubeObject) => void): ClusterObjects;
  /** One more failure while the cause is active (--churn): a new Failed launcher with its cause's signature. */
  nextFailure(state: ScenarioState, now: Date): ClusterObjects;
  /** After POST /sim/heal: a new launcher that reaches Running. */
  nextHealthy(state: ScenarioState, now: Date): ClusterObjects;
}
