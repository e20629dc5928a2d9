import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIo } from '../../src/cli/memory-io.js';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import type { Namespace, Pod } from '../../src/kube/types.js';
import {
  FAILED_LAUNCHER_FIELD_SELECTOR,
  FAILED_LAUNCHER_LABEL_SELECTOR,
  isFailedLauncher,
} from '../../src/launcher/launcher-pod.js';
import { namespaceName } from '../../src/sim/scenarios/cluster-builder.js';
import type { AlertConditionEvaluation } from '../../src/validation/alert-condition.js';
import { type ValidationVerdict, validateClearing } from '../../src/validation/validate-clearing.js';
import { watchAlertCondition } from '../../src/validation/watch-alert-condition.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { type SimulatorHandle, withSimulator } from '../helpers/simulator.js';

// validate and watch against the real simulator over HTTP: the real client, list-then-watch, and the runbook's
// cleanup (a deletecollection per namespace) with POST /sim/heal in between.

const FAILED = 230;

function apiFor(handle: SimulatorHandle) {
  return openKubeApi({ kubeconfig: handle.kubeconfig, env: {} }).api;
}

/** The runbook's Mitigation 2 at its crudest: every Failed launcher, one deletecollection per namespace. */
async function cleanUp(handle: SimulatorHandle): Promise<void> {
  const api = apiFor(handle);
  try {
    for await (const namespace of api.list<Namespace>('namespaces')) {
      await api.deleteCollection('pods', namespace.metadata.name, {
        labelSelector: FAILED_LAUNCHER_LABEL_SELECTOR,
        fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
      });
    }
  } finally {
    api.close();
  }
}

async function failedLaunchers(handle: SimulatorHandle): Promise<number> {
  const api = apiFor(handle);
  let count = 0;
  try {
    for await (const pod of api.list<Pod>('pods', { fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR })) {
      if (isFailedLauncher(pod)) count += 1;
    }
  } finally {
    api.close();
  }
  return count;
}

function cli(handle: SimulatorHandle, args: string[]) {
  return runCli(args, { env: { KUBECONFIG: handle.kubeconfig }, timeoutMs: 60_000 });
}

describe('watch --once against the simulator', () => {
  it('exits 1 while the condition holds and 0 after the cleanup, counting as diagnose does', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 3 }, async (handle) => {
      const expected = await failedLaunchers(handle);
      assert.ok(expected >= 200);
      const holding = await cli(handle, ['watch', '--once', '-o', 'json']);
      assert.equal(holding.code, 1, holding.stderr);
      const evaluation = JSON.parse(holding.stdout) as AlertConditionEvaluation;
      assert.equal(evaluation.count, expected);
      assert.equal(evaluation.holds, true);
      assert.ok(evaluation.since !== undefined && Date.parse(evaluation.since) <= Date.parse(evaluation.at));
      assert.notEqual(evaluation.state, 'inactive');

      // -n narrows the count to one namespace, as diagnose -n does.
      const namespace = namespaceName(0);
      const api = apiFor(handle);
      let inNamespace = 0;
      try {
        for await (const pod of api.list<Pod>('pods', {
          namespace,
          fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
        })) {
          if (isFailedLauncher(pod)) inNamespace += 1;
        }
      } finally {
        api.close();
      }
      assert.ok(inNamespace > 0 && inNamespace < expected, `${inNamespace} in ${namespace}`);
      const scoped = await cli(handle, [
        'watch',
        '--once',
        '-n',
        namespace,
        '--threshold',
        '1',
        '-o',
        'json',
      ]);
      assert.equal(scoped.code, 1, scoped.stderr);
      assert.equal((JSON.parse(scoped.stdout) as AlertConditionEvaluation).count, inNamespace);

      await cleanUp(handle);
      const clear = await cli(handle, ['watch', '--once']);
      assert.equal(clear.code, 0, clear.stderr);
      assert.match(
        clear.stdout,
        /inactive: 0 Failed virt-launcher pods \(threshold 200\); condition does not hold/,
      );
    });
  });

  it('exits 2 on a bad flag, saying what to write, and 3 when the API is unreachable', async () => {
    const bad = await runCli(['validate', '--window', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--window.*abc.*expected a duration such as 10m, 90s or 1h30m/s);
    const short = await runCli(['validate', '--window', '5m', '--timeout', '1m']);
    assert.equal(short.code, 2);
    assert.match(short.stderr, /--timeout 1m is shorter than --window 5m/);
    await withSimulator({}, async (handle) => {
      await handle.sim.close();
      const down = await cli(handle, ['watch', '--once']);
      assert.equal(down.code, 3, down.stderr);
      assert.match(down.stderr, /hint:/);
    });
  });
});

