import type { WatchEvent } from '../cluster/kube-api.js';
import type { VirtualMachineInstance } from '../kube/types.js';
import { objectKey } from './launcher-tracker.js';

/** VMI phases kept from a watch, one short string per VMI: what validate asks of the VMIs of new launchers. */
export class VmiPhases {
  #current = new Map<string, string>();
  #next: Map<string, string> | undefined;
  #synced = false;

  get synced(): boolean {
    return this.#synced;
  }

  apply(event: WatchEvent<VirtualMachineInstance>): void {
    switch (event.type) {
      case 'RELIST':
        this.#next = new Map();
        return;
      case 'SYNCED':
        if (this.#next !== undefined) this.#current = this.#next;
        this.#next = undefined;
        this.#synced = true;
        return;
      case 'BOOKMARK':
        return;
      case 'DELETED':
        this.#current.delete(objectKey(event.object));
        return;
      default: {
        const into = event.type === 'ADDED' && this.#next !== undefined ? this.#next : this.#current;
        into.set(objectKey(event.object), event.object.status?.phase ?? 'Pending');
      }
    }
  }

  /** The VMI's phase; undefined when there is no such VMI. */
  phase(key: string): string | undefined {
    return this.#current.get(key);
  }
}
