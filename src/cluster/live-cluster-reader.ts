import type { ResourceName } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import type { KubeApi } from './kube-api.js';
import type { ClusterReader, ListOptions, LogOptions } from './reader.js';

/** The cluster as the Kubernetes API shows it: paged streaming lists, gets, logs, through one KubeApi. */
export class LiveClusterReader implements ClusterReader {
  readonly source = 'api' as const;
  readonly api: KubeApi;

  constructor(api: KubeApi) {
    this.api = api;
  }

  list<T extends KubeObject>(resource: ResourceName, options: ListOptions = {}): AsyncIterable<T> {
    return this.api.list<T>(resource, options);
  }

  get<T extends KubeObject>(
    resource: ResourceName,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    return this.api.get<T>(resource, name, namespace);
  }

  readLog(options: LogOptions): Promise<string[]> {
    return this.api.readLog(options);
  }
}
