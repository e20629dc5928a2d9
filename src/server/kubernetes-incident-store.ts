// Incidents as `incidents.stuckfailed.io` custom resources (deploy/base/crd.yaml), so that every replica of `serve`
// reads and writes the same records in the cluster's own replicated store. The object's resourceVersion is the
// store's version: every write is conditional on it (optimistic concurrency), so two replicas never overwrite each
// other, and the journal (status.actions) a replica writes is what another one resumes from.
//
// Layout. `spec` is what never changes once the incident is opened (the alert group, when it opened); `status`,
// written through the status subresource only, is everything else. One write per change: a PUT of /status with
// the resourceVersion read, never a spec write and a status write that could be split by a crash.
//
// Names. An incident's name is derived from its alert group (`sf-<sha256(groupKey) prefix>-<n>`, n counting the
// group's incidents), so two replicas that open an incident for the same notification race for the same name: the
// create that loses gets 409 AlreadyExists, reads the winner's, and joins it.
//
// Size. etcd refuses objects over 1.5 MiB. The incident is written as is while its JSON stays under
// MAX_PLAIN_BYTES; above that, the diagnosis, plan, journal and progress go gzipped (base64) into
// status.compressed; if even that is over, the diagnosis is left out (the next one re-reads the cluster) and
// status.diagnosisOmitted says so. The plan and the journal are never dropped: they are what a resume needs.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { isApiError } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { Diagnosis } from '../diagnosis/types.js';
import type { KubeObject } from '../kube/types.js';
import type { JournalEntry, Plan, StepProgress } from '../mitigation/plan.js';
import type {
  Incident,
  IncidentApproval,
  IncidentAuditEvent,
  IncidentNotification,
  IncidentStatus,
  IncidentValidation,
} from './incident.js';
import {
  type GroupDecision,
  type IncidentStore,
  StoreConflictError,
  type StoredIncident,
} from './incident-store.js';

/** etcd's default --max-request-bytes is 1.5 MiB; leave room for metadata and managedFields. */
export const MAX_OBJECT_BYTES = 1_400_000;
/** Below this the incident is stored uncompressed, readable with `kubectl get incident -o yaml`. */
export const MAX_PLAIN_BYTES = 900_000;

export const GROUP_LABEL = 'stuckfailed.io/alert-group';
const NAME_PREFIX = 'sf-';

interface IncidentSpec {
  alert: { name: string; groupKey: string; fingerprint?: string; startsAt: string };
  openedAt: string;
}

/** The parts that can be large: stored as they are, or gzipped together. */
interface LargeParts {
  diagnosis?: Diagnosis;
  plan?: Plan;
  actions: JournalEntry[];
  progress?: Record<string, StepProgress>;
}

interface IncidentResourceStatus extends Partial<LargeParts> {
  phase: IncidentStatus;
  alertState: 'firing' | 'resolved';
  labels: Record<string, string>;
  closedAt?: string;
  /** Printer columns: Failed launchers and top cause at the latest diagnosis. */
  failedLaunchers?: number;
  topCause?: string;
  notifications: IncidentNotification[];
  approvals: IncidentApproval[];
  audit: IncidentAuditEvent[];
  validation?: IncidentValidation;
  /** base64 of gzip of LargeParts' JSON, when the plain form would be too large. */
  compressed?: string;
  /** Why the diagnosis is not stored (too large even compressed). */
  diagnosisOmitted?: string;
}

export interface IncidentResource extends KubeObject {
  spec: IncidentSpec;
  status?: IncidentResourceStatus;
}

/** The label value and name stem of an alert group: label values are at most 63 characters. */
export function groupHash(groupKey: string): string {
  return createHash('sha256').update(groupKey).digest('hex').slice(0, 32);
}

function sequenceOf(name: string): number {
  const match = /-(\d+)$/.exec(name);
  return match === null ? 0 : Number(match[1]);
}

function versionOf(object: KubeObject): number {
  const version = Number(object.metadata.resourceVersion);
  // resourceVersions are opaque to clients, but every apiserver on etcd3 sends its revision: a decimal integer.
  if (!Number.isSafeInteger(version)) {
    throw new Error(`incident ${object.metadata.name} has a non-numeric resourceVersion`);
  }
  return version;
}

function newestFirst(a: StoredIncident, b: StoredIncident): number {
  const byTime = b.incident.openedAt.localeCompare(a.incident.openedAt);
  return byTime !== 0 ? byTime : b.incident.id.localeCompare(a.incident.id);
}

