import path from 'node:path';
import { type Command, Option } from 'commander';
import { Registry } from 'prom-client';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { openKubeApi } from '../cluster/open-reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { createPrometheusGatherer } from '../diagnosis/prometheus-gatherer.js';
import { formatDuration } from '../duration.js';
import { StuckfailedError } from '../errors.js';
import { createPrometheusClient } from '../prometheus/client.js';
import { createServer } from '../server/create-server.js';
import { createJsonLogger } from '../server/json-logger.js';
import { createClusterMitigator } from '../server/mitigator.js';
import {
  PAGE_HEADERS,
  renderIncidentPage,
  renderIndexPage,
  renderNotFoundPage,
} from '../server/page/render-page.js';
import { loadPolicy } from '../server/policy.js';
import { serveMitigation } from '../server/serve-mitigation.js';
import { loadApiTokens, loadWebhookToken } from '../server/tokens.js';
import { DEFAULT_WINDOW_MS } from '../validation/validate-clearing.js';
import type { RegisterCommand } from './commands.js';
import { parseDurationFlag } from './duration-flag.js';
import {
  addKubeFlags,
  addPrometheusFlags,
  type KubeFlags,
  kubeConfigOptions,
  type PrometheusFlags,
  parsePositiveInt,
  thresholdOption,
} from './flags.js';
import type { CommandContext } from './io.js';
import { addStoreFlags, openServeState, type StoreFlags } from './serve-replicas.js';

export const DEFAULT_DATA_DIR = './stuckfailed-data';

export interface ServeFlags extends KubeFlags, PrometheusFlags, StoreFlags {
  address: string;
  port: number;
  webhookTokenFile?: string;
  apiTokenFile?: string;
  policy?: string;
  threshold: number;
  validateWindow: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const registerServeCommand: RegisterCommand = (program: Command, context) => {
  const command = program
    .command('serve')
    .summary('Answer the alert as a service: Alertmanager webhook, incidents API, approvals, /metrics.')
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  stuckfailed serve --webhook-token-file /etc/stuckfailed/webhook-token \\\n' +
        '    --api-token-file /etc/stuckfailed/api-tokens --policy policy.yaml\n',
    )
    .description(
      'Receive Alertmanager notifications for VirtLauncherPodsStuckFailed. Each alert group opens one incident, ' +
        'diagnosed at once; its plan runs when the policy allows it or once approved through the API, and the ' +
        'resolved notification validates and closes it. Incidents persist in --data-dir (or, with --store ' +
        'kubernetes, as Incident resources). See docs/SERVE.md.',
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
    .addOption(thresholdOption(DEFAULT_THRESHOLD))
    .addOption(
      new Option(
        '--validate-window <duration>',
        "after the resolved notification: how long the count must stay below the threshold (the alert's for) before the incident closes cleared; not cleared after 3 windows",
      )
        .argParser(parseDurationFlag)
        .default(DEFAULT_WINDOW_MS, '10m'),
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
  command.action((flags: ServeFlags) => runServe(flags, context));
};

export interface ServeHooks {
  /** Called once serve listens, before it waits for Ctrl-C (the demo opens an incident here). */
  onListening?(url: string): Promise<void>;
  /** Called when serve stops (Ctrl-C or SIGTERM), before the app closes. */
  onStopping?(): void;
}

/** `stuckfailed serve`: listens until interrupted; demo --serve runs it too. */
export async function runServe(
  flags: ServeFlags,
  context: CommandContext,
  hooks: ServeHooks = {},
): Promise<void> {
  const { io } = context;
  if (flags.webhookTokenFile === undefined) {
    throw new StuckfailedError(
      'USAGE',
      '--webhook-token-file is required: the webhook never runs without a token (write one with openssl rand -hex 32)',
    );
  }
  if (flags.validateWindow <= 0) {
    throw new StuckfailedError('USAGE', '--validate-window must be longer than 0, e.g. 10m');
  }
  const webhookToken = await loadWebhookToken(flags.webhookTokenFile);
  const apiTokens = flags.apiTokenFile === undefined ? [] : await loadApiTokens(flags.apiTokenFile);
  const policy = await loadPolicy(flags.policy);
  const logger = createJsonLogger(io.stderr, flags.logLevel);
  const { api } = openKubeApi(kubeConfigOptions(flags, io.env));
  const scope = flags.namespace !== undefined && !flags.allNamespaces ? { namespace: flags.namespace } : {};
  const now = () => new Date();
  const archiveRoot = path.resolve(flags.dataDir, 'archive');
  const mitigator = createClusterMitigator({
    reader: new LiveClusterReader(api),
    api,
    // Each incident's archive goes beside the incidents, under the data directory.
    functions: serveMitigation({
      archiveRoot,
      namespace: scope.namespace,
      selector: flags.selector,
      windowMs: flags.validateWindow,
    }),
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
                ...(flags.prometheusTokenFile === undefined ? {} : { tokenFile: flags.prometheusTokenFile }),
                ...(flags.prometheusCaFile === undefined ? {} : { caFile: flags.prometheusCaFile }),
              }),
              scope,
            ),
          }),
    },
    now,
  });
  const state = await openServeState(flags, kubeConfigOptions(flags, io.env), logger);
  const { app, service } = await createServer({
    store: state.store,
    mitigator,
    policy,
    now,
    logger,
    registry: new Registry(),
    webhookToken,
    apiTokens,
    pages: { renderIndexPage, renderIncidentPage, renderNotFoundPage, headers: PAGE_HEADERS },
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
        `  archive: ${archiveRoot}/<incident>/<namespace>/<pod>.yaml; validate window ${formatDuration(flags.validateWindow)}\n` +
        `  policy: ${policy.source}; approvals ${apiTokens.length === 0 ? 'off (no --api-token-file)' : `by ${apiTokens.map((token) => token.name).join(', ')}`}\n`,
    );
    state.start(service);
    await hooks.onListening?.(url);
    await io.waitForInterrupt();
    await state.stop();
  } finally {
    hooks.onStopping?.();
    await app.close();
    await state.close();
    api.close();
  }
  io.stderr.write('serve stopped\n');
}
