import type { ResourceName } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';

export interface ListOptions {
  /** Undefined lists across all namespaces (cluster-scoped resources ignore it). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * The caller reads every item: the next page may be fetched as soon as this one arrives, so that its transfer
   * overlaps the parsing of the whole page (else from halfway through, so that a caller that stops early does not
   * pay for a page it never reads).
   */
  readsAll?: boolean;
}

export interface LogOptions {
  namespace: string;
  pod: string;
  container: string;
  tailLines?: number;
  /** The previous (crashed) instance of the container, as `kubectl logs --previous`. */
  previous?: boolean;
}

/**
 * Read access to a cluster, live (the Kubernetes API, src/cluster/) or offline (a snapshot, src/snapshot/).
 * Lists are streamed: items arrive page by page and nobody holds a whole 100k-pod list. Selectors follow the
 * Kubernetes grammar in both implementations, so gather code cannot tell them apart.
 */
export interface ClusterReader {
  readonly source: 'api' | 'snapshot';
  /** Items of one resource, in the server's order (namespace/name). */
  list<T extends KubeObject>(resource: ResourceName, options?: ListOptions): AsyncIterable<T>;
  /** One object, or undefined when it does not exist. */
  get<T extends KubeObject>(resource: ResourceName, name: string, namespace?: string): Promise<T | undefined>;
  /** A container's log, as lines (oldest first). */
  readLog(options: LogOptions): Promise<string[]>;
}
