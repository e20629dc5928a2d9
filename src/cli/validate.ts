import { type Command, Option } from 'commander';
import { openKubeApi } from '../cluster/open-reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { formatDuration } from '../duration.js';
import { StuckfailedError } from '../errors.js';
import { createPrometheusClient } from '../prometheus/client.js';
import { FAILED_LAUNCHER_COUNT } from '../prometheus/queries.js';
import { createProgressReporter } from '../report/progress.js';
import {
  DEFAULT_PROMETHEUS_INTERVAL_MS,
  DEFAULT_WINDOW_MS,
  type ValidationProgress,
  type ValidationVerdict,
  validateClearing,
} from '../validation/validate-clearing.js';
import type { RegisterCommand } from './commands.js';
import { parseDurationFlag } from './duration-flag.js';
import {
  addKubeFlags,
  addPrometheusFlags,
  type KubeFlags,
  kubeConfigOptions,
  outputOption,
  type PrometheusFlags,
  thresholdOption,
} from './flags.js';
import { type CliIo, colorsFor } from './io.js';

const VALIDATE_FORMATS = ['text', 'json'] as const;

export interface ValidateFlags extends KubeFlags, PrometheusFlags {
  window: number;
  timeout?: number;
  threshold: number;
  prometheusInterval: number;
  output: (typeof VALIDATE_FORMATS)[number];
  quiet?: boolean;
}

/** Without a terminal, a status line at least this often, and whenever what validate waits for changes. */
const PLAIN_STATUS_EVERY_MS = 30_000;

export const registerValidateCommand: RegisterCommand = (program: Command, context) => {
  const command = program
    .command('validate')
    .description(
      "Wait until the alert clears (the runbook's Mitigation 4): the Failed " +
        'virt-launcher count below the threshold for the whole window, no launcher ' +
        'going Failed meanwhile, new launchers Running on Running VMIs. Watches the ' +
        'API (no polling); with --prometheus-url the count comes from the recording ' +
        'rule. Exit 0 cleared, 1 not by the timeout (with the reason).',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  stuckfailed validate                          # 10m window, 30m timeout, all namespaces',
        '  stuckfailed validate --window 2m --timeout 15m -n vms',
        '  stuckfailed validate --prometheus-url https://thanos-querier.openshift-monitoring.svc:9091 \\',
        '    --prometheus-token-file /var/run/secrets/kubernetes.io/serviceaccount/token',
      ].join('\n'),
    )
    .addOption(
      new Option('--window <duration>', "how long the count must stay below the threshold (the alert's for)")
        .argParser(parseDurationFlag)
        .default(DEFAULT_WINDOW_MS, '10m'),
    )
    .addOption(
      new Option('--timeout <duration>', 'give up (exit 1) after this long (default: 3 windows)').argParser(
        parseDurationFlag,
      ),
    )
    .addOption(thresholdOption(DEFAULT_THRESHOLD))
    .addOption(
      new Option('--prometheus-interval <duration>', 'how often the count is read from Prometheus')
        .argParser(parseDurationFlag)
        .default(DEFAULT_PROMETHEUS_INTERVAL_MS, '15s'),
    )
    .addOption(outputOption(VALIDATE_FORMATS, 'text'))
    .addOption(new Option('-q, --quiet', 'no progress on stderr'));
  addKubeFlags(command);
  addPrometheusFlags(command);
  command.action(async (flags: ValidateFlags) => {
    const verdict = await runValidate(flags, context.io);
    if (!verdict.cleared) context.setExitCode(1);
  });
};

