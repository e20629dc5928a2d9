import type { Incident } from './incident.js';

// Where incidents live: a data directory (file-incident-store.ts, one replica), or Kubernetes custom resources
// (kubernetes-incident-store.ts, several replicas), whose resourceVersion is the `version` here.

export interface StoredIncident {
  incident: Incident;
  /** Bumped by every write: an update names the version it read, and loses to any write since. */
  version: number;
}

/** What `upsertByGroupKey` decides from the latest incident of a group: join it (updated), open a new one, or
 * (undefined) write nothing. */
export type GroupDecision = { join: Incident } | { create: Incident } | undefined;

export interface IncidentStore {
  get(id: string): Promise<StoredIncident | undefined>;
  /** Every incident, newest first (openedAt, then id). */
  list(): Promise<StoredIncident[]>;
  /**
   * Atomically, for one Alertmanager group: reads its latest incident (or none) and writes what `decide` returns.
   * Two calls for one group never run interleaved, so two deliveries can never open two incidents. Resolves once
   * the write is durable.
   * `decide` gets a copy: it may change and return it.
   */
  upsertByGroupKey(
    groupKey: string,
    decide: (latest: StoredIncident | undefined) => GroupDecision,
  ): Promise<{ stored: StoredIncident; created: boolean } | undefined>;
  /** Writes `incident` if the stored version is still `expectedVersion`; else throws StoreConflictError. */
  update(incident: Incident, expectedVersion: number): Promise<StoredIncident>;
  close(): Promise<void>;
}

export class StoreConflictError extends Error {
  constructor(id: string, expected: number, actual: number | undefined) {
    super(`incident ${id} changed (version ${actual ?? 'none'}, expected ${expected})`);
    this.name = 'StoreConflictError';
  }
}

/**
 * Read, change, write, again on a conflict: how callers change one incident while others may write it too.
 * `change` returns undefined to write nothing (the incident is already as wanted).
 */
export async function mutateIncident(
  store: IncidentStore,
  id: string,
  change: (incident: Incident) => Incident | undefined,
): Promise<StoredIncident> {
  for (let attempt = 0; ; attempt += 1) {
    const current = await store.get(id);
    if (current === undefined) throw new Error(`incident ${id} not found`);
    const next = change(structuredClone(current.incident));
    if (next === undefined) return current;
    try {
      return await store.update(next, current.version);
    } catch (error) {
      if (!(error instanceof StoreConflictError) || attempt >= 50) throw error;
    }
  }
}
