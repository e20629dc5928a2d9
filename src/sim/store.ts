// The simulator's object store: what etcd plus the registry strategies are to a real apiserver, sized for
// 100,000 pods. Each resource keeps its objects under sorted storage keys (`namespace/name`, the order of etcd's
// keys and so of every list), each object as its serialized JSON (lists stream bytes without re-encoding) plus
// the labels and selectable fields that selectors read. One resourceVersion counter grows across all resources
// (etcd's revision). A bounded history of changes per resource serves watches from a resourceVersion and
// consistent paged lists "as of" the first page's resourceVersion (MVCC); older versions answer 410 Expired.

import { randomUUID } from 'node:crypto';
import { RESOURCES, type ResourceType } from '../kube/resources.js';
import {
  type FieldSelector,
  type LabelSelector,
  matchesFieldValues,
  matchesLabels,
  requiredFieldValue,
  type SelectableFields,
  selectableFields,
} from '../kube/selectors.js';
import type { KubeObject, Pod } from '../kube/types.js';
import { alreadyExists, conflict, notFound, resourceVersionExpired } from './api-status.js';

/**
 * A collection's name: a key of RESOURCES for the built-in kinds, `<plural>.<group>` for the resources of a
 * CustomResourceDefinition (registered while the simulator runs).
 */
export type StoreResource = string;

