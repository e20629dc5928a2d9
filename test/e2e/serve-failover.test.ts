// Several replicas, one actor, proven: the simulator enforces deploy/'s RBAC (rendered by the real kubectl's
// kustomize), two serve replicas run as processes of their own with deploy/'s ServiceAccount token, the Kubernetes
// incident store and the Lease elector. A firing notification delivered to both makes one incident; once its clean
// is approved and under way, the leader is killed with SIGKILL; the other replica takes the lease and finishes the
// clean from the journal kept with the incident. The simulator's store sees every planned pod deleted exactly
// once, and nothing else deleted.
// With the read role alone (and the service's own Role for its incidents and Lease) every delete is refused, and
// the incident says which permission is missing; the replica keeps serving.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from '../../src/kube/types.js';
import { isFailedLauncher } from '../../src/launcher/launcher-pod.js';
import type { JournalEntry } from '../../src/mitigation/plan.js';
import type { Incident } from '../../src/server/incident.js';
import type { Lease } from '../../src/server/leader-election.js';
import { type RunningSimulator, serviceAccountContext, startSimulator } from '../../src/sim/index.js';
import { loadRbacPolicy } from '../../src/sim/rbac.js';
import { decodeObject } from '../../src/sim/store.js';
import { type RunningCli, spawnCli, spawnScript } from '../helpers/cli.js';
import { runKubectl } from '../helpers/kubectl.js';
import { waitFor as pollFor } from '../helpers/prometheus-stack.js';
import { ALICE, WEBHOOK_TOKEN, webhookBody } from '../helpers/serve-harness.js';
import type { ReplicaConfig } from '../helpers/serve-replica.js';

const NAMESPACE = 'stuckfailed';
const FAILED = 120;
// Short lease times so that a takeover takes seconds; the same ratios as client-go's defaults (15 s, 10 s, 2 s).
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 400 };
// A read-only identity: deploy/'s read ClusterRole and the service's own Role, not the act role.
const READ_ONLY = `---
apiVersion: v1
kind: ServiceAccount
metadata: {name: read-only, namespace: ${NAMESPACE}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: test-read-only}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: stuckfailed-read}
subjects: [{kind: ServiceAccount, name: read-only, namespace: ${NAMESPACE}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: test-read-only-state, namespace: ${NAMESPACE}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: stuckfailed-state}
subjects: [{kind: ServiceAccount, name: read-only, namespace: ${NAMESPACE}}]
`;

/** Polls until `probe` gives a value (prometheus-stack's waitFor, options first for readability here). */
function waitFor<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; what: string },
): Promise<T> {
  return pollFor(options.what, probe, { timeoutMs: options.timeoutMs, intervalMs: 50 });
}

let dir: string;
let kubeconfig: string;
const replicas: RunningCli[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-failover-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  const rendered = await runKubectl(['kustomize', 'deploy'], { kubeconfig: path.join(dir, 'none') });
  assert.equal(rendered.code, 0, rendered.stderr);
  await writeFile(path.join(dir, 'deploy.yaml'), rendered.stdout);
  await writeFile(path.join(dir, 'read-only.yaml'), READ_ONLY);
});

