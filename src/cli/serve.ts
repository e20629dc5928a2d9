import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { Registry } from 'prom-client';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { openKubeApi } from '../cluster/open-reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { createPrometheusGatherer } from '../diagnosis/prometheus-gatherer.js';
import { StuckfailedError } from '../errors.js';
import { createPrometheusClient } from '../prometheus/client.js';
import { createServer } from '../server/create-server.js';
import { FileIncidentStore } from '../server/file-incident-store.js';
import type { IncidentStore } from '../server/incident-store.js';
import { INTERIM_MITIGATION } from '../server/interim-mitigation.js';
import { createJsonLogger } from '../server/json-logger.js';
import { KubernetesIncidentStore } from '../server/kubernetes-incident-store.js';
import { checkTiming, DEFAULT_TIMING, LeaderElector } from '../server/leader-election.js';
import { createClusterMitigator } from '../server/mitigator.js';
import { PLACEHOLDER_PAGES } from '../server/placeholder-page.js';
import { loadPolicy } from '../server/policy.js';
import { loadApiTokens, loadWebhookToken } from '../server/tokens.js';
import type { RegisterCommand } from './commands.js';
import {
  addKubeFlags,
  addPrometheusFlags,
  type KubeFlags,
  type PrometheusFlags,
  parseNumber,
  parsePositiveInt,
} from './flags.js';

export const DEFAULT_DATA_DIR = './stuckfailed-data';
/** Where a pod's ServiceAccount namespace is mounted: serve's own namespace in a cluster. */
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

