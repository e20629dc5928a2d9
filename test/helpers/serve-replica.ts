// One `serve` replica for the failover test, as a process of its own so that the test can kill -9 it: the same
// pieces as `stuckfailed serve --store kubernetes` (src/cli/serve.ts) — the Kubernetes incident store, the Lease
// elector, createServer — with the real clean executor and planner in place of the interim mitigation, which is
// all this branch's serve has until the serve-e2e branch (the real mitigation in serve) is merged. Then the test
// can spawn the CLI itself.
// Configuration: the JSON in STUCKFAILED_REPLICA (ReplicaConfig). Prints "listening on <url>" once it listens.
import { Registry } from 'prom-client';
import { LiveClusterReader } from '../../src/cluster/live-cluster-reader.js';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import type { Pod } from '../../src/kube/types.js';
import { createCleanExecutor, planCleanStep } from '../../src/mitigation/clean.js';
import { makePlan } from '../../src/mitigation/plan.js';
import { createServer } from '../../src/server/create-server.js';
import { INTERIM_MITIGATION } from '../../src/server/interim-mitigation.js';
import { createJsonLogger } from '../../src/server/json-logger.js';
import { KubernetesIncidentStore } from '../../src/server/kubernetes-incident-store.js';
import { LeaderElector } from '../../src/server/leader-election.js';
import { createClusterMitigator } from '../../src/server/mitigator.js';
import { defaultPolicy } from '../../src/server/policy.js';

export interface ReplicaConfig {
  kubeconfig: string;
  context: string;
  identity: string;
  namespace: string;
  webhookToken: string;
  apiTokens: Array<{ name: string; token: string }>;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** The mitigation's request rate: low, so that a clean takes a few seconds. */
  qps: number;
  archiveDir: string;
}

const config = JSON.parse(process.env.STUCKFAILED_REPLICA ?? '') as ReplicaConfig;
const kube = { kubeconfig: config.kubeconfig, context: config.context, env: process.env };
const { api } = openKubeApi({ ...kube, qps: config.qps, burst: 1, maxInFlight: 4 });
// The store and the Lease on a client of their own: a renewal never queues behind the clean's rate limit.
const { api: stateApi } = openKubeApi(kube);
const logger = createJsonLogger(process.stderr, 'info', { replica: config.identity });
const now = () => new Date();
const mitigator = createClusterMitigator({
  reader: new LiveClusterReader(api),
  api,
  functions: {
    async plan({ api: planApi, now: clock }) {
      const selection = await planCleanStep(
        planApi.list<Pod>('pods', {
          labelSelector: 'kubevirt.io=virt-launcher',
          fieldSelector: 'status.phase=Failed',
        }),
        { keepPerVmi: 0, now: clock() },
      );
      return makePlan({
        createdAt: clock().toISOString(),
        scope: { namespaces: 'all' },
        steps: [selection.step],
        untouched: [],
      });
    },
    executors: { clean: createCleanExecutor({ archiveDir: config.archiveDir }) },
    validate: INTERIM_MITIGATION.validate,
  },
  now,
});
const store = new KubernetesIncidentStore({ api: stateApi, namespace: config.namespace });
const { app, service } = await createServer({
  store,
  mitigator,
  policy: defaultPolicy(),
  now,
  logger,
  registry: new Registry(),
  webhookToken: config.webhookToken,
  apiTokens: config.apiTokens,
  elected: true,
  reconcileMs: config.retryPeriodMs,
});
const elector = new LeaderElector({
  api: stateApi,
  namespace: config.namespace,
  name: 'stuckfailed',
  identity: config.identity,
  leaseDurationMs: config.leaseDurationMs,
  renewDeadlineMs: config.renewDeadlineMs,
  retryPeriodMs: config.retryPeriodMs,
  onStartedLeading: () => {
    logger.info('leading');
    void service.lead();
  },
  onStoppedLeading: () => {
    logger.warn('stopped leading');
    service.follow();
  },
  onError: (error) => logger.warn({ err: error }, 'leader election attempt failed'),
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${url}\n`);
const stop = new AbortController();
const campaign = elector.run(stop.signal);
process.once('SIGTERM', () => {
  stop.abort();
  void campaign.then(() => app.close()).then(() => process.exit(0));
});
