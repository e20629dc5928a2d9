import { ApiError } from '../cluster/api-error.js';
import type { ClusterReader, ListOptions, LogOptions } from '../cluster/reader.js';
import { StuckfailedError } from '../errors.js';
import type { ClusterObjects, PodLog } from '../kube/cluster-objects.js';
import { objectPath, RESOURCES, type ResourceName, resourceForKind } from '../kube/resources.js';
import {
  type FieldSelector,
  type LabelSelector,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../kube/selectors.js';
import type { KubeObject } from '../kube/types.js';

/** A snapshot may also hold the logs of containers' previous instances (must-gather previous.log). */
export interface SnapshotContents extends ClusterObjects {
  previousLogs?: PodLog[];
}

interface Entry {
  key: string;
  object: KubeObject;
}

/**
 * The cluster as a snapshot shows it (a must-gather, kubectl dumps, a scenario), answering exactly as the API
 * server would: items ordered by namespace/name, the same label and field selectors (src/kube/selectors.ts), a
 * bad selector rejected with the server's message. The objects are shared, not copied: callers must not mutate them.
 */
export class SnapshotReader implements ClusterReader {
  readonly source = 'snapshot' as const;
  readonly #byResource = new Map<ResourceName, Entry[]>();
  readonly #byKey = new Map<string, KubeObject>();
  readonly #logs = new Map<string, string[]>();
  readonly #previousLogs = new Map<string, string[]>();

  constructor(contents: SnapshotContents) {
    const names = Object.keys(RESOURCES) as ResourceName[];
    for (const object of contents.objects) {
      const type = resourceForKind(object.apiVersion, object.kind);
      const resource = names.find((name) => RESOURCES[name] === type);
      if (resource === undefined || !object.metadata?.name) continue;
      const key = storageKey(object, RESOURCES[resource].namespaced);
      let entries = this.#byResource.get(resource);
      if (entries === undefined) {
        entries = [];
        this.#byResource.set(resource, entries);
      }
      entries.push({ key, object });
      this.#byKey.set(`${resource}:${key}`, object);
    }
    for (const entries of this.#byResource.values()) {
      entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
    for (const log of contents.logs) this.#logs.set(logKey(log), log.lines);
    for (const log of contents.previousLogs ?? []) this.#previousLogs.set(logKey(log), log.lines);
  }

  async *list<T extends KubeObject>(resource: ResourceName, options: ListOptions = {}): AsyncGenerator<T> {
    const type = RESOURCES[resource];
    const { labels, fields } = parseSelectors(resource, options);
    const namespace = type.namespaced ? options.namespace : undefined;
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (const { key, object } of this.#byResource.get(resource) ?? []) {
      if (prefix !== undefined && !key.startsWith(prefix)) continue;
      if (!matchesLabels(labels, object.metadata.labels)) continue;
      if (!matchesFields(resource, fields, object)) continue;
      yield object as T;
    }
  }

  async get<T extends KubeObject>(
    resource: ResourceName,
    name: string,
    namespace?: string,
  ): Promise<T | undefined> {
    const type = RESOURCES[resource];
    const key = type.namespaced ? `${namespace ?? ''}/${name}` : name;
    return this.#byKey.get(`${resource}:${key}`) as T | undefined;
  }

  /**
   * The captured log, last tailLines lines. A pod the snapshot does not hold is 404 as from the server; a pod
   * whose log was not captured (must-gathers collect only running pods' logs) reads as empty.
   */
  async readLog(options: LogOptions): Promise<string[]> {
    if (!this.#byKey.has(`pods:${options.namespace}/${options.pod}`) && !this.#logs.has(logKey(options))) {
      throw new ApiError({
        method: 'GET',
        url: `${objectPath(RESOURCES.pods, options.pod, options.namespace)}/log`,
        server: 'the snapshot',
        status: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `pods "${options.pod}" not found`,
          reason: 'NotFound',
          details: { name: options.pod, kind: 'pods' },
          code: 404,
        },
        attempts: 1,
      });
    }
    const lines = (options.previous ? this.#previousLogs : this.#logs).get(logKey(options)) ?? [];
    const { tailLines } = options;
    return tailLines === undefined ? [...lines] : lines.slice(Math.max(0, lines.length - tailLines));
  }
}

function parseSelectors(
  resource: ResourceName,
  options: ListOptions,
): { labels: LabelSelector; fields: FieldSelector } {
  try {
    return {
      labels: parseLabelSelector(options.labelSelector ?? ''),
      fields: parseFieldSelector(resource, options.fieldSelector ?? ''),
    };
  } catch (error) {
    if (error instanceof SelectorError) {
      // What the server says for the same selector (400 BadRequest), so callers see one error either way.
      throw new StuckfailedError('INPUT', `invalid selector for ${resource}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

function storageKey(object: KubeObject, namespaced: boolean): string {
  return namespaced ? `${object.metadata.namespace ?? ''}/${object.metadata.name}` : object.metadata.name;
}

function logKey(log: { namespace: string; pod: string; container: string }): string {
  return `${log.namespace}/${log.pod}/${log.container}`;
}
