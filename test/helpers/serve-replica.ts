// One `serve` replica for the failover test, as a process of its own so that the test can kill -9 it: what
// `stuckfailed serve --store kubernetes` runs (src/cli/serve-replicas.ts: the Kubernetes incident store and the
// Lease elector; createServer, serve's validate), with a plan of the clean step alone, rate-limited by the test so
// that the leader can be killed in the middle of it.
// Configuration: the JSON in STUCKFAILED_REPLICA (ReplicaConfig). Prints "listening on <url>" once it listens.
import { Registry } from 'prom-client';
import { openServeState } from '../../src/cli/serve-replicas.js';
import { LiveClusterReader } from '../../src/cluster/live-cluster-reader.js';
import { openKubeApi } from '../../src/cluster/open-reader.js';
import type { Pod } from '../../src/kube/types.js';
import { createCleanExecutor, planCleanStep } from '../../src/mitigation/clean.js';
import { makePlan } from '../../src/mitigation/plan.js';
import { createServer } from '../../src/server/create-server.js';
import { createJsonLogger } from '../../src/server/json-logger.js';
import { createClusterMitigator } from '../../src/server/mitigator.js';
import { defaultPolicy } from '../../src/server/policy.js';
import { serveMitigation } from '../../src/server/serve-mitigation.js';
import { SERVE_PAGES } from './serve-harness.js';

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
// The rate holds under the simulator's API Priority and Fairness: a slow first replica is what the test kills.
const { api } = openKubeApi({ ...kube, qps: config.qps, burst: 1, qpsOnlyWithoutApf: false, maxInFlight: 4 });
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
    executors: () => ({ clean: createCleanExecutor({ archiveDir: config.archiveDir }) }),
    validate: serveMitigation({ archiveRoot: config.archiveDir, windowMs: 1_000 }).validate,
  },
  now,
});
const state = await openServeState(
  {
    dataDir: '',
    store: 'kubernetes',
    storeNamespace: config.namespace,
    leaseName: 'stuckfailed',
    leaseDuration: config.leaseDurationMs / 1000,
    renewDeadline: config.renewDeadlineMs / 1000,
    retryPeriod: config.retryPeriodMs / 1000,
    identity: config.identity,
  },
  kube,
  logger,
);
const { app, service } = await createServer({
  store: state.store,
  mitigator,
  policy: defaultPolicy(),
  now,
  logger,
  registry: new Registry(),
  webhookToken: config.webhookToken,
  apiTokens: config.apiTokens,
  pages: SERVE_PAGES,
  elected: state.elected,
  reconcileMs: state.reconcileMs,
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${url}\n`);
state.start(service);
process.once('SIGTERM', () => {
  void state
    .stop()
    .then(() => app.close())
    .then(() => state.close())
    .then(() => process.exit(0));
});