after(async () => {
  for (const replica of replicas) await replica.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

interface Cluster {
  sim: RunningSimulator;
  /** Successful deletions seen by the simulator's store, per namespace/name. */
  deleted: Map<string, number>;
  failedLaunchers: Set<string>;
}

async function startCluster(policyFiles: string[]): Promise<Cluster> {
  const policy = await loadRbacPolicy(policyFiles.map((file) => path.join(dir, file)));
  const sim = await startSimulator({
    scenario: 'mixed',
    failed: FAILED,
    namespaces: 3,
    nodes: 3,
    rbac: policy,
  });
  await sim.writeKubeconfig(kubeconfig);
  // The namespace and the CRD are the cluster admin's to apply (docs/DEPLOY.md).
  const crd = await runKubectl(['apply', '-f', 'deploy/base/namespace.yaml', '-f', 'deploy/base/crd.yaml'], {
    kubeconfig,
  });
  assert.equal(crd.code, 0, crd.stderr);
  const failedLaunchers = new Set<string>();
  for (const stored of sim.store.objects('pods')) {
    const pod = decodeObject<Pod>(stored);
    if (isFailedLauncher(pod)) {
      failedLaunchers.add(`${stored.namespace}/${stored.name}`);
    }
  }
  const deleted = new Map<string, number>();
  sim.store.subscribe('pods', (event) => {
    if (event.type !== 'DELETED') return;
    const pod = decodeObject<Pod>(event.object);
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    deleted.set(key, (deleted.get(key) ?? 0) + 1);
  });
  return { sim, deleted, failedLaunchers };
}

async function startReplica(
  identity: string,
  serviceAccount: string,
  qps: number,
): Promise<{ replica: RunningCli; url: string }> {
  const config: ReplicaConfig = {
    kubeconfig,
    context: serviceAccountContext(NAMESPACE, serviceAccount),
    identity,
    namespace: NAMESPACE,
    webhookToken: WEBHOOK_TOKEN,
    apiTokens: [ALICE],
    ...TIMING,
    qps,
    archiveDir: path.join(dir, `archive-${identity}`),
  };
  const replica = spawnScript('test/helpers/serve-replica.ts', [], {
    env: { STUCKFAILED_REPLICA: JSON.stringify(config) },
  });
  replicas.push(replica);
  const [, url] = await replica.waitForLine(/^listening on (\S+)$/);
  return { replica, url: url as string };
}

async function post(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function incident(url: string, id: string): Promise<Incident> {
  const response = await fetch(`${url}/api/v1/incidents/${id}`);
  assert.equal(response.status, 200);
  return (await response.json()) as Incident;
}

function leaseHolder(sim: RunningSimulator): Lease['spec'] {
  const stored = sim.store.get('leases', NAMESPACE, 'stuckfailed');
  return stored === undefined ? undefined : decodeObject<Lease>(stored).spec;
}

/** Fires the alert at every replica at once, then approves the plan at `approver`; returns the incident. */
async function fireAndApprove(urls: string[], approver: string): Promise<Incident> {
  const body = webhookBody('{}:{alertname="VirtLauncherPodsStuckFailed"}', 'firing');
  const deliveries = await Promise.all(
    urls.map((url) => post(`${url}/webhook/alertmanager`, WEBHOOK_TOKEN, body)),
  );
  for (const delivery of deliveries) assert.equal(delivery.status, 200, JSON.stringify(delivery.json));
  const ids = new Set(deliveries.map((delivery) => delivery.json.incident));
  assert.equal(ids.size, 1, 'one incident for one notification, whichever replicas took it');
  assert.equal(deliveries.filter((delivery) => delivery.json.created === true).length, 1);
  const id = String([...ids][0]);
  const planned = await waitFor(
    async () => {
      const current = await incident(approver, id);
      return current.plan === undefined ? undefined : current;
    },
    { timeoutMs: 60_000, what: 'the leader diagnoses and plans' },
  );
  const approval = await post(`${approver}/api/v1/incidents/${id}/approve`, ALICE.token, {
    digest: planned.plan?.digest,
  });
  assert.equal(approval.status, 202, JSON.stringify(approval.json));
  return planned;
}

describe('serve with several replicas on the Kubernetes API', () => {
  it('kill -9 of the leader mid-clean: the other replica takes over and deletes each planned pod exactly once', async () => {
    const cluster = await startCluster(['deploy.yaml']);
    try {
      // 12 deletes a second: the clean of 120 pods takes about ten seconds.
      const a = await startReplica('replica-a', 'stuckfailed', 12);
      const b = await startReplica('replica-b', 'stuckfailed', 12);
      const leader = await waitFor(async () => leaseHolder(cluster.sim)?.holderIdentity || undefined, {
        timeoutMs: 30_000,
        what: 'a leader',
      });
      const [leading, following] = leader === 'replica-a' ? [a, b] : [b, a];
      const follower = leader === 'replica-a' ? 'replica-b' : 'replica-a';
      // Approved at the follower: it records the approval; the leader picks the run up.
      const planned = await fireAndApprove([a.url, b.url], following.url);
      const targets = planned.plan?.steps.flatMap((step) => step.targets) ?? [];
      const plannedKeys = new Set(targets.map((target) => `${target.namespace}/${target.name}`));
      assert.deepEqual(plannedKeys, cluster.failedLaunchers, 'the plan is every Failed launcher');

      await waitFor(async () => (cluster.deleted.size >= FAILED / 4 ? true : undefined), {
        timeoutMs: 60_000,
        what: 'a quarter of the clean done',
      });
      assert.ok(cluster.deleted.size < FAILED, 'the leader is killed mid-clean');
      leading.replica.child.kill('SIGKILL');
      const killedAt = Date.now();
      const deletedAtKill = cluster.deleted.size;

      await waitFor(async () => (leaseHolder(cluster.sim)?.holderIdentity === follower ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the follower takes the lease',
      });
      const tookOverMs = Date.now() - killedAt;
      const finished = await waitFor(
        async () => {
          const current = await incident(following.url, planned.id);
          return current.status === 'validating' ? current : undefined;
        },
        { timeoutMs: 90_000, what: 'the run finishes on the new leader' },
      );

      // Every planned pod deleted exactly once; nothing else deleted.
      for (const key of plannedKeys) assert.equal(cluster.deleted.get(key), 1, `${key} deleted once`);
      for (const key of cluster.deleted.keys()) assert.ok(plannedKeys.has(key), `${key} was not planned`);
      // The journal kept with the incident settles each target once: done by whichever leader deleted it, or
      // gone when the killed leader's delete landed but its journal write did not.
      const settled = new Map<string, JournalEntry[]>();
      for (const entry of finished.actions) {
        const key = `${entry.namespace}/${entry.name}`;
        settled.set(key, [...(settled.get(key) ?? []), entry]);
      }
      assert.deepEqual(new Set(settled.keys()), plannedKeys);
      for (const [key, entries] of settled) {
        assert.equal(entries.length, 1, `${key}: ${JSON.stringify(entries)}`);
        assert.ok(['done', 'gone'].includes(entries[0]?.outcome ?? ''), `${key}: ${entries[0]?.outcome}`);
      }
      const what = finished.audit.map((event) => event.what);
      assert.ok(what.includes('run resumed'), what.join(', '));
      assert.equal(what.filter((event) => event === 'run finished').length, 1);
      const lease = leaseHolder(cluster.sim);
      assert.ok((lease?.leaseTransitions ?? 0) >= 1);
      const gone = finished.actions.filter((entry) => entry.outcome === 'gone').length;
      process.stderr.write(
        `failover: ${deletedAtKill}/${FAILED} deleted at the kill; lease taken over after ${tookOverMs} ms; ` +
          `${gone} deletes landed without their journal entry (journaled gone by the new leader)\n`,
      );
    } finally {
      for (const replica of replicas.splice(0)) await replica.stop();
      await cluster.sim.close();
    }
  });

  it('the real CLI: serve --store kubernetes, two replicas, one incident resource, and the lease handed over on SIGTERM', async () => {
    const cluster = await startCluster(['deploy.yaml']);
    try {
      const tokenFile = path.join(dir, 'webhook-token');
      await writeFile(tokenFile, `${WEBHOOK_TOKEN}\n`);
      const serve = (identity: string) => {
        const cli = spawnCli([
          'serve',
          '--port',
          '0',
          '--kubeconfig',
          kubeconfig,
          '--context',
          serviceAccountContext(NAMESPACE, 'stuckfailed'),
          '--store',
          'kubernetes',
          '--store-namespace',
          NAMESPACE,
          '--lease-duration',
          String(TIMING.leaseDurationMs / 1000),
          '--renew-deadline',
          String(TIMING.renewDeadlineMs / 1000),
          '--retry-period',
          String(TIMING.retryPeriodMs / 1000),
          '--identity',
          identity,
          '--webhook-token-file',
          tokenFile,
        ]);
        replicas.push(cli);
        return cli;
      };
      const [a, b] = [serve('cli-a'), serve('cli-b')];
      const urls = await Promise.all(
        [a, b].map(async (cli) => (await cli.waitForLine(/^listening on (\S+)$/))[1] as string),
      );
      assert.match(a.stdout(), /data: incidents\.stuckfailed\.io in namespace stuckfailed/);
      assert.match(a.stdout(), /leader election: Lease stuckfailed\/stuckfailed as cli-a/);
      const leader = await waitFor(async () => leaseHolder(cluster.sim)?.holderIdentity || undefined, {
        timeoutMs: 30_000,
        what: 'a leader',
      });
      const body = webhookBody('{}:{alertname="VirtLauncherPodsStuckFailed",via="cli"}', 'firing');
      const deliveries = await Promise.all(
        urls.map((url) => post(`${url}/webhook/alertmanager`, WEBHOOK_TOKEN, body)),
      );
      assert.equal(new Set(deliveries.map((delivery) => delivery.json.incident)).size, 1);
      const id = String(deliveries[0]?.json.incident);
      await waitFor(async () => ((await incident(urls[1] as string, id)).diagnosis ? true : undefined), {
        timeoutMs: 60_000,
        what: 'the leader diagnoses',
      });
      const table = await runKubectl(['get', 'incidents', '-A'], { kubeconfig });
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^NAMESPACE\s+NAME\s+STATUS\s+ALERT\s+FAILED\s+TOP-CAUSE\s+AGE$/m);
      assert.match(table.stdout, new RegExp(`stuckfailed\\s+${id}\\s+open\\s+firing\\s+${FAILED}\\s+\\S+`));
      assert.equal(table.stdout.trim().split('\n').length, 2, 'one incident');

      // A clean stop releases the lease: the other replica takes it on its next try, not after it expires.
      const [leading, other] = leader === 'cli-a' ? [a, 'cli-b'] : [b, 'cli-a'];
      assert.equal(await leading.stop(), 0);
      assert.equal(leaseHolder(cluster.sim)?.holderIdentity === leader, false, 'released on stop');
      await waitFor(async () => (leaseHolder(cluster.sim)?.holderIdentity === other ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the other replica takes the lease',
      });
    } finally {
      for (const replica of replicas.splice(0)) await replica.stop();
      await cluster.sim.close();
    }
  });

  it('with the read role alone every delete is refused and the incident names the missing permission', async () => {
    const cluster = await startCluster(['deploy.yaml', 'read-only.yaml']);
    try {
      const only = await startReplica('reader', 'read-only', 50);
      await waitFor(async () => (leaseHolder(cluster.sim)?.holderIdentity === 'reader' ? true : undefined), {
        timeoutMs: 30_000,
        what: 'the replica leads',
      });
      const planned = await fireAndApprove([only.url], only.url);
      const failed = await waitFor(
        async () => {
          const current = await incident(only.url, planned.id);
          return current.audit.some((event) => event.what === 'run failed') ? current : undefined;
        },
        { timeoutMs: 60_000, what: 'the run fails' },
      );
      const report = failed.audit.find((event) => event.what === 'run failed');
      // Refused by the pre-flight check, before the first write, with every missing rule named.
      assert.match(report?.detail ?? '', /would refuse part of this plan, so none of it was started/);
      assert.match(
        report?.detail ?? '',
        /\n {2}- verb "delete" on "pods" \(API group ""\) in namespace "[a-z0-9-]+"/,
      );
      assert.equal(failed.status, 'open', 'back to open: approve again once the role is granted');
      assert.equal(cluster.deleted.size, 0, 'nothing deleted');
      const health = await fetch(`${only.url}/healthz`);
      assert.equal(health.status, 200, 'the replica still serves');
      assert.equal(only.replica.child.exitCode, null);
    } finally {
      for (const replica of replicas.splice(0)) await replica.stop();
      await cluster.sim.close();
    }
  });
});
