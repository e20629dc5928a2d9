import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openJournalFile } from './journal-file.js';
import { type JournalEntry, targetKey } from './plan.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stuckfailed-journal-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(name: string, outcome: JournalEntry['outcome']): JournalEntry {
  return {
    time: '2026-11-29T10:00:00.000Z',
    step: 'clean',
    action: 'clean',
    kind: 'Pod',
    namespace: 'ns',
    name,
    uid: `uid-${name}`,
    outcome,
  };
}

describe('openJournalFile', () => {
  it('appends one JSON line per entry, in order, and creates missing folders', async () => {
    const path = join(dir, 'a', 'b', 'journal.jsonl');
    const journal = await openJournalFile(path);
    assert.equal(journal.previousEntries, 0);
    await Promise.all(['p1', 'p2', 'p3'].map((name) => journal.sink.append(entry(name, 'done'))));
    await journal.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as JournalEntry).name),
      ['p1', 'p2', 'p3'],
    );
  });

  it('an append resolves only once its line is in the file', async () => {
    const path = join(dir, 'durable.jsonl');
    const journal = await openJournalFile(path);
    await journal.sink.append(entry('p1', 'done'));
    assert.match(await readFile(path, 'utf8'), /"name":"p1"/);
    await journal.close();
  });

  it('reads an earlier run back: done, gone and skipped are settled; conflict and failed are not', async () => {
    const path = join(dir, 'resume.jsonl');
    const first = await openJournalFile(path);
    for (const [name, outcome] of [
      ['a', 'done'],
      ['b', 'gone'],
      ['c', 'skipped'],
      ['d', 'conflict'],
      ['e', 'failed'],
    ] as const) {
      await first.sink.append(entry(name, outcome));
    }
    await first.close();
    const second = await openJournalFile(path);
    assert.equal(second.previousEntries, 5);
    const key = (name: string) =>
      targetKey('clean', { kind: 'Pod', namespace: 'ns', name, uid: `uid-${name}` });
    assert.deepEqual([...second.settled].sort(), [key('a'), key('b'), key('c')].sort());
    await second.sink.append(entry('d', 'done'));
    await second.close();
    assert.equal((await readFile(path, 'utf8')).trimEnd().split('\n').length, 6);
  });

  it('tolerates a last line cut short by a crash, and starts the next entry on a fresh line', async () => {
    const path = join(dir, 'torn.jsonl');
    const whole = `${JSON.stringify(entry('a', 'done'))}\n`;
    const torn = JSON.stringify(entry('b', 'done')).slice(0, 30);
    await writeFile(path, whole + torn);
    const journal = await openJournalFile(path);
    assert.equal(journal.previousEntries, 1);
    assert.equal(journal.settled.size, 1);
    await journal.sink.append(entry('c', 'done'));
    await journal.close();
    const reopened = await openJournalFile(path);
    assert.equal(reopened.previousEntries, 2, 'the torn line is skipped, both whole entries are read');
    await reopened.close();
  });

  it('refuses a file that is not a journal instead of appending to it', async () => {
    const path = join(dir, 'not-a-journal.txt');
    await writeFile(path, 'hello\nworld\n');
    await assert.rejects(openJournalFile(path), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'INPUT');
      assert.match(error.message, /not a stuckfailed journal/);
      return true;
    });
  });
});