export interface StoredObject {
  readonly resource: StoreResource;
  /** The storage key: `namespace/name`, or `name` for cluster-scoped resources. */
  readonly key: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: number;
  /**
   * The object as UTF-8 JSON, metadata.resourceVersion included. Bytes rather than a string: lists concatenate
   * them without re-encoding, and they live outside the V8 heap, which keeps garbage collection cheap at 100k pods.
   */
  readonly body: Buffer;
  readonly labels: Readonly<Record<string, string>> | undefined;
  readonly fields: SelectableFields;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: StoreEventType;
  readonly resourceVersion: number;
  /** The new state; for DELETED the last state, stamped with the deletion's resourceVersion. */
  readonly object: StoredObject;
  /** The state before this change (undefined for ADDED). */
  readonly previous: StoredObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

export interface ListQuery {
  /** Only this namespace (undefined: all). */
  namespace?: string | undefined;
  labelSelector?: LabelSelector | undefined;
  fieldSelector?: FieldSelector | undefined;
  /** At most this many items (undefined or 0: all). */
  limit?: number | undefined;
  /** Start at this storage key, inclusive (a continue token's `lastKey + "\u0000"`). */
  startAt?: string | undefined;
  /** Read as of this resourceVersion (a continue token's); undefined: the latest. */
  resourceVersion?: number | undefined;
}

export interface ListPage {
  items: StoredObject[];
  /** The resourceVersion the page was read at. */
  resourceVersion: number;
  /** Where the next page starts (`lastKey + "\u0000"`, as etcd3's continue) when more keys remain in range. */
  continueAt: string | undefined;
  /** Keys left after this page; only without selectors, as the real apiserver does. */
  remainingItemCount: number | undefined;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number | undefined;
  preconditions?: { uid?: string | undefined; resourceVersion?: string | undefined } | undefined;
  propagationPolicy?: string | undefined;
  /** dryRun=All: validate and answer, change nothing. */
  dryRun?: boolean | undefined;
}

export interface DeleteResult {
  /** The object as deleted (removed now) or as marked for deletion (graceful, finalizers). */
  object: StoredObject;
  removed: boolean;
}

/** Lays down initial objects one by one; see ObjectStore.bulkLoader. */
export interface BulkLoader {
  add(resource: StoreResource, object: KubeObject): void;
  /** Makes the objects added so far listable in key order. Call once, before serving. */
  finish(): void;
}

export interface ObjectStoreOptions {
  /** Milliseconds since the epoch; injected so tests control deletion timestamps and the kubelet. */
  clock?: (() => number) | undefined;
  /** Changes kept per resource for watches and consistent continues (etcd compaction's window). */
  historyLimit?: number | undefined;
  /** Run the simulated kubelet on timers (default true); tests may call runKubelet() themselves. */
  kubeletTimers?: boolean | undefined;
}

interface Collection {
  type: ResourceType;
  byKey: Map<string, StoredObject>;
  /** Sorted storage keys: lists are ordered by key and continue by binary search. */
  keys: string[];
  history: StoreEvent[];
  /** Versions at or below this are gone from the history (compacted). */
  compactedThrough: number;
  listeners: Set<StoreListener>;
}

const DEFAULT_HISTORY_LIMIT = 10_000;
// pod spec default (pkg/apis/core/v1/defaults.go: DefaultTerminationGracePeriodSeconds).
const DEFAULT_TERMINATION_GRACE_SECONDS = 30;

/** The stored object, parsed (a fresh copy the caller may change). */
/**
 * Labels and annotations are Go maps with `omitempty`: the apiserver never stores an empty one, so a patch that
 * removes the last annotation leaves no `annotations` key behind.
 */
function omitEmptyMaps(metadata: KubeObject['metadata']): void {
  if (metadata.labels !== undefined && Object.keys(metadata.labels).length === 0) delete metadata.labels;
  if (metadata.annotations !== undefined && Object.keys(metadata.annotations).length === 0) {
    delete metadata.annotations;
  }
}

export function decodeObject<T extends KubeObject = KubeObject>(stored: StoredObject): T {
  return JSON.parse(stored.body.toString('utf8')) as T;
}

export function storageKey(namespace: string | undefined, name: string): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function lowerBound(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function rfc3339(milliseconds: number): string {
  return `${new Date(milliseconds).toISOString().slice(0, 19)}Z`;
}

/**
 * Packs many small JSON bodies into a few large buffers. One Buffer per object would be one ArrayBuffer each for
 * pods (9 KB, above Node's 4 KB pool size), and V8 runs a full garbage collection every time external memory
 * grows past its limit: loading 100k pods that way takes minutes. A slab lives as long as any object in it.
 */
class ByteArena {
  private static readonly SLAB_BYTES = 32 * 1024 * 1024;
  private slab = Buffer.allocUnsafe(0);
  private used = 0;

  copy(text: string): Buffer {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: with that much room left, write without measuring first.
    if (this.used + text.length * 3 > this.slab.length) {
      const length = Buffer.byteLength(text);
      if (this.used + length > this.slab.length) {
        this.slab = Buffer.allocUnsafe(Math.max(ByteArena.SLAB_BYTES, length));
        this.used = 0;
      }
    }
    const start = this.used;
    this.used += this.slab.write(text, start);
    return this.slab.subarray(start, this.used);
  }
}

export class ObjectStore {
  private readonly collections = new Map<StoreResource, Collection>();
  private readonly clock: () => number;
  private readonly historyLimit: number;
  private readonly kubeletTimers: boolean;
  private revision = 1;
  /** Graceful pod deletions in flight: storage key -> when the simulated kubelet finishes them (ms). */
  private readonly terminating = new Map<string, number>();
  private kubeletTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: ObjectStoreOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this.kubeletTimers = options.kubeletTimers ?? true;
    for (const [name, type] of Object.entries(RESOURCES)) this.register(name, type);
  }

  /** Adds a collection (a CustomResourceDefinition's resource); an existing one keeps its objects. */
  register(resource: StoreResource, type: ResourceType): void {
    const existing = this.collections.get(resource);
    if (existing !== undefined) {
      existing.type = type;
      return;
    }
    this.collections.set(resource, {
      type,
      byKey: new Map(),
      keys: [],
      history: [],
      compactedThrough: this.revision,
      listeners: new Set(),
    });
  }

  /**
   * Removes a collection and its objects (a deleted CustomResourceDefinition): open watches get each object's
   * DELETED event first, as the CRD's finalizer deletes every custom resource before the CRD goes.
   */
  unregister(resource: StoreResource): void {
    const collection = this.collection(resource);
    for (const key of [...collection.keys]) {
      const stored = collection.byKey.get(key);
      if (stored !== undefined) this.removeNow(resource, stored, false);
    }
    this.collections.delete(resource);
  }

  has(resource: StoreResource): boolean {
    return this.collections.has(resource);
  }

  /** The current resourceVersion (the latest write's). */
  get resourceVersion(): number {
    return this.revision;
  }

  count(resource: StoreResource): number {
    return this.collection(resource).keys.length;
  }

  /**
   * Lays down initial objects without watch events (a cluster that existed before anybody watched): versions
   * up to now count as compacted. Objects already stored under the same key are replaced.
   */
  load(resource: StoreResource, objects: Iterable<KubeObject>): void {
    const loader = this.bulkLoader();
    for (const object of objects) loader.add(resource, object);
    loader.finish();
  }

  /**
   * load() one object at a time, of any resource, for a caller that makes them as it goes (a scenario at 100k
   * pods): each object is serialized as it arrives and can be dropped at once, so the cluster is never held as
   * objects, which is what made garbage collection dominate the simulator's start. finish() sorts the keys.
   */
  bulkLoader(): BulkLoader {
    const arena = new ByteArena();
    const grown = new Set<Collection>();
    const touched = new Set<Collection>();
    return {
      add: (resource, object) => {
        const collection = this.collection(resource);
        const stored = this.serialize(resource, object, ++this.revision, arena);
        if (!collection.byKey.has(stored.key)) {
          collection.keys.push(stored.key);
          grown.add(collection);
        }
        collection.byKey.set(stored.key, stored);
        touched.add(collection);
      },
      finish: () => {
        for (const collection of grown) collection.keys.sort();
        for (const collection of touched) collection.compactedThrough = this.revision;
      },
    };
  }

  get(resource: StoreResource, namespace: string | undefined, name: string): StoredObject | undefined {
    return this.collection(resource).byKey.get(storageKey(this.scope(resource, namespace), name));
  }

  /** Every stored object of a resource in key order, lazily (kube-state-metrics, snapshots). */
  *objects(resource: StoreResource): IterableIterator<StoredObject> {
    const collection = this.collection(resource);
    for (const key of collection.keys) {
      const stored = collection.byKey.get(key);
      if (stored !== undefined) yield stored;
    }
  }

  /** POST: a new object; 409 AlreadyExists when the key is taken. */
  create(resource: StoreResource, object: KubeObject): StoredObject {
    const collection = this.collection(resource);
    const key = storageKey(this.scope(resource, object.metadata.namespace), object.metadata.name);
    if (collection.byKey.has(key)) throw alreadyExists(collection.type, object.metadata.name);
    return this.write(resource, object);
  }

  /**
   * PUT: replaces an existing object; a stale metadata.resourceVersion is a 409 Conflict (optimistic
   * concurrency, as leader election relies on).
   */
  update(resource: StoreResource, object: KubeObject, options: { dryRun?: boolean } = {}): StoredObject {
    const collection = this.collection(resource);
    const current = this.get(resource, object.metadata.namespace, object.metadata.name);
    if (current === undefined) throw notFound(collection.type, object.metadata.name);
    const expected = object.metadata.resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== String(current.resourceVersion)) {
      throw conflict(
        collection.type,
        object.metadata.name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    }
    const previous = decodeObject(current) as KubeObject;
    // Server-owned metadata survives an update, as in the registry's PrepareForUpdate.
    const merged: KubeObject = {
      ...object,
      metadata: {
        ...object.metadata,
        uid: current.uid,
        ...(previous.metadata.creationTimestamp === undefined
          ? {}
          : { creationTimestamp: previous.metadata.creationTimestamp }),
        ...(previous.metadata.deletionTimestamp === undefined
          ? {}
          : {
              deletionTimestamp: previous.metadata.deletionTimestamp,
              deletionGracePeriodSeconds: previous.metadata.deletionGracePeriodSeconds ?? 0,
            }),
      },
    };
    omitEmptyMaps(merged.metadata);
    // dryRun=All: validated (preconditions included) and answered as it would be stored, nothing written.
    if (options.dryRun) return this.serialize(resource, merged, current.resourceVersion);
    const stored = this.write(resource, merged);
    this.removeIfFinalized(resource, stored, merged);
    return this.get(resource, object.metadata.namespace, object.metadata.name) ?? stored;
  }

  /** Creates or replaces without preconditions: scenarios, churn and tests lay objects down with it. */
  put(resource: StoreResource, object: KubeObject): StoredObject {
    return this.write(resource, object);
  }

  /**
   * DELETE of one object with the registry's rules (apiserver.md §4.5): preconditions, the pod grace period
   * (pkg/registry/core/pod/strategy.go CheckGracefulDelete), finalizers, dryRun.
   */
  delete(
    resource: StoreResource,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions = {},
  ): DeleteResult {
    const collection = this.collection(resource);
    const current = this.get(resource, namespace, name);
    if (current === undefined) throw notFound(collection.type, name);
    const preconditions = options.preconditions;
    if (preconditions?.uid !== undefined && preconditions.uid !== current.uid) {
      throw conflict(
        collection.type,
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.uid}`,
      );
    }
    if (
      preconditions?.resourceVersion !== undefined &&
      preconditions.resourceVersion !== String(current.resourceVersion)
    ) {
      throw conflict(
        collection.type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.resourceVersion}`,
      );
    }
    const object = decodeObject(current) as KubeObject;
    const grace = resource === 'pods' ? podGracePeriod(object as Pod, options.gracePeriodSeconds) : 0;
    const finalizers = object.metadata.finalizers ?? [];
    const now = this.clock();

    if (object.metadata.deletionTimestamp !== undefined) {
      // Already terminating: a repeat DELETE may only shorten the grace period (rest.BeforeDelete).
      const deadline = Date.parse(object.metadata.deletionTimestamp);
      const shortened = now + grace * 1000 < deadline;
      if (grace === 0 && finalizers.length === 0)
        return this.removeNow(resource, current, options.dryRun, object);
      if (!shortened || options.dryRun) return { object: current, removed: false };
      return { object: this.markTerminating(resource, object, grace, now), removed: false };
    }
    if (grace === 0 && finalizers.length === 0)
      return this.removeNow(resource, current, options.dryRun, object);
    if (options.dryRun) {
      return {
        object: this.serialize(resource, withDeletion(object, grace, now), current.resourceVersion),
        removed: false,
      };
    }
    return { object: this.markTerminating(resource, object, grace, now), removed: false };
  }

