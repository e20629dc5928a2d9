import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StuckfailedError } from '../errors.js';
import { FileIncidentStore } from './file-incident-store.js';
import type { Incident } from './incident.js';
import { mutateIncident, StoreConflictError } from './incident-store.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stuckfailed-store-'));
  dirs.push(dir);
  return dir;
}

function incident(id: string, groupKey: string, openedAt: string): Incident {
  return {
    id,
    status: 'open',
    alert: { name: 'VirtLauncherPodsStuckFailed', groupKey, labels: {}, startsAt: openedAt, state: 'firing' },
    openedAt,
    notifications: [{ receivedAt: openedAt, status: 'firing', bodyDigest: 'sha256:1' }],
    approvals: [],
    actions: [],
    audit: [],
  };
}

describe('FileIncidentStore', () => {
  it('creates, joins by group key, updates with versions and reads it all back after a reopen', async () => {
    const dir = await tempDir();
    const store = await FileIncidentStore.open(dir);
    const created = await store.upsertByGroupKey('g1', (latest) => {
      assert.equal(latest, undefined);
      return { create: incident('a', 'g1', '2026-11-29T10:00:00Z') };
    });
    assert.equal(created?.created, true);
    assert.equal(created?.stored.version, 1);
    const joined = await store.upsertByGroupKey('g1', (latest) => {
      assert.equal(latest?.incident.id, 'a');
      latest?.incident.notifications.push({ receivedAt: 'x', status: 'firing', bodyDigest: 'sha256:2' });
      return latest && { join: latest.incident };
    });
    assert.equal(joined?.created, false);
    assert.equal(joined?.stored.version, 2);
    await store.upsertByGroupKey('g2', () => ({ create: incident('b', 'g2', '2026-11-29T11:00:00Z') }));
    assert.deepEqual(
      (await store.list()).map((stored) => stored.incident.id),
      ['b', 'a'],
    );
    await assert.rejects(store.update(incident('a', 'g1', '2026-11-29T10:00:00Z'), 1), StoreConflictError);
    await mutateIncident(store, 'a', (current) => {
      current.status = 'closed';
      return current;
    });
    assert.equal(await store.upsertByGroupKey('g3', () => undefined), undefined);

    await store.close();
    const reopened = await FileIncidentStore.open(dir);
    const a = await reopened.get('a');
    assert.equal(a?.version, 3);
    assert.equal(a?.incident.status, 'closed');
    assert.equal(a?.incident.notifications.length, 2);
    assert.equal((await reopened.list()).length, 2);
    await reopened.close();
  });

  it('drops temp files of writes that never finished, and names an unreadable file', async () => {
    const dir = await tempDir();
    const store = await FileIncidentStore.open(dir);
    await store.upsertByGroupKey('g1', () => ({ create: incident('a', 'g1', '2026-11-29T10:00:00Z') }));
    await store.close();
    await writeFile(join(store.dir, 'b.json.tmp-1-1'), '{"half');
    await (await FileIncidentStore.open(dir)).close();
    assert.deepEqual(await readdir(store.dir), ['a.json']);
    await writeFile(join(store.dir, 'c.json'), '{"half');
    await assert.rejects(FileIncidentStore.open(dir), (error: unknown) => {
      assert.ok(error instanceof StuckfailedError);
      assert.match(error.message, /c\.json is not a readable incident/);
      return true;
    });
  });

  it('refuses ids that are not safe file names', async () => {
    const store = await FileIncidentStore.open(await tempDir());
    await assert.rejects(
      store.upsertByGroupKey('g', () => ({ create: incident('../x', 'g', '2026-11-29T10:00:00Z') })),
      /unsafe incident id/,
    );
    await store.close();
  });
});
