import { type Command, Option } from 'commander';
import { openKubeApi } from '../cluster/open-reader.js';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { formatDuration } from '../duration.js';
import { StuckfailedError } from '../errors.js';
import type { AlertConditionEvaluation } from '../validation/alert-condition.js';
import { evaluateAlertConditionOnce, watchAlertCondition } from '../validation/watch-alert-condition.js';
import type { RegisterCommand } from './commands.js';
import { parseDurationFlag } from './duration-flag.js';
import { addKubeFlags, type KubeFlags, kubeConfigOptions, outputOption, thresholdOption } from './flags.js';
import { type Colors, colorsFor } from './io.js';

const WATCH_FORMATS = ['text', 'json'] as const;

interface WatchFlags extends KubeFlags {
  once?: boolean;
  threshold: number;
  interval: number;
  output: (typeof WATCH_FORMATS)[number];
}

export const registerWatchCommand: RegisterCommand = (program: Command, context) => {
  const command = program
    .command('watch')
    .description(
      "Evaluate the alert's condition straight from the API, without Prometheus: " +
        'the count of Failed virt-launcher pods against the threshold, since when it ' +
        "holds (a lower bound), pending or firing (held for the alert's 10m), and the " +
        'trend. A line on each change; --once evaluates once and exits 1 when the ' +
        'condition holds, 0 when not (for scripts and cron).',
    )
    .addHelpText(
      'after',
      ['', 'Examples:', '  stuckfailed watch', '  stuckfailed watch --once -o json || page-someone'].join(
        '\n',
      ),
    )
    .addOption(
      new Option('--once', 'evaluate once from a list and exit: 1 when the condition holds, 0 when not'),
    )
    .addOption(thresholdOption(DEFAULT_THRESHOLD))
    .addOption(
      new Option('--interval <duration>', 'print the condition at least this often, even without a change')
        .argParser(parseDurationFlag)
        .default(60_000, '1m'),
    )
    .addOption(outputOption(WATCH_FORMATS, 'text'));
  addKubeFlags(command);
  command.action(async (flags: WatchFlags) => {
    const { io } = context;
    if (flags.interval < 1_000) {
      throw new StuckfailedError('USAGE', '--interval must be at least 1s, e.g. 30s or 1m');
    }
    const { api } = openKubeApi({
      ...kubeConfigOptions(flags, io.env),
      onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
    });
    const namespace = flags.namespace !== undefined && !flags.allNamespaces ? flags.namespace : undefined;
    const scope = { namespace, labelSelector: flags.selector, threshold: flags.threshold };
    const colors = colorsFor(io);
    const render = (evaluation: AlertConditionEvaluation) =>
      flags.output === 'json'
        ? `${JSON.stringify(evaluation)}\n`
        : `${renderEvaluation(evaluation, colors)}\n`;
    try {
      if (flags.once) {
        const evaluation = await evaluateAlertConditionOnce({ api, ...scope });
        io.stdout.write(render(evaluation));
        if (evaluation.holds) context.setExitCode(1);
        return;
      }
      if (flags.output === 'text') {
        io.stderr.write(
          `watching the Failed virt-launcher pods in ${namespace === undefined ? 'all namespaces' : `namespace ${namespace}`} (Ctrl-C to stop)\n`,
        );
      }
      const interrupted = new AbortController();
      void io.waitForInterrupt().then(() => interrupted.abort());
      let printed: { key: string; at: number } | undefined;
      await watchAlertCondition({
        api,
        ...scope,
        signal: interrupted.signal,
        onEvaluation: (evaluation) => {
          // Evaluations come once a second at most: a line on each change is already throttled to that.
          const key = `${evaluation.count}|${evaluation.state}`;
          const at = Date.parse(evaluation.at);
          if (printed !== undefined && printed.key === key && at - printed.at < flags.interval) return;
          printed = { key, at };
          io.stdout.write(render(evaluation));
        },
      });
    } finally {
      api.close();
    }
  });
};

export function renderEvaluation(evaluation: AlertConditionEvaluation, colors: Colors): string {
  const state =
    evaluation.state === 'firing'
      ? colors.red('firing')
      : evaluation.state === 'pending'
        ? colors.yellow('pending')
        : colors.green('inactive');
  const condition = evaluation.holds
    ? `holds since ${evaluation.since} (at least ${formatDuration(evaluation.heldMs)})`
    : 'does not hold';
  const trend =
    evaluation.trend === undefined
      ? ''
      : `; trend ${evaluation.trend.perMinute >= 0 ? '+' : ''}${evaluation.trend.perMinute.toFixed(1)}/min over ${formatDuration(evaluation.trend.overMs)}`;
  return `${evaluation.at} ${state}: ${evaluation.count} Failed virt-launcher pods (threshold ${evaluation.threshold}); condition ${condition}${trend}`;
}
