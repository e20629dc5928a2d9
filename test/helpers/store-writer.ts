import { FileIncidentStore } from '../../src/server/file-incident-store.js';
import type { Incident } from '../../src/server/incident.js';
import { mutateIncident } from '../../src/server/incident-store.js';

// Child process of the crash-safety test: writes notifications into a data directory as fast as it can, from several
// concurrent writers, and prints `ack <groupKey> <digest>` once each write has resolved (is durable). The parent
// kills it with SIGKILL at a random moment. Usage: store-writer.ts <data-dir> <run>

const [dataDir, run] = process.argv.slice(2);
if (dataDir === undefined || run === undefined) throw new Error('usage: store-writer.ts <data-dir> <run>');
const store = await FileIncidentStore.open(dataDir);
const WRITERS = 4;
const GROUPS = 6;

function opened(groupKey: string, digest: string, at: string): Incident {
  return {
    id: `${groupKey}-${run}-${digest.slice(-6)}`.replace(/[^A-Za-z0-9._-]/g, '-'),
    status: 'open',
    alert: { name: 'VirtLauncherPodsStuckFailed', groupKey, labels: {}, startsAt: at, state: 'firing' },
    openedAt: at,
    notifications: [{ receivedAt: at, status: 'firing', bodyDigest: digest }],
    approvals: [],
    actions: [],
    audit: [],
  };
}

async function writer(index: number): Promise<void> {
  for (let sequence = 0; ; sequence += 1) {
    const groupKey = `group-${(sequence + index) % GROUPS}`;
    const digest = `r${run}-w${index}-${sequence}`;
    const at = new Date().toISOString();
    const result = await store.upsertByGroupKey(groupKey, (latest) => {
      if (latest === undefined) return { create: opened(groupKey, digest, at) };
      latest.incident.notifications.push({ receivedAt: at, status: 'firing', bodyDigest: digest });
      return { join: latest.incident };
    });
    process.stdout.write(`ack ${groupKey} ${digest}\n`);
    // Updates with optimistic concurrency interleave with the joins, as the service's background work does.
    if (result !== undefined && sequence % 3 === 0) {
      await mutateIncident(store, result.stored.incident.id, (incident) => {
        incident.audit.push({ time: at, what: 'padding', detail: 'x'.repeat(sequence % 500) });
        return incident;
      });
    }
  }
}

await Promise.all(Array.from({ length: WRITERS }, (_, index) => writer(index)));
