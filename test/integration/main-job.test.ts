import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { runProcess } from '../helpers/run-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'dist/bin/stuckfailed.js');

describe('the main job: stuckfailed demo (npm start)', () => {
  it('simulates an incident and prints its diagnosis: verdict, every cause of the mixed scenario, next steps', async () => {
    const result = await runCli(['demo', '--failed', '240', '--namespaces', '4', '--nodes', '6']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /240 Failed virt-launcher pods >= threshold 200/);
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
    assert.match(result.stderr, /Simulated cluster at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('gives the same report as JSON, with the exact count', async () => {
    const result = await runCli(['demo', '--scenario', 'eviction', '--failed', '210', '-o', 'json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      failedLaunchers: number;
      causes: Array<{ category: string }>;
    };
    assert.equal(report.failedLaunchers, 210);
    assert.equal(report.causes[0]?.category, 'resources');
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
