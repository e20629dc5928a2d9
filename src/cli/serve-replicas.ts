// serve's store and, with --store kubernetes, its leader election: the flags and the wiring, kept out of serve.ts so
// that the command reads as before. `dir` keeps incidents in --data-dir (one replica, which always acts);
// `kubernetes` keeps them as Incident custom resources and elects one acting replica on a Lease (docs/SERVE.md).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { type OpenKubeApiOptions, openKubeApi } from '../cluster/open-reader.js';
import { StuckfailedError } from '../errors.js';
import { FileIncidentStore } from '../server/file-incident-store.js';
import type { IncidentService, ServiceLogger } from '../server/incident-service.js';
import type { IncidentStore } from '../server/incident-store.js';
import { KubernetesIncidentStore } from '../server/kubernetes-incident-store.js';
import { checkTiming, DEFAULT_TIMING, LeaderElector } from '../server/leader-election.js';
import { parseNumber } from './flags.js';

/** Where a pod's ServiceAccount namespace is mounted: serve's own namespace in a cluster. */
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export interface StoreFlags {
  dataDir: string;
  store: 'dir' | 'kubernetes';
  storeNamespace?: string;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity?: string;
}

export function addStoreFlags(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--store <kind>',
        'where incidents are kept: dir (--data-dir, one replica) or kubernetes (Incident resources; replicas elect a leader)',
      )
        .choices(['dir', 'kubernetes'])
        .default('dir')
        .env('STUCKFAILED_STORE'),
    )
    .addOption(
      new Option(
        '--store-namespace <namespace>',
        "--store kubernetes: the incidents' and the Lease's namespace (default: the pod's own)",
      ).env('STUCKFAILED_STORE_NAMESPACE'),
    )
    .addOption(
      new Option('--lease-name <name>', 'the Lease the replicas elect their leader on').default(
        'stuckfailed',
      ),
    )
    .addOption(
      new Option('--lease-duration <seconds>', 'how long a lease not renewed keeps others from taking it')
        .argParser(parseNumber)
        .default(DEFAULT_TIMING.leaseDurationMs / 1000),
    )
    .addOption(
      new Option('--renew-deadline <seconds>', 'how long the leader tries to renew before it stops acting')
        .argParser(parseNumber)
        .default(DEFAULT_TIMING.renewDeadlineMs / 1000),
    )
    .addOption(
      new Option('--retry-period <seconds>', 'how often the lease is renewed, or tried for')
        .argParser(parseNumber)
        .default(DEFAULT_TIMING.retryPeriodMs / 1000),
    )
    .addOption(
      new Option('--identity <name>', 'this replica in the Lease (default: $POD_NAME, else host-pid)').env(
        'POD_NAME',
      ),
    );
}

export interface ServeState {
  store: IncidentStore;
  /** Several replicas: the service starts as a follower and leads once elected. */
  elected: boolean;
  /** How often the leader looks through the store for work other replicas recorded. */
  reconcileMs: number;
  /** serve's banner lines about the store and the election. */
  banner: string;
  /** Starts campaigning (no-op for `dir`): the service leads while this replica holds the Lease. */
  start(service: IncidentService): void;
  /** Stops campaigning and releases the Lease if held. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function openServeState(
  flags: StoreFlags,
  kube: OpenKubeApiOptions,
  logger: ServiceLogger,
): Promise<ServeState> {
  if (flags.store === 'dir') {
    const store = await FileIncidentStore.open(flags.dataDir);
    return {
      store,
      elected: false,
      reconcileMs: DEFAULT_TIMING.retryPeriodMs,
      banner: `  data: ${store.dir}\n`,
      start: () => undefined,
      stop: async () => undefined,
      close: () => store.close(),
    };
  }
  const timing = {
    leaseDurationMs: flags.leaseDuration * 1000,
    renewDeadlineMs: flags.renewDeadline * 1000,
    retryPeriodMs: flags.retryPeriod * 1000,
  };
  checkTiming(timing);
  const namespace =
    flags.storeNamespace ??
    (await readFile(POD_NAMESPACE_FILE, 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    ));
  if (namespace === undefined || namespace === '') {
    throw new StuckfailedError(
      'USAGE',
      `--store kubernetes needs --store-namespace outside a pod (there is no ${POD_NAMESPACE_FILE})`,
    );
  }
  // The incidents and the Lease on a client of their own: a renewal never queues behind a clean's rate limit.
  const { api } = openKubeApi(kube);
  const store = new KubernetesIncidentStore({ api, namespace });
  const identity = flags.identity ?? `${hostname()}-${process.pid}`;
  const electing = new AbortController();
  let campaign: Promise<void> | undefined;
  return {
    store,
    elected: true,
    reconcileMs: Math.max(500, timing.retryPeriodMs),
    banner:
      `  data: ${store.describe()}\n` +
      `  leader election: Lease ${namespace}/${flags.leaseName} as ${identity}\n`,
    start(service) {
      const elector = new LeaderElector({
        api,
        namespace,
        name: flags.leaseName,
        identity,
        ...timing,
        onStartedLeading: () => {
          logger.info({ identity }, 'leading: this replica diagnoses and acts');
          void service.lead();
        },
        onStoppedLeading: () => {
          logger.warn({ identity }, 'stopped leading: acting stops after the writes in flight');
          service.follow();
        },
        onNewLeader: (leader) => logger.info({ leader: leader ?? null }, 'leader observed'),
        onError: (error) => logger.warn({ err: error }, 'leader election attempt failed'),
      });
      campaign = elector.run(electing.signal);
    },
    async stop() {
      electing.abort();
      await campaign;
    },
    async close() {
      electing.abort();
      await campaign;
      await store.close();
      api.close();
    },
  };
}
