// Incidents in a data directory (`serve --data-dir`): one JSON file per incident, written atomically (a temp file,
// fsync, rename over the old one, fsync the directory), so a kill -9 at any moment leaves either the old file or
// the new one, never half of one; a write resolves only once it is on disk, so what was acknowledged survives.
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { StuckfailedError } from '../errors.js';
import type { Incident } from './incident.js';
import {
  type GroupDecision,
  type IncidentStore,
  StoreConflictError,
  type StoredIncident,
} from './incident-store.js';

const FILE_SUFFIX = '.json';
const TEMP_MARK = '.tmp-';

/** One lock per key: calls for the same key run one after the other, calls for different keys in parallel. */
class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

interface FileRecord {
  version: number;
  incident: Incident;
}

function newestFirst(a: StoredIncident, b: StoredIncident): number {
  const byTime = b.incident.openedAt.localeCompare(a.incident.openedAt);
  return byTime !== 0 ? byTime : b.incident.id.localeCompare(a.incident.id);
}

/** Ids become file names: only what is safe in one. */
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class FileIncidentStore implements IncidentStore {
  readonly dir: string;
  readonly #incidents = new Map<string, StoredIncident>();
  /** groupKey -> the id of its latest incident. */
  readonly #latestByGroup = new Map<string, string>();
  readonly #groupLock = new KeyedLock();
  readonly #idLock = new KeyedLock();
  #tempCounter = 0;
  /** Kept open: the directory is fsynced after every rename. */
  readonly #dirHandle: FileHandle;
  #dirSyncRunning: Promise<void> = Promise.resolve();
  #dirSyncNext: Promise<void> | undefined;

  private constructor(dir: string, dirHandle: FileHandle) {
    this.dir = dir;
    this.#dirHandle = dirHandle;
  }

  /** Opens (creating it if needed) the data directory and reads every incident in it. */
  static async open(dataDir: string): Promise<FileIncidentStore> {
    const dir = path.resolve(dataDir, 'incidents');
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw new StuckfailedError(
        'INPUT',
        `cannot create the data directory ${dir}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const store = new FileIncidentStore(dir, await open(dir, 'r'));
    try {
      await store.#load();
    } catch (error) {
      await store.#dirHandle.close();
      throw error;
    }
    return store;
  }

  async #load(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      const file = path.join(this.dir, name);
      // A temp file is a write that never got renamed: it was never acknowledged.
      if (name.includes(TEMP_MARK)) {
        await rm(file, { force: true });
        continue;
      }
      if (!name.endsWith(FILE_SUFFIX)) continue;
      let record: FileRecord;
      try {
        record = JSON.parse(await readFile(file, 'utf8')) as FileRecord;
      } catch (error) {
        throw new StuckfailedError(
          'INPUT',
          `${file} is not a readable incident (${(error as Error).message}); move it out of the data directory`,
          { cause: error },
        );
      }
      this.#remember({ incident: record.incident, version: record.version });
    }
  }

  #remember(stored: StoredIncident): void {
    this.#incidents.set(stored.incident.id, stored);
    const { groupKey } = stored.incident.alert;
    const latestId = this.#latestByGroup.get(groupKey);
    const latest = latestId === undefined ? undefined : this.#incidents.get(latestId);
    if (latest === undefined || newestFirst(stored, latest) <= 0) {
      this.#latestByGroup.set(groupKey, stored.incident.id);
    }
  }

  async get(id: string): Promise<StoredIncident | undefined> {
    return this.#incidents.get(id);
  }

  async list(): Promise<StoredIncident[]> {
    return [...this.#incidents.values()].sort(newestFirst);
  }

  async upsertByGroupKey(
    groupKey: string,
    decide: (latest: StoredIncident | undefined) => GroupDecision,
  ): Promise<{ stored: StoredIncident; created: boolean } | undefined> {
    return this.#groupLock.run(groupKey, async () => {
      const latestId = this.#latestByGroup.get(groupKey);
      if (latestId === undefined) {
        const decision = decide(undefined);
        if (decision === undefined) return undefined;
        if (!('create' in decision)) throw new Error('cannot join an incident that does not exist');
        return { stored: await this.#create(decision.create), created: true };
      }
      return this.#idLock.run(latestId, async () => {
        const latest = this.#incidents.get(latestId);
        const decision = decide(latest === undefined ? undefined : structuredClone(latest));
        if (decision === undefined) return undefined;
        if ('create' in decision) return { stored: await this.#create(decision.create), created: true };
        if (latest === undefined || decision.join.id !== latestId) {
          throw new Error(`joined incident ${decision.join.id} is not the group's latest`);
        }
        return { stored: await this.#write(decision.join, latest.version + 1), created: false };
      });
    });
  }

  async #create(incident: Incident): Promise<StoredIncident> {
    if (!SAFE_ID.test(incident.id)) throw new Error(`unsafe incident id ${JSON.stringify(incident.id)}`);
    if (this.#incidents.has(incident.id)) throw new Error(`incident ${incident.id} exists already`);
    return this.#idLock.run(incident.id, () => this.#write(incident, 1));
  }

  async update(incident: Incident, expectedVersion: number): Promise<StoredIncident> {
    return this.#idLock.run(incident.id, async () => {
      const current = this.#incidents.get(incident.id);
      if (current === undefined || current.version !== expectedVersion) {
        throw new StoreConflictError(incident.id, expectedVersion, current?.version);
      }
      if (current.incident.alert.groupKey !== incident.alert.groupKey) {
        throw new Error(`incident ${incident.id} cannot move to another alert group`);
      }
      return this.#write(incident, expectedVersion + 1);
    });
  }

  /** temp file + fsync + rename + fsync of the directory: durable and all-or-nothing. */
  async #write(incident: Incident, version: number): Promise<StoredIncident> {
    const file = path.join(this.dir, `${incident.id}${FILE_SUFFIX}`);
    this.#tempCounter += 1;
    const temp = `${file}${TEMP_MARK}${process.pid}-${this.#tempCounter}`;
    const record: FileRecord = { version, incident };
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await this.#syncDir();
    const stored = { incident, version };
    this.#remember(stored);
    return stored;
  }

  /**
   * fsync of the directory, shared by the renames waiting for it (group commit): a sync that starts after a rename
   * makes it durable, so every caller joins the next sync to start, never one already running.
   */
  #syncDir(): Promise<void> {
    if (this.#dirSyncNext !== undefined) return this.#dirSyncNext;
    const next = this.#dirSyncRunning.then(() => {
      this.#dirSyncNext = undefined;
      return this.#dirHandle.sync();
    });
    this.#dirSyncNext = next;
    this.#dirSyncRunning = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    // Every write is awaited by its caller and durable when it resolves: nothing is buffered, only the handle.
    await this.#dirSyncRunning;
    await this.#dirHandle.close();
  }
}
