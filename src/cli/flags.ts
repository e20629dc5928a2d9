import { type Command, InvalidArgumentError, Option } from 'commander';
import type { LoadKubeConfigOptions } from '../cluster/kube-config.js';
import { StuckfailedError } from '../errors.js';
import { parseLabelSelector, SelectorError } from '../kube/selectors.js';

// Flags spelled as kubectl spells them, each also settable by a STUCKFAILED_* environment variable
// (flag > environment > default), so a Deployment can configure the tool without a wrapper script.

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  as?: string;
  asGroup?: string[];
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
}

export interface PrometheusFlags {
  prometheusUrl?: string;
  prometheusTokenFile?: string;
  prometheusCaFile?: string;
}

export function addKubeFlags(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--kubeconfig <path>',
        'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)',
      ).env('STUCKFAILED_KUBECONFIG'),
    )
    .addOption(new Option('--context <name>', 'the kubeconfig context to use').env('STUCKFAILED_CONTEXT'))
    .addOption(
      new Option(
        '--as <user>',
        'act as this user or service account (system:serviceaccount:NS:NAME), as kubectl --as does',
      ).env('STUCKFAILED_AS'),
    )
    .addOption(
      new Option(
        '--as-group <group>',
        'with --as: act as a member of this group (repeat for more)',
      ).argParser((value: string, previous: string[] = []) => [...previous, value]),
    )
    .addOption(
      new Option('-n, --namespace <namespace>', 'limit to this namespace (default: all namespaces)').env(
        'STUCKFAILED_NAMESPACE',
      ),
    )
    .addOption(new Option('-A, --all-namespaces', 'all namespaces (the default unless -n is given)'))
    .addOption(
      new Option('-l, --selector <selector>', 'extra label selector for the pods (e.g. app=web,tier!=db)')
        .env('STUCKFAILED_SELECTOR')
        .argParser(parseSelector),
    );
}

/** Which kubeconfig, context and identity (--as) the API client uses, for openKubeApi and openClusterReader. */
export function kubeConfigOptions(flags: KubeFlags, env: NodeJS.ProcessEnv): LoadKubeConfigOptions {
  const groups = flags.asGroup ?? [];
  if (groups.length > 0 && !flags.as) {
    throw new StuckfailedError(
      'USAGE',
      '--as-group needs --as: groups are impersonated together with a user',
    );
  }
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    env,
    ...(flags.as ? { impersonate: { user: flags.as, groups } } : {}),
  };
}

/**
 * -l checked here, as kubectl checks it before any request: a selector the API server would refuse is a usage
 * error that names the flag, not a 400 about the merged, URL-encoded query (nor exit 3 when the server is down).
 */
function parseSelector(value: string): string {
  try {
    parseLabelSelector(value);
  } catch (error) {
    if (error instanceof SelectorError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  return value;
}

export function addPrometheusFlags(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--prometheus-url <url>',
        'Prometheus (or Thanos querier) base URL; the API alone when unset',
      ).env('STUCKFAILED_PROMETHEUS_URL'),
    )
    .addOption(
      new Option('--prometheus-token-file <path>', 'file holding a bearer token for Prometheus').env(
        'STUCKFAILED_PROMETHEUS_TOKEN_FILE',
      ),
    )
    .addOption(
      new Option('--prometheus-ca-file <path>', 'CA bundle that signs the Prometheus certificate').env(
        'STUCKFAILED_PROMETHEUS_CA_FILE',
      ),
    );
}

/** -o/--output with a closed list of formats; an unknown one is a usage error that lists the valid ones. */
export function outputOption<T extends string>(formats: readonly T[], defaultFormat: T): Option {
  return new Option('-o, --output <format>', `output format: ${formats.join('|')}`)
    .choices(formats)
    .default(defaultFormat);
}

export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a whole number >= 0');
  }
  return parsed;
}

/** A count that must be at least 1 (e.g. --min-failed: 0 would select every VM). */
export function parseCountAtLeastOne(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected a whole number >= 1');
  }
  return parsed;
}

/**
 * --threshold, the alert's (Failed launchers), for every command that compares with it. 0 is refused: the condition
 * would always hold, so validate and mitigate could never succeed and watch would always page.
 */
export function thresholdOption(defaultThreshold: number): Option {
  return new Option('--threshold <n>', 'the alert threshold (Failed launchers)')
    .argParser(parseCountAtLeastOne)
    .default(defaultThreshold);
}

export function parseNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a number >= 0');
  }
  return parsed;
}
