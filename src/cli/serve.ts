import { type Command, Option } from 'commander';
import { Registry } from 'prom-client';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { openKubeApi } from '../cluster/open-reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { createPrometheusGatherer } from '../diagnosis/prometheus-gatherer.js';
import { StuckfailedError } from '../errors.js';
import { createPrometheusClient } from '../prometheus/client.js';
import { createServer } from '../server/create-server.js';
import { INTERIM_MITIGATION } from '../server/interim-mitigation.js';
import { createJsonLogger } from '../server/json-logger.js';
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
  parsePositiveInt,
} from './flags.js';
import { addStoreFlags, openServeState, type StoreFlags } from './serve-replicas.js';

export const DEFAULT_DATA_DIR = './stuckfailed-data';

interface ServeFlags extends KubeFlags, PrometheusFlags, StoreFlags {
  address: string;
  port: number;
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
  addStoreFlags(command);
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
    const state = await openServeState(flags, kube, logger);
    const { app, service } = await createServer({
      store: state.store,
      mitigator,
      policy,
      now,
      logger,
      registry: new Registry(),
      webhookToken,
      apiTokens,
      // PLACEHOLDER until the serve-page branch is merged: its renderIndexPage / renderIncidentPage go here.
      pages: PLACEHOLDER_PAGES,
      elected: state.elected,
      reconcileMs: state.reconcileMs,
    });
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
          `  webhook: ${url}/webhook/alertmanager  incidents: ${url}/api/v1/incidents\n${state.banner}` +
          `  policy: ${policy.source}; approvals ${apiTokens.length === 0 ? 'off (no --api-token-file)' : `by ${apiTokens.map((token) => token.name).join(', ')}`}\n`,
      );
      state.start(service);
      await io.waitForInterrupt();
      await state.stop();
    } finally {
      await app.close();
      await state.close();
      api.close();
    }
    io.stderr.write('serve stopped\n');
  });
};
