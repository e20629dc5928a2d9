// `stuckfailed sim` as a user runs it: it prints where it listens, writes a kubeconfig kubectl can use, serves
// the scenario, and stops cleanly on SIGTERM.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, spawnCli } from '../helpers/cli.js';
import { runKubectl } from '../helpers/kubectl.js';

describe('stuckfailed sim', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-sim-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a scenario, writes its kubeconfig, and stops on SIGTERM', async () => {
    const kubeconfig = path.join(dir, 'kubeconfig');
    const sim = spawnCli([
      'sim',
      '--scenario',
      'image-pull',
      '--failed',
      '30',
      '--namespaces',
      '3',
      '--nodes',
      '4',
      '--faults',
      'latencyMs=1',
      '--kubeconfig-out',
      kubeconfig,
    ]);
    try {
      const [, url] = await sim.waitForLine(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
      await sim.waitForLine(/^ {2}export KUBECONFIG=/);
      assert.match(await readFile(kubeconfig, 'utf8'), /insecure-skip-tls-verify: true/);
      const result = await runKubectl(
        [
          'get',
          'pods',
          '-A',
          '-l',
          'kubevirt.io=virt-launcher',
          '--field-selector=status.phase=Failed',
          '-o',
          'name',
        ],
        { kubeconfig },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim().split('\n').length, 30);
      const stats = (await (await fetch(`${url}/sim/stats`)).json()) as {
        requests: number;
        byResource: Record<string, number>;
      };
      assert.ok((stats.byResource.pods ?? 0) >= 1);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /kube_pod_status_phase\{/);
      assert.equal(await sim.stop(), 0);
      assert.match(sim.stderr(), /simulator stopped/);
    } finally {
      await sim.stop();
    }
  });

  it('rejects a bad --faults spec as a usage error', async () => {
    const result = await runCli(['sim', '--faults', 'throttleRate=2']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /invalid faults: throttleRate/);
  });

  it('--rbac serves HTTPS with a token and a context per ServiceAccount, written by --tokens-out', async () => {
    const kubeconfig = path.join(dir, 'rbac-kubeconfig');
    const tokens = path.join(dir, 'tokens');
    const sim = spawnCli([
      'sim',
      '--rbac',
      'deploy/base',
      '--tokens-out',
      tokens,
      '--kubeconfig-out',
      kubeconfig,
    ]);
    try {
      await sim.waitForLine(/^listening on https:\/\/127\.0\.0\.1:\d+$/);
      const [, context] = await sim.waitForLine(
        /^service account stuckfailed\/stuckfailed: kubectl --context (\S+)$/,
      );
      assert.equal(context, 'system:serviceaccount:stuckfailed:stuckfailed');
      assert.ok(
        (await readFile(path.join(tokens, 'stuckfailed', 'stuckfailed', 'token'), 'utf8')).length > 20,
      );
      const allowed = await runKubectl(['--context', context as string, 'get', 'nodes'], { kubeconfig });
      assert.equal(allowed.code, 0, allowed.stderr);
      const refused = await runKubectl(['--context', context as string, 'delete', 'node', 'anything'], {
        kubeconfig,
      });
      assert.match(
        refused.stderr,
        /Error from server \(Forbidden\): nodes "anything" is forbidden: User "system:serviceaccount:stuckfailed:stuckfailed" cannot delete resource "nodes" in API group "" at the cluster scope/,
      );
    } finally {
      await sim.stop();
    }
  });

  it('rejects --tokens-out without --rbac as a usage error', async () => {
    const result = await runCli(['sim', '--tokens-out', dir]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--tokens-out needs --rbac/);
  });
});