  /**
   * DELETE collection (apiserver.md §4.6): the single-delete rules for each match, not atomic. Returns the
   * objects as deleted, in key order.
   */
  deleteCollection(
    resource: StoreResource,
    query: Pick<ListQuery, 'namespace' | 'labelSelector' | 'fieldSelector'>,
    options: DeleteOptions = {},
  ): StoredObject[] {
    const page = this.list(resource, { ...query, limit: undefined, startAt: undefined });
    const deleted: StoredObject[] = [];
    for (const item of page.items) {
      if (this.get(resource, item.namespace, item.name) === undefined) continue;
      deleted.push(
        this.delete(resource, item.namespace, item.name, { ...options, preconditions: undefined }).object,
      );
    }
    return deleted;
  }

  /**
   * One page of a list. With `resourceVersion` older than the latest, reads as of that version (undoing the
   * newer changes from the history); 410 when it is compacted.
   */
  list(resource: StoreResource, query: ListQuery = {}): ListPage {
    const collection = this.collection(resource);
    const readAt = query.resourceVersion ?? this.revision;
    const overlay = this.overlayFor(collection, readAt);
    const labelSelector = query.labelSelector ?? [];
    const fieldSelector = query.fieldSelector ?? [];
    const namespace = this.scope(
      resource,
      query.namespace ?? requiredFieldValue(fieldSelector, 'metadata.namespace'),
    );
    const limit = query.limit !== undefined && query.limit > 0 ? query.limit : Number.POSITIVE_INFINITY;
    const prefix = namespace === undefined ? '' : `${namespace}/`;
    const items: StoredObject[] = [];
    let continueAt: string | undefined;
    let lastKey: string | undefined;

    const candidates = this.keysInRange(collection, overlay, prefix, query.startAt);
    for (const key of candidates) {
      const stored = overlay.has(key) ? overlay.get(key) : collection.byKey.get(key);
      if (stored === undefined) continue;
      if (items.length >= limit) {
        continueAt = `${lastKey}\u0000`;
        break;
      }
      lastKey = key;
      if (!matchesFieldValues(fieldSelector, stored.fields)) continue;
      if (!matchesLabels(labelSelector, stored.labels)) continue;
      items.push(stored);
    }
    let remainingItemCount: number | undefined;
    if (continueAt !== undefined && labelSelector.length === 0 && fieldSelector.length === 0) {
      remainingItemCount = this.countInRange(collection, overlay, prefix, continueAt);
    }
    return { items, resourceVersion: readAt, continueAt, remainingItemCount };
  }