/** The status of an incident whose creator has not written its status yet: open, nothing recorded. */
function initialStatus(spec: IncidentSpec): IncidentResourceStatus {
  return {
    phase: 'open',
    alertState: 'firing',
    labels: {},
    notifications: [],
    approvals: [],
    actions: [],
    audit: [{ time: spec.openedAt, what: 'opened', detail: `alert group ${spec.alert.groupKey}` }],
  };
}

export function toResource(incident: Incident, namespace: string): IncidentResource {
  const { alert } = incident;
  const spec: IncidentSpec = {
    alert: {
      name: alert.name,
      groupKey: alert.groupKey,
      ...(alert.fingerprint === undefined ? {} : { fingerprint: alert.fingerprint }),
      startsAt: alert.startsAt,
    },
    openedAt: incident.openedAt,
  };
  const top = incident.diagnosis?.causes.reduce<Diagnosis['causes'][number] | undefined>(
    (best, cause) => (best === undefined || cause.pods > best.pods ? cause : best),
    undefined,
  );
  const status: IncidentResourceStatus = {
    phase: incident.status,
    alertState: alert.state,
    labels: alert.labels,
    ...(incident.closedAt === undefined ? {} : { closedAt: incident.closedAt }),
    ...(incident.diagnosis === undefined ? {} : { failedLaunchers: incident.diagnosis.failedLaunchers }),
    ...(top === undefined ? {} : { topCause: top.category }),
    notifications: incident.notifications,
    approvals: incident.approvals,
    audit: incident.audit,
    ...(incident.validation === undefined ? {} : { validation: incident.validation }),
  };
  const large: LargeParts = {
    ...(incident.diagnosis === undefined ? {} : { diagnosis: incident.diagnosis }),
    ...(incident.plan === undefined ? {} : { plan: incident.plan }),
    actions: incident.actions,
    ...(incident.progress === undefined ? {} : { progress: incident.progress }),
  };
  const resource: IncidentResource = {
    metadata: {
      name: incident.id,
      namespace,
      labels: { [GROUP_LABEL]: groupHash(alert.groupKey) },
    },
    spec,
    status: { ...status, ...large },
  };
  if (Buffer.byteLength(JSON.stringify(resource)) <= MAX_PLAIN_BYTES) return resource;
  let compressed = gzipSync(JSON.stringify(large)).toString('base64');
  let omitted: string | undefined;
  if (compressed.length > MAX_OBJECT_BYTES - Buffer.byteLength(JSON.stringify(status))) {
    const { diagnosis: _dropped, ...rest } = large;
    compressed = gzipSync(JSON.stringify(rest)).toString('base64');
    omitted = `the diagnosis is over etcd's object size limit even compressed; see the audit for its summary`;
  }
  resource.status = {
    ...status,
    compressed,
    ...(omitted === undefined ? {} : { diagnosisOmitted: omitted }),
  };
  return resource;
}

export function fromResource(resource: IncidentResource): Incident {
  const { spec } = resource;
  const status = resource.status ?? initialStatus(spec);
  const large: Partial<LargeParts> =
    status.compressed === undefined
      ? status
      : (JSON.parse(gunzipSync(Buffer.from(status.compressed, 'base64')).toString('utf8')) as LargeParts);
  const incident: Incident = {
    id: resource.metadata.name,
    status: status.phase,
    alert: {
      name: spec.alert.name,
      groupKey: spec.alert.groupKey,
      ...(spec.alert.fingerprint === undefined ? {} : { fingerprint: spec.alert.fingerprint }),
      labels: status.labels ?? {},
      startsAt: spec.alert.startsAt,
      state: status.alertState,
    },
    openedAt: spec.openedAt,
    notifications: status.notifications ?? [],
    approvals: status.approvals ?? [],
    actions: large.actions ?? [],
    audit: status.audit ?? [],
  };
  if (status.closedAt !== undefined) incident.closedAt = status.closedAt;
  if (large.diagnosis !== undefined) incident.diagnosis = large.diagnosis;
  if (large.plan !== undefined) incident.plan = large.plan;
  if (large.progress !== undefined) incident.progress = large.progress;
  if (status.validation !== undefined) incident.validation = status.validation;
  return incident;
}

export interface KubernetesIncidentStoreOptions {
  api: KubeApi;
  /** Where the incidents live: serve's own namespace. */
  namespace: string;
}

