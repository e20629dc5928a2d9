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
});