  /** The changes after `resourceVersion`, oldest first; 410 Expired when some are compacted away. */
  changesSince(resource: StoreResource, resourceVersion: number): StoreEvent[] {
    const collection = this.collection(resource);
    this.assertRetained(collection, resourceVersion);
    const history = collection.history;
    let low = 0;
    let high = history.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((history[middle] as StoreEvent).resourceVersion <= resourceVersion) low = middle + 1;
      else high = middle;
    }
    return history.slice(low);
  }

  /** Throws 410 Expired when reads at `resourceVersion` are no longer possible. */
  assertReadable(resource: StoreResource, resourceVersion: number): void {
    this.assertRetained(this.collection(resource), resourceVersion);
  }

  /** Calls `listener` for every later change of `resource`; returns the unsubscribe function. */
  subscribe(resource: StoreResource, listener: StoreListener): () => void {
    const listeners = this.collection(resource).listeners;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * The simulated kubelet: finishes the graceful pod deletions that are due (all of them with `force`),
   * removing each pod that has no finalizers left.
   */
  runKubelet(force = false): number {
    const now = this.clock();
    let finished = 0;
    for (const [key, deadline] of [...this.terminating]) {
      if (!force && deadline > now) continue;
      this.terminating.delete(key);
      const stored = this.collection('pods').byKey.get(key);
      if (stored === undefined) continue;
      const pod = decodeObject(stored) as Pod;
      if ((pod.metadata.finalizers ?? []).length === 0) {
        this.removeNow('pods', stored, false);
        finished += 1;
      } else {
        // The kubelet's final DELETE has grace 0; the finalizers keep the pod until they are removed.
        pod.metadata.deletionGracePeriodSeconds = 0;
        this.write('pods', pod);
      }
    }
    this.scheduleKubelet();
    return finished;
  }

  /** Stops the kubelet timer; the store stays readable. */
  close(): void {
    this.closed = true;
    if (this.kubeletTimer !== undefined) clearTimeout(this.kubeletTimer);
    this.kubeletTimer = undefined;
  }

  private collection(resource: StoreResource): Collection {
    const collection = this.collections.get(resource);
    if (collection === undefined) throw new Error(`unknown resource ${resource}`);
    return collection;
  }

  private scope(resource: StoreResource, namespace: string | undefined): string | undefined {
    return this.collection(resource).type.namespaced ? namespace : undefined;
  }

  private serialize(
    resource: StoreResource,
    object: KubeObject,
    resourceVersion: number,
    arena?: ByteArena,
  ): StoredObject {
    const type = this.collection(resource).type;
    const namespace = this.scope(resource, object.metadata.namespace);
    if (type.namespaced && (namespace === undefined || namespace === '')) {
      throw new Error(`${type.kind} ${object.metadata.name} has no namespace`);
    }
    const uid = object.metadata.uid ?? randomUUID();
    const normalized: KubeObject = {
      ...object,
      apiVersion: type.group === '' ? type.version : `${type.group}/${type.version}`,
      kind: type.kind,
      metadata: {
        ...object.metadata,
        uid,
        resourceVersion: String(resourceVersion),
        creationTimestamp: object.metadata.creationTimestamp ?? rfc3339(this.clock()),
      },
    };
    return {
      resource,
      key: storageKey(namespace, object.metadata.name),
      namespace,
      name: object.metadata.name,
      uid,
      resourceVersion,
      body:
        arena === undefined
          ? Buffer.from(JSON.stringify(normalized))
          : arena.copy(JSON.stringify(normalized)),
      labels: object.metadata.labels,
      fields: withoutEmptyValues(selectableFields(resource, normalized, type.namespaced)),
    };
  }

  private write(resource: StoreResource, object: KubeObject): StoredObject {
    const collection = this.collection(resource);
    const stored = this.serialize(resource, object, ++this.revision);
    const previous = collection.byKey.get(stored.key);
    collection.byKey.set(stored.key, stored);
    if (previous === undefined)
      collection.keys.splice(lowerBound(collection.keys, stored.key), 0, stored.key);
    this.record(collection, {
      type: previous === undefined ? 'ADDED' : 'MODIFIED',
      resourceVersion: stored.resourceVersion,
      object: stored,
      previous,
    });
    return stored;
  }

  /** `object`: the stored object as decoded already by the caller, if it has it (a pod is 7 KB of JSON). */
  private removeNow(
    resource: StoreResource,
    current: StoredObject,
    dryRun: boolean | undefined,
    object: KubeObject = decodeObject(current),
  ): DeleteResult {
    if (dryRun) return { object: current, removed: true };
    const collection = this.collection(resource);
    const last = this.serialize(resource, object, ++this.revision);
    collection.byKey.delete(current.key);
    const index = lowerBound(collection.keys, current.key);
    if (collection.keys[index] === current.key) collection.keys.splice(index, 1);
    this.terminating.delete(current.key);
    this.record(collection, {
      type: 'DELETED',
      resourceVersion: last.resourceVersion,
      object: last,
      previous: current,
    });
    return { object: last, removed: true };
  }

  private markTerminating(
    resource: StoreResource,
    object: KubeObject,
    grace: number,
    now: number,
  ): StoredObject {
    const stored = this.write(resource, withDeletion(object, grace, now));
    if (resource === 'pods' && grace > 0) {
      this.terminating.set(stored.key, now + grace * 1000);
      this.scheduleKubelet();
    }
    return stored;
  }

  // Finalizers removed from an object marked for deletion: the apiserver deletes it on that update.
  private removeIfFinalized(resource: StoreResource, stored: StoredObject, object: KubeObject): void {
    if (object.metadata.deletionTimestamp === undefined) return;
    if ((object.metadata.finalizers ?? []).length > 0) return;
    if (resource === 'pods' && this.terminating.has(stored.key)) return;
    this.removeNow(resource, stored, false);
  }

  private record(collection: Collection, event: StoreEvent): void {
    collection.history.push(event);
    if (collection.history.length > this.historyLimit * 2) {
      const dropped = collection.history.splice(0, collection.history.length - this.historyLimit);
      collection.compactedThrough = Math.max(
        collection.compactedThrough,
        (dropped[dropped.length - 1] as StoreEvent).resourceVersion,
      );
    }
    for (const listener of collection.listeners) listener(event);
  }

  private assertRetained(collection: Collection, resourceVersion: number): void {
    // Reading at version R needs every change after R; the last compacted change must be at or before R.
    if (resourceVersion < collection.compactedThrough && resourceVersion < this.revision) {
      const oldest = collection.history[0]?.resourceVersion ?? this.revision;
      throw resourceVersionExpired(resourceVersion, oldest);
    }
  }

  /** key -> the object as of `resourceVersion` (undefined: absent then), for keys changed since. */
  private overlayFor(collection: Collection, resourceVersion: number): Map<string, StoredObject | undefined> {
    const overlay = new Map<string, StoredObject | undefined>();
    if (resourceVersion >= this.revision) return overlay;
    this.assertRetained(collection, resourceVersion);
    const history = collection.history;
    for (let index = history.length - 1; index >= 0; index -= 1) {
      const event = history[index] as StoreEvent;
      if (event.resourceVersion <= resourceVersion) break;
      overlay.set(event.object.key, event.previous);
    }
    return overlay;
  }

  /** Objects from `startAt` on under `prefix` as of the overlay's version: binary searches, then the overlay. */
  private countInRange(
    collection: Collection,
    overlay: Map<string, StoredObject | undefined>,
    prefix: string,
    startAt: string,
  ): number {
    const keys = collection.keys;
    // The first key past the prefix range: the prefix with its last character incremented ('ns/' -> 'ns0').
    const end =
      prefix === ''
        ? keys.length
        : lowerBound(
            keys,
            prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1),
          );
    let count = Math.max(0, end - lowerBound(keys, startAt > prefix ? startAt : prefix));
    for (const [key, then] of overlay) {
      if (!key.startsWith(prefix) || key < startAt) continue;
      const now = collection.byKey.has(key);
      if (then !== undefined && !now) count += 1;
      if (then === undefined && now) count -= 1;
    }
    return count;
  }

  /** Keys from `startAt` on with `prefix`, current and historical merged, in order. */
  private *keysInRange(
    collection: Collection,
    overlay: Map<string, StoredObject | undefined>,
    prefix: string,
    startAt: string | undefined,
  ): IterableIterator<string> {
    const keys = collection.keys;
    const from = startAt !== undefined && startAt > prefix ? startAt : prefix;
    let index = lowerBound(keys, from);
    const extra = [...overlay.keys()]
      .filter((key) => !collection.byKey.has(key) && key.startsWith(prefix) && key >= from)
      .sort();
    let extraIndex = 0;
    for (;;) {
      const current = keys[index];
      const inRange = current?.startsWith(prefix) === true;
      const historical = extra[extraIndex];
      if (!inRange && historical === undefined) return;
      if (historical !== undefined && (!inRange || historical < (current as string))) {
        extraIndex += 1;
        yield historical;
      } else {
        index += 1;
        yield current as string;
      }
    }
  }

  private scheduleKubelet(): void {
    if (!this.kubeletTimers || this.closed) return;
    if (this.kubeletTimer !== undefined) clearTimeout(this.kubeletTimer);
    this.kubeletTimer = undefined;
    if (this.terminating.size === 0) return;
    const next = Math.min(...this.terminating.values());
    this.kubeletTimer = setTimeout(
      () => {
        this.kubeletTimer = undefined;
        this.runKubelet();
      },
      Math.max(0, next - this.clock()),
    );
  }
}

