import type { JournalEntry, JournalSink, StepProgress } from '../mitigation/plan.js';
import { type IncidentStore, mutateIncident } from './incident-store.js';

/**
 * The journal of a run, kept in its incident (the audit trail, and on a restart the `settled` set). Appends that
 * arrive while a write is in flight go out together in the next one (group commit): executors writing many pods at
 * once cost one incident write per batch, not one per pod, and each append still resolves only once it is durable.
 */
export class IncidentJournal implements JournalSink {
  readonly #store: IncidentStore;
  readonly #id: string;
  readonly #onEntry: (entry: JournalEntry) => void;
  #pending: JournalEntry[] = [];
  #progress: Record<string, StepProgress> = {};
  #progressChanged = false;
  #writing: Promise<void> = Promise.resolve();
  #next: Promise<void> | undefined;

  constructor(store: IncidentStore, id: string, onEntry: (entry: JournalEntry) => void) {
    this.#store = store;
    this.#id = id;
    this.#onEntry = onEntry;
  }

  append(entry: JournalEntry): Promise<void> {
    this.#pending.push(entry);
    this.#onEntry(entry);
    return this.#schedule();
  }

  /** Live progress: written with the next batch (or the final flush), not on its own. */
  progress(progress: StepProgress): void {
    this.#progress[progress.step] = progress;
    this.#progressChanged = true;
  }

  async flush(): Promise<void> {
    if (this.#pending.length > 0 || this.#progressChanged) await this.#schedule();
    else await this.#writing;
  }

  #schedule(): Promise<void> {
    if (this.#next !== undefined) return this.#next;
    const next = this.#writing.then(() => {
      this.#next = undefined;
      const batch = this.#pending.splice(0);
      const progress = { ...this.#progress };
      this.#progressChanged = false;
      return this.#write(batch, progress);
    });
    this.#next = next;
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #write(batch: JournalEntry[], progress: Record<string, StepProgress>): Promise<void> {
    await mutateIncident(this.#store, this.#id, (incident) => {
      incident.actions.push(...batch);
      incident.progress = { ...incident.progress, ...progress };
      return incident;
    });
  }
}
