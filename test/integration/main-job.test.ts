import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { runProcess } from '../helpers/run-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'dist/bin/stuckfailed.js');

describe('the main job: stuckfailed demo (npm start)', () => {
  it('runs the whole loop: diagnoses every cause, cancels the looping migrations, cleans with archive, heals, validates', async (t) => {
    const archive = mkdtempSync(path.join(tmpdir(), 'stuckfailed-demo-test-'));
    t.after(() => {
      rmSync(archive, { recursive: true, force: true });
      rmSync(`${archive}.journal.jsonl`, { force: true });
    });
    const result = await runCli(
      [
        'demo',
        '--failed',
        '240',
        '--namespaces',
        '4',
        '--nodes',
        '6',
        '--window',
        '3s',
        '--archive',
        archive,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    // The diagnosis, as diagnose prints it: the 240 laid down, and any the churn (2/s) added before the list.
    const counted = /^(\d+) Failed virt-launcher pods >= threshold 200/m.exec(result.stdout);
    assert.ok(counted && Number(counted[1]) >= 240 && Number(counted[1]) < 280, result.stdout);
    const causeOrder = ['migration', 'image', 'storage', 'network'].map((cause) =>
      result.stdout.search(new RegExp(`^ {2}\\d\\. ${cause} `, 'm')),
    );
    assert.ok(
      causeOrder.every((position) => position > 0),
      `every cause listed:\n${result.stdout}`,
    );
    assert.deepEqual(
      [...causeOrder].sort((a, b) => a - b),
      causeOrder,
      'causes ranked by share (40/25/20/15 %)',
    );
    // The loop really ran: migrations cancelled, every deleted pod archived, the count fell and stayed down.
    const done =
      /^done: {3}(\d+) in-flight migration\(s\) of looping VMIs cancelled; (\d+) Failed launcher\(s\) deleted, (\d+) archived/m.exec(
        result.stdout,
      );
    assert.ok(done, result.stdout);
    const [cancelled, deleted, archivedSaid] = done.slice(1).map(Number) as [number, number, number];
    assert.ok(cancelled >= 1, 'the looping VMIs had migrations in flight');
    assert.ok(deleted >= 240, `deleted ${deleted}: the 240 laid down, and the churn's`);
    const files = readdirSync(archive, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.yaml'),
    );
    assert.equal(files.length, deleted, 'one archive file per deleted pod');
    assert.equal(archivedSaid, deleted);
    const alert = /^alert: {2}cleared: (\d+) Failed launchers before, (\d+) after/m.exec(result.stdout);
    assert.ok(alert, result.stdout);
    assert.ok(Number(alert[1]) >= 240);
    assert.ok(Number(alert[2]) < 200 && Number(alert[2]) < Number(alert[1]), `after: ${alert[2]}`);
    assert.match(result.stdout, /^validate: cleared$/m);
    assert.match(result.stdout, /^kept: {3}.*left to their remediation: image, storage, network$/m);
    assert.match(result.stdout, /^time: {3}diagnose \S+, mitigate \S+, validate \S+$/m);
    assert.match(result.stderr, /Simulated cluster at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('gives the same report as JSON on stdout, the rest of the loop on stderr', async (t) => {
    const archive = mkdtempSync(path.join(tmpdir(), 'stuckfailed-demo-test-'));
    t.after(() => {
      rmSync(archive, { recursive: true, force: true });
      rmSync(`${archive}.journal.jsonl`, { force: true });
    });
    const result = await runCli(
      [
        'demo',
        '--scenario',
        'eviction',
        '--failed',
        '210',
        // No churn: the count the report gives must be the count laid down, whenever the list runs.
        '--churn',
        '0',
        '-o',
        'json',
        '--window',
        '1s',
        '--archive',
        archive,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      failedLaunchers: number;
      causes: Array<{ category: string }>;
    };
    assert.equal(report.failedLaunchers, 210);
    assert.equal(report.causes[0]?.category, 'resources');
    assert.match(result.stderr, /^alert: {2}cleared: /m);
  });
});

describe('the installed binary', () => {
  it('runs as stuckfailed and as the kubectl plugin kubectl-stuckfailed', async (t) => {
    assert.ok(existsSync(BIN), 'dist/bin/stuckfailed.js is missing: run npm run build (npm test does)');
    const direct = await runProcess(BIN, ['--version']);
    assert.equal(direct.code, 0, direct.stderr);
    const pluginDir = mkdtempSync(path.join(tmpdir(), 'stuckfailed-plugin-'));
    t.after(() => rmSync(pluginDir, { recursive: true, force: true }));
    symlinkSync(BIN, path.join(pluginDir, 'kubectl-stuckfailed'));
    const viaKubectl = await runProcess('kubectl', ['stuckfailed', '--version'], {
      env: { ...process.env, PATH: `${pluginDir}:${process.env.PATH ?? ''}`, HOME: pluginDir },
    });
    assert.equal(viaKubectl.code, 0, viaKubectl.stderr);
    assert.equal(viaKubectl.stdout.trim(), direct.stdout.trim());
  });
});
