import type { KubeObject } from './types.js';

/** The log of one container, as `kubectl logs` would print it (oldest line first). */
export interface PodLog {
  namespace: string;
  pod: string;
  container: string;
  lines: string[];
}

/**
 * A set of objects and container logs: what a scenario lays down, what a must-gather holds, what the simulator
 * serves. Objects carry apiVersion and kind so each can be routed to its resource (src/kube/resources.ts).
 */
export interface ClusterObjects {
  objects: KubeObject[];
  logs: PodLog[];
}
