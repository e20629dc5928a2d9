import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileIncidentStore } from '../../src/server/file-incident-store.js';

// A kill -9 at any point loses nothing acknowledged: a child process writes incidents as fast as it can and says
// `ack` after each write resolves; it is killed with SIGKILL at a random moment, and every acknowledged notification
// must be in the data directory when it is opened again. Six kills, each after a random delay, on the same directory.

const WRITER = new URL('../helpers/store-writer.ts', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const ROUNDS = 6;

interface Round {
  acks: Array<{ groupKey: string; digest: string }>;
}

async function writeAndKill(dataDir: string, run: number, delayMs: number): Promise<Round> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(run)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks: Round['acks'] = [];
  let buffered = '';
  let stderr = '';
  let firstAck: () => void = () => undefined;
  const started = new Promise<void>((resolve) => {
    firstAck = resolve;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const [, groupKey, digest] = line.split(' ');
      if (groupKey !== undefined && digest !== undefined) acks.push({ groupKey, digest });
      firstAck();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    await Promise.race([started, exited]);
    assert.ok(acks.length > 0, `the writer acknowledged nothing: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill('SIGKILL');
    await exited;
  } finally {
    clearTimeout(timeout);
    child.kill('SIGKILL');
  }
  return { acks };
}

describe('FileIncidentStore under kill -9', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('loses nothing acknowledged, whenever the writer dies', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stuckfailed-crash-'));
    dirs.push(dataDir);
    const delays = fc.sample(fc.integer({ min: 0, max: 400 }), { numRuns: ROUNDS, seed: 42 });
    const acknowledged: Round['acks'] = [];
    for (const [run, delay] of delays.entries()) {
      const round = await writeAndKill(dataDir, run, delay);
      acknowledged.push(...round.acks);
      // Opening reads every file: a torn one would throw here.
      const store = await FileIncidentStore.open(dataDir);
      const digestsByGroup = new Map<string, Set<string>>();
      for (const { incident } of await store.list()) {
        const digests = digestsByGroup.get(incident.alert.groupKey) ?? new Set<string>();
        for (const notification of incident.notifications) digests.add(notification.bodyDigest);
        digestsByGroup.set(incident.alert.groupKey, digests);
      }
      const lost = acknowledged.filter(({ groupKey, digest }) => !digestsByGroup.get(groupKey)?.has(digest));
      assert.deepEqual(lost, [], `round ${run} (killed after ${delay} ms) lost acknowledged writes`);
      // One incident per group, whatever the moment of the kill.
      const groups = (await store.list()).map((stored) => stored.incident.alert.groupKey);
      assert.equal(new Set(groups).size, groups.length);
      await store.close();
    }
    assert.ok(acknowledged.length > ROUNDS, `only ${acknowledged.length} writes acknowledged`);
  });
});