export class KubernetesIncidentStore implements IncidentStore {
  readonly namespace: string;
  readonly #api: KubeApi;

  constructor(options: KubernetesIncidentStoreOptions) {
    this.#api = options.api;
    this.namespace = options.namespace;
  }

  /** Where the store is, for serve's banner. */
  describe(): string {
    return `incidents.stuckfailed.io in namespace ${this.namespace}`;
  }

  #stored(resource: IncidentResource): StoredIncident {
    return { incident: fromResource(resource), version: versionOf(resource) };
  }

  async get(id: string): Promise<StoredIncident | undefined> {
    const resource = await this.#api.get<IncidentResource>('incidents', id, this.namespace);
    return resource === undefined ? undefined : this.#stored(resource);
  }

  async list(): Promise<StoredIncident[]> {
    return (await this.#listResources()).map((resource) => this.#stored(resource)).sort(newestFirst);
  }

  async #listResources(labelSelector?: string): Promise<IncidentResource[]> {
    const items: IncidentResource[] = [];
    for await (const item of this.#api.list<IncidentResource>('incidents', {
      namespace: this.namespace,
      ...(labelSelector === undefined ? {} : { labelSelector }),
    })) {
      items.push(item);
    }
    return items;
  }

  /**
   * Read the group's incidents, decide, write conditionally; on a conflict (another replica wrote first) read
   * again and decide again, so the decision is always made on what is stored.
   */
  async upsertByGroupKey(
    groupKey: string,
    decide: (latest: StoredIncident | undefined) => GroupDecision,
  ): Promise<{ stored: StoredIncident; created: boolean } | undefined> {
    const hash = groupHash(groupKey);
    let createdName: string | undefined;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const group = (await this.#listResources(`${GROUP_LABEL}=${hash}`)).filter(
        (resource) => resource.spec.alert.groupKey === groupKey,
      );
      const latest = group.reduce<IncidentResource | undefined>(
        (best, resource) =>
          best === undefined || sequenceOf(resource.metadata.name) > sequenceOf(best.metadata.name)
            ? resource
            : best,
        undefined,
      );
      const latestStored = latest === undefined ? undefined : this.#stored(latest);
      const decision = decide(latestStored === undefined ? undefined : structuredClone(latestStored));
      if (decision === undefined) return undefined;
      if ('join' in decision) {
        if (latestStored === undefined || decision.join.id !== latestStored.incident.id) {
          throw new Error(`joined incident ${decision.join.id} is not the group's latest`);
        }
        try {
          const stored = await this.update(decision.join, latestStored.version);
          return { stored, created: stored.incident.id === createdName };
        } catch (error) {
          if (error instanceof StoreConflictError) continue;
          throw error;
        }
      }
      const name = `${NAME_PREFIX}${hash}-${latest === undefined ? 1 : sequenceOf(latest.metadata.name) + 1}`;
      const incident: Incident = { ...decision.create, id: name };
      const resource = toResource(incident, this.namespace);
      let created: IncidentResource;
      try {
        created = await this.#api.create<IncidentResource>('incidents', this.namespace, {
          metadata: resource.metadata,
          spec: resource.spec,
        });
      } catch (error) {
        // Another replica created it first: decide again on what it stored (a join).
        if (isApiError(error, 409)) continue;
        throw error;
      }
      createdName = name;
      try {
        const stored = await this.#writeStatus(resource, versionOf(created));
        return { stored, created: true };
      } catch (error) {
        // Another replica joined the new incident before its first status write: decide again.
        if (error instanceof StoreConflictError) continue;
        throw error;
      }
    }
    throw new Error(`alert group ${groupKey}: too many conflicting writes; the next delivery retries`);
  }

  async update(incident: Incident, expectedVersion: number): Promise<StoredIncident> {
    return this.#writeStatus(toResource(incident, this.namespace), expectedVersion);
  }

  async #writeStatus(resource: IncidentResource, expectedVersion: number): Promise<StoredIncident> {
    try {
      const written = await this.#api.replace<IncidentResource>(
        'incidents',
        { ...resource, metadata: { ...resource.metadata, resourceVersion: String(expectedVersion) } },
        { subresource: 'status' },
      );
      return this.#stored(written);
    } catch (error) {
      if (isApiError(error, 409)) {
        throw new StoreConflictError(resource.metadata.name, expectedVersion, undefined);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // Every write is awaited by its caller and durable once the API server answered: nothing is buffered.
  }
}