describe('validate against the simulator', () => {
  it('exits 1 at the timeout while the Failed launchers are there, with the reason', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 4 }, async (handle) => {
      const result = await cli(handle, ['validate', '--window', '2s', '--timeout', '8s', '-o', 'json']);
      assert.equal(result.code, 1, result.stderr);
      const verdict = JSON.parse(result.stdout) as ValidationVerdict;
      assert.equal(verdict.outcome, 'timeout');
      assert.equal(verdict.countSource, 'api');
      assert.equal(verdict.count, await failedLaunchers(handle));
      assert.deepEqual(verdict.notMet, [
        `the Failed launcher count to drop below 200 (now ${verdict.count})`,
      ]);
    });
  });

  it('exits 0 once the cleaned, healed cluster stays clear for the window, and watches rather than polls', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 5, churn: 4 }, async (handle) => {
      await cleanUp(handle);
      handle.sim.heal();
      const before = handle.sim.stats();
      const result = await cli(handle, ['validate', '--window', '2s', '--timeout', '30s']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(
        result.stdout,
        /^cleared: the Failed launcher count \(\d+, from the API\) stayed below 200 for 2s/,
      );
      assert.match(result.stderr, /count from the Kubernetes API \(watch\)/);
      const after = handle.sim.stats();
      const delta = (verb: string) => (after.byVerb[verb] ?? 0) - (before.byVerb[verb] ?? 0);
      // One list each of launchers and VMIs, then watches: however long it waits, no more lists.
      assert.equal(delta('list'), 2);
      assert.ok(delta('watch') >= 2, JSON.stringify(after.byVerb));
    });
  });

  it('follows the launchers that come up after the heal until they run', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 6, churn: 5 }, async (handle) => {
      await cleanUp(handle);
      handle.sim.heal();
      const api = apiFor(handle);
      try {
        const verdict = await validateClearing({ api, windowMs: 2_500, timeoutMs: 30_000 });
        assert.equal(verdict.outcome, 'cleared', verdict.reason);
        assert.ok(verdict.newLaunchers.total > 0, 'churn brought up launchers while validate watched');
        assert.equal(verdict.newLaunchers.running, verdict.newLaunchers.total);
        assert.equal(verdict.vmisNotRunning, 0);
        assert.equal(verdict.launcherFailures, 0);
      } finally {
        api.close();
      }
    });
  });

  it('does not clear while launchers keep going Failed, even with the count far below the threshold', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 7, churn: 3 }, async (handle) => {
      await cleanUp(handle);
      // Not healed: the cause is still at work and every new launcher fails.
      const result = await cli(handle, ['validate', '--window', '2s', '--timeout', '8s', '-o', 'json']);
      assert.equal(result.code, 1, result.stderr);
      const verdict = JSON.parse(result.stdout) as ValidationVerdict;
      assert.ok((verdict.count ?? 0) < 200);
      assert.ok(verdict.launcherFailures > 0);
      assert.match(verdict.notMet.join('; '), /window restarted .* when a launcher went Failed/);
    });
  });
});

describe('validate on a terminal', () => {
  it('shows what it waits for and the time left on one redrawn line, then the verdict', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 10 }, async (handle) => {
      const { io, stdout, stderr } = memoryIo({
        tty: true,
        env: { KUBECONFIG: handle.kubeconfig, NO_COLOR: '1' },
      });
      const code = await main(['validate', '--window', '1s', '--timeout', '6s'], io);
      assert.equal(code, 1);
      // The progress line is redrawn in place: carriage return and erase-line (ECMA-48 EL) before each state.
      const lines = stderr().split('\r\u001b[2K');
      assert.ok(
        lines.some((line) =>
          /^the Failed launcher count to drop below 200 \(now \d+\) \[\d+(ms|s) left\]; clear for \(s\)… 0\/1 \(0%\)$/.test(
            line,
          ),
        ),
        JSON.stringify(lines.slice(0, 4)),
      );
      assert.match(
        stdout(),
        /^not cleared after 6s: still waiting for the Failed launcher count to drop below 200/,
      );
    });
  });
});

describe('watch against the simulator', () => {
  it('sees the count fall as the cleanup runs, from one list and a watch', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 8 }, async (handle) => {
      const api = apiFor(handle);
      const controller = new AbortController();
      const seen: AlertConditionEvaluation[] = [];
      const before = handle.sim.stats();
      try {
        await watchAlertCondition({
          api,
          tickMs: 100,
          signal: controller.signal,
          onEvaluation: (evaluation) => {
            seen.push(evaluation);
            if (seen.length === 1) void cleanUp(handle);
            if (evaluation.count === 0) controller.abort();
          },
        });
      } finally {
        api.close();
      }
      assert.equal(seen[0]?.holds, true);
      assert.equal(seen.at(-1)?.state, 'inactive');
      assert.ok((seen.at(-1)?.trend?.perMinute ?? 0) < 0, 'the trend shows the fall');
      // One list of launchers (and the cleanup's list of namespaces); the rest came by watch.
      const after = handle.sim.stats();
      assert.equal((after.byVerb.list ?? 0) - (before.byVerb.list ?? 0), 2);
      assert.ok((after.byVerb.watch ?? 0) - (before.byVerb.watch ?? 0) >= 1);
    });
  });

  it('prints a line on a change while it runs, and stops on SIGTERM', async () => {
    await withSimulator({ scenario: 'image-pull', failed: FAILED, seed: 9 }, async (handle) => {
      const watching = spawnCli(['watch', '-o', 'json'], { env: { KUBECONFIG: handle.kubeconfig } });
      try {
        await watching.waitForLine(/"count":\d+/, 30_000);
        await cleanUp(handle);
        await watching.waitForLine(/"count":0,/, 30_000);
      } finally {
        assert.equal(await watching.stop(), 0);
      }
      const lines = watching
        .stdout()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as AlertConditionEvaluation);
      assert.equal(lines[0]?.holds, true);
      assert.equal(lines.at(-1)?.state, 'inactive');
    });
  });
});