interface ServeFlags extends KubeFlags, PrometheusFlags {
  address: string;
  port: number;
  dataDir: string;
  store: 'dir' | 'kubernetes';
  storeNamespace?: string;
  leaseName: string;
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
  identity?: string;
  webhookTokenFile?: string;
  apiTokenFile?: string;
  policy?: string;
  threshold: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const registerServeCommand: RegisterCommand = (program: Command, context) => {
  const command = program
    .command('serve')
    .summary('Answer the alert as a service: Alertmanager webhook, incidents API, approvals, /metrics.')
    .description(
      'Receive Alertmanager notifications for VirtLauncherPodsStuckFailed. Each\n' +
        'alert group opens one incident, diagnosed at once; its plan runs when the\n' +
        'policy allows it or once approved through the API, and the resolved\n' +
        'notification validates and closes it. Incidents persist in --data-dir.\n' +
        'See docs/SERVE.md. Example:\n' +
        '  stuckfailed serve --webhook-token-file /etc/stuckfailed/webhook-token \\\n' +
        '    --api-token-file /etc/stuckfailed/api-tokens --policy policy.yaml',
    )
    .addOption(
      new Option('--address <ip>', 'address to listen on').default('127.0.0.1').env('STUCKFAILED_ADDRESS'),
    )
    .addOption(
      new Option('--port <port>', 'port to listen on (0: a free one)')
        .argParser(parsePositiveInt)
        .default(8080)
        .env('STUCKFAILED_PORT'),
    )
    .addOption(
      new Option('--data-dir <dir>', 'where incidents are kept (one JSON file each)')
        .default(DEFAULT_DATA_DIR)
        .env('STUCKFAILED_DATA_DIR'),
    )
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
        "--store kubernetes: the namespace of the incidents and the Lease (default: the pod's own)",
      ).env('STUCKFAILED_STORE_NAMESPACE'),
    )
    .addOption(
      new Option(
        '--lease-name <name>',
        '--store kubernetes: the Lease replicas elect their leader on',
      ).default('stuckfailed'),
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
      new Option(
        '--identity <name>',
        'this replica in the Lease (default: $POD_NAME, else host and pid)',
      ).env('POD_NAME'),
    )
    .addOption(
      new Option(
        '--webhook-token-file <file>',
        "file holding the bearer token Alertmanager sends (its http_config's credentials_file)",
      ).env('STUCKFAILED_WEBHOOK_TOKEN_FILE'),
    )
    .addOption(
      new Option(
        '--api-token-file <file>',
        'file of name:token lines allowed to approve plans (approvals are off without it)',
      ).env('STUCKFAILED_API_TOKEN_FILE'),
    )
    .addOption(
      new Option(
        '--policy <file>',
        'YAML policy: per cause, which actions run automatically or on approval, with caps (default: approval only)',
      ).env('STUCKFAILED_POLICY'),
    )
    .addOption(
      new Option('--threshold <n>', 'the alert threshold (Failed launchers)')
        .argParser(parsePositiveInt)
        .default(DEFAULT_THRESHOLD),
    )
    .addOption(
      new Option('--log-level <level>', 'log level (JSON lines on stderr)')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info')
        .env('STUCKFAILED_LOG_LEVEL'),
    );
  addKubeFlags(command);
  addPrometheusFlags(command);
  command.action(async (flags: ServeFlags) => {
    const { io } = context;
    if (flags.webhookTokenFile === undefined) {
      throw new StuckfailedError(
        'USAGE',
        '--webhook-token-file is required: the webhook never runs without a token (write one with openssl rand -hex 32)',
      );
    }
    const webhookToken = await loadWebhookToken(flags.webhookTokenFile);
    const apiTokens = flags.apiTokenFile === undefined ? [] : await loadApiTokens(flags.apiTokenFile);
    const policy = await loadPolicy(flags.policy);
    const logger = createJsonLogger(io.stderr, flags.logLevel);
    const kube = { kubeconfig: flags.kubeconfig, context: flags.context, env: io.env };
    const { api } = openKubeApi(kube);
    // The incidents and the Lease on a client of their own: a renewal never queues behind a clean's rate limit.
    const { api: stateApi } = openKubeApi(kube);
    const scope = flags.namespace !== undefined && !flags.allNamespaces ? { namespace: flags.namespace } : {};
    const now = () => new Date();
    const mitigator = createClusterMitigator({
      reader: new LiveClusterReader(api),
      api,
      // INTERIM until the mitigation commands are merged: see src/server/interim-mitigation.ts.
      functions: INTERIM_MITIGATION,
      diagnoseOptions: {
        threshold: flags.threshold,
        ...scope,
        ...(flags.selector === undefined ? {} : { labelSelector: flags.selector }),
        ...(flags.prometheusUrl === undefined
          ? {}
          : {
              prometheus: createPrometheusGatherer(
                createPrometheusClient({
                  url: flags.prometheusUrl,
                  ...(flags.prometheusTokenFile === undefined
                    ? {}
                    : { tokenFile: flags.prometheusTokenFile }),
                  ...(flags.prometheusCaFile === undefined ? {} : { caFile: flags.prometheusCaFile }),
                }),
                scope,
              ),
            }),
      },
      now,
    });
    const timing = {
      leaseDurationMs: flags.leaseDuration * 1000,
      renewDeadlineMs: flags.renewDeadline * 1000,
      retryPeriodMs: flags.retryPeriod * 1000,
    };
    if (flags.store === 'kubernetes') checkTiming(timing);
    let store: IncidentStore;
    let where: string;
    let storeNamespace: string | undefined;
    if (flags.store === 'kubernetes') {
      storeNamespace =
        flags.storeNamespace ??
        (await readFile(POD_NAMESPACE_FILE, 'utf8').then(
          (text) => text.trim(),
          () => undefined,
        ));
      if (storeNamespace === undefined || storeNamespace === '') {
        throw new StuckfailedError(
          'USAGE',
          `--store kubernetes needs --store-namespace outside a pod (there is no ${POD_NAMESPACE_FILE})`,
        );
      }
      const kubeStore = new KubernetesIncidentStore({ api: stateApi, namespace: storeNamespace });
      store = kubeStore;
      where = kubeStore.describe();
    } else {
      const fileStore = await FileIncidentStore.open(flags.dataDir);
      store = fileStore;
      where = fileStore.dir;
    }
    const { app, service } = await createServer({
      store,
      mitigator,
      policy,
      now,
      logger,
      registry: new Registry(),
      webhookToken,
      apiTokens,
      // PLACEHOLDER until the serve-page branch is merged: its renderIndexPage / renderIncidentPage go here.
      pages: PLACEHOLDER_PAGES,
      elected: flags.store === 'kubernetes',
      reconcileMs: Math.max(500, timing.retryPeriodMs),
    });
    const identity = flags.identity ?? `${hostname()}-${process.pid}`;
    const elector =
      storeNamespace === undefined
        ? undefined
        : new LeaderElector({
            api: stateApi,
            namespace: storeNamespace,
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
    const electing = new AbortController();
    try {
      let url: string;
      try {
        url = await app.listen({ host: flags.address, port: flags.port });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
          throw new StuckfailedError('USAGE', `cannot listen on ${flags.address}:${flags.port}: ${code}`, {
            cause: error,
          });
        }
        throw error;
      }
      io.stdout.write(
        `listening on ${url}\n` +
          `  webhook: ${url}/webhook/alertmanager  incidents: ${url}/api/v1/incidents  data: ${where}\n` +
          (elector === undefined
            ? ''
            : `  leader election: Lease ${storeNamespace}/${flags.leaseName} as ${identity}\n`) +
          `  policy: ${policy.source}; approvals ${apiTokens.length === 0 ? 'off (no --api-token-file)' : `by ${apiTokens.map((token) => token.name).join(', ')}`}\n`,
      );
      const campaign = elector?.run(electing.signal);
      await io.waitForInterrupt();
      electing.abort();
      await campaign;
    } finally {
      electing.abort();
      await app.close();
      await store.close();
      api.close();
      stateApi.close();
    }
    io.stderr.write('serve stopped\n');
  });
};