/** The validate command's work, also for `demo` and `mitigate` to call. */
export async function runValidate(flags: ValidateFlags, io: CliIo): Promise<ValidationVerdict> {
  if (flags.window <= 0) throw new StuckfailedError('USAGE', '--window must be longer than 0, e.g. 10m');
  const timeoutMs = flags.timeout ?? 3 * flags.window;
  if (timeoutMs < flags.window) {
    throw new StuckfailedError(
      'USAGE',
      `--timeout ${formatDuration(timeoutMs)} is shorter than --window ${formatDuration(flags.window)}: validate could never succeed; give a timeout of at least the window`,
    );
  }
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  const prometheus =
    flags.prometheusUrl === undefined
      ? undefined
      : createPrometheusClient({
          url: flags.prometheusUrl,
          ...(flags.prometheusTokenFile === undefined ? {} : { tokenFile: flags.prometheusTokenFile }),
          ...(flags.prometheusCaFile === undefined ? {} : { caFile: flags.prometheusCaFile }),
        });
  const { api } = openKubeApi({
    ...kubeConfigOptions(flags, io.env),
    onWarning: warn,
  });
  const namespace = flags.namespace !== undefined && !flags.allNamespaces ? flags.namespace : undefined;
  const text = flags.output === 'text' && !flags.quiet;
  if (text) {
    const where = namespace === undefined ? 'all namespaces' : `namespace ${namespace}`;
    const source =
      prometheus === undefined
        ? 'the Kubernetes API (watch)'
        : `Prometheus at ${prometheus.url} (${FAILED_LAUNCHER_COUNT.record}, or its expression when the rule is absent); launchers and VMIs from the API`;
    io.stderr.write(
      `validating in ${where}: count below ${flags.threshold} for ${formatDuration(flags.window)}, timeout ${formatDuration(timeoutMs)}; count from ${source}\n`,
    );
  }
  const report = text ? progressPrinter(io, flags.window) : { show: () => undefined, stop: () => undefined };
  const interrupted = new AbortController();
  void io.waitForInterrupt().then(() => interrupted.abort());
  try {
    const verdict = await validateClearing({
      api,
      namespace,
      labelSelector: flags.selector,
      threshold: flags.threshold,
      windowMs: flags.window,
      timeoutMs,
      prometheus,
      prometheusIntervalMs: flags.prometheusInterval,
      signal: interrupted.signal,
      onProgress: report.show,
      onWarning: (message) => {
        report.stop();
        warn(message);
      },
    });
    report.stop();
    io.stdout.write(
      flags.output === 'json' ? `${JSON.stringify(verdict, null, 2)}\n` : renderVerdict(verdict, io),
    );
    return verdict;
  } finally {
    report.stop();
    api.close();
  }
}

/** On a terminal, one line rewritten in place; otherwise a plain line when the wait changes, and now and then. */
export function progressPrinter(
  io: CliIo,
  windowMs: number,
): { show(status: ValidationProgress): void; stop(): void } {
  if (io.stderrIsTTY) {
    const progress = createProgressReporter({ stream: io.stderr, isTTY: true, quiet: false });
    return {
      show(status) {
        const waiting = status.waitingFor.join('; ') || 'cleared';
        progress.start(
          `${waiting} [${formatDuration(status.remainingMs)} left]; clear for (s)`,
          Math.round(windowMs / 1000),
        );
        progress.update(Math.min(Math.round(status.clearForMs / 1000), Math.round(windowMs / 1000)));
      },
      stop: () => progress.stop(),
    };
  }
  let lastKey = '';
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    show(status) {
      if (status.cleared) return;
      const now = Date.now();
      // What changed, not the clock: a count, a launcher, a VMI, or what is waited for.
      const key = [
        status.count,
        status.newLaunchers.total,
        status.newLaunchers.pending,
        status.vmisNotRunning,
        status.waitingFor.length,
      ].join('|');
      if (key === lastKey && now - lastAt < PLAIN_STATUS_EVERY_MS) return;
      lastKey = key;
      lastAt = now;
      io.stderr.write(
        `${new Date(now).toISOString()} waiting for ${status.waitingFor.join('; ')} (${formatDuration(status.remainingMs)} left)\n`,
      );
    },
    stop: () => undefined,
  };
}

export function renderVerdict(verdict: ValidationVerdict, io: CliIo): string {
  const colors = colorsFor(io);
  const headline = verdict.cleared ? colors.green(verdict.reason) : colors.red(verdict.reason);
  const source =
    verdict.countSource === 'api'
      ? 'the API'
      : `Prometheus ${verdict.prometheusUrl} (${verdict.countSource})`;
  const lines = [
    headline,
    `  count: ${verdict.count ?? 'unknown'} from ${source}${verdict.countSource === 'api' ? '' : `; the API counts ${verdict.apiCount ?? 'unknown'}`} (threshold ${verdict.threshold})`,
    `  clear for: ${formatDuration(verdict.clearForMs)} of a ${formatDuration(verdict.windowMs)} window; launchers gone Failed since the start: ${verdict.launcherFailures}`,
    `  new launchers: ${verdict.newLaunchers.total} (${verdict.newLaunchers.running} Running, ${verdict.newLaunchers.pending} not yet, ${verdict.newLaunchers.failed} Failed); VMIs not Running: ${verdict.vmisNotRunning}`,
  ];
  return `${lines.join('\n')}\n`;
}