/**
 * The grace period the registry applies to a pod deletion: the request's, else the pod's, else 30 s; forced to
 * 0 for pods that never ran or have finished (Failed/Succeeded) or are not scheduled; negative becomes 1.
 */
export function podGracePeriod(pod: Pod, requested: number | undefined): number {
  const phase = pod.status?.phase;
  if (!pod.spec?.nodeName || phase === 'Failed' || phase === 'Succeeded') return 0;
  const grace = requested ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS;
  return grace < 0 ? 1 : grace;
}

/**
 * Selectable fields minus the empty ones: matchesFieldValues reads a missing field as "", so the answer is the
 * same, and most of an event's or a pod's fields are empty (fieldPath, uid, nominatedNodeName...): at 100k pods
 * the stored objects' fields were a good part of the heap every garbage collection walks.
 */
function withoutEmptyValues(fields: SelectableFields): SelectableFields {
  const kept: Record<string, string> = {};
  for (const name in fields) {
    const value = fields[name];
    if (value !== undefined && value !== '') kept[name] = value;
  }
  return kept;
}

function withDeletion(object: KubeObject, grace: number, now: number): KubeObject {
  return {
    ...object,
    metadata: {
      ...object.metadata,
      deletionTimestamp: rfc3339(now + grace * 1000),
      deletionGracePeriodSeconds: grace,
    },
  };
}
