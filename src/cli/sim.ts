import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { StuckfailedError } from '../errors.js';
import { type Faults, parseFaultSpec } from '../sim/faults.js';
import { SCENARIO_NAMES, type ScenarioName } from '../sim/scenarios/types.js';
import type { RegisterCommand } from './commands.js';
import { parseNumber, parsePositiveInt } from './flags.js';

interface SimFlags {
  scenario?: ScenarioName;
  failed?: number;
  namespaces?: number;
  nodes?: number;
  seed?: number;
  port: number;
  from?: string[];
  faults?: Faults;
  churn?: number;
  kubeconfigOut?: string;
  contextNamespace?: string;
  tls?: boolean;
  rbac?: string[];
  tokensOut?: string;
  discovery: 'aggregated' | 'legacy';
}

function parseFaultsFlag(value: string): Faults {
  try {
    return parseFaultSpec(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export const registerSimCommand: RegisterCommand = (program: Command, context) => {
  program
    .command('sim')
    .summary(
      'Run a simulated cluster (Kubernetes API + kube-state-metrics) on 127.0.0.1 for demos and tests.',
    )
    .description(
      'Run a simulated cluster on 127.0.0.1: the Kubernetes API (kubectl and client libraries work against it) ' +
        'and kube-state-metrics series on /metrics, seeded from a scenario or from files. Runs until Ctrl-C. ' +
        'Control endpoints: POST /sim/heal, POST /sim/faults, GET /sim/stats (see docs/SIMULATOR.md).',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  stuckfailed sim --scenario image-pull --failed 300 --kubeconfig-out sim.kubeconfig\n' +
        '  stuckfailed sim --from ./must-gather --faults throttleRate=0.1,latencyMs=5',
    )
    .addOption(
      new Option(
        '--scenario <name>',
        'what the cluster suffers from (default: healthy, 0 failed launchers)',
      ).choices(SCENARIO_NAMES),
    )
    .addOption(
      new Option(
        '--failed <n>',
        'Failed virt-launcher pods to lay down (default: 0 healthy, 250 otherwise)',
      ).argParser(parsePositiveInt),
    )
    .addOption(new Option('--namespaces <n>', 'VM namespaces (default 5)').argParser(parsePositiveInt))
    .addOption(new Option('--nodes <n>', 'nodes (default 10)').argParser(parsePositiveInt))
    .addOption(
      new Option('--seed <s>', 'random seed: the same seed lays down the same cluster (default 1)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      new Option('--port <port>', 'port on 127.0.0.1 (0: a free one)').argParser(parsePositiveInt).default(0),
    )
    .addOption(
      new Option(
        '--from <path...>',
        'seed from YAML/JSON files or a must-gather folder instead of a scenario',
      ),
    )
    .addOption(
      new Option(
        '--faults <spec>',
        'API faults as JSON or k=v,...: errorRate, throttleRate, retryAfterSeconds, latencyMs, expireContinueAfterSeconds, resetRate',
      ).argParser(parseFaultsFlag),
    )
    .addOption(
      new Option(
        '--churn <rate>',
        'new failures per second while not healed (healthy launchers after)',
      ).argParser(parseNumber),
    )
    .addOption(
      new Option('--kubeconfig-out <file>', 'where to write the kubeconfig (default: in the temp folder)'),
    )
    .addOption(
      new Option('--context-namespace <namespace>', "the kubeconfig context's namespace").default('default'),
    )
    .addOption(
      new Option('--tls', 'serve HTTPS with a generated CA and require the bearer token in the kubeconfig'),
    )
    .addOption(
      new Option(
        '--rbac <path...>',
        'enforce the Roles, ClusterRoles and bindings in these YAML files or folders (implies --tls); each ServiceAccount in them gets a token and a kubeconfig context named system:serviceaccount:NS:NAME',
      ),
    )
    .addOption(
      new Option(
        '--tokens-out <dir>',
        "with --rbac: write each ServiceAccount's token as DIR/NS/NAME/token (with ca.crt and namespace beside it)",
      ),
    )
    .addOption(
      new Option('--discovery <mode>', 'API discovery form served')
        .choices(['aggregated', 'legacy'])
        .default('aggregated'),
    )
    .action(async (flags: SimFlags) => {
      const { io } = context;
      // The simulator (its TLS, its store, its scenarios) loads when this command runs, not with every command.
      const [{ serviceAccountContext, startSimulator }, { loadRbacPolicy }] = await Promise.all([
        import('../sim/index.js'),
        import('../sim/rbac.js'),
      ]);
      let sim: Awaited<ReturnType<typeof startSimulator>>;
      // 100,000 launchers take most of a minute to lay down: say what is happening before the wait.
      io.stderr.write(
        flags.from === undefined
          ? `laying down scenario ${flags.scenario ?? 'healthy'}...\n`
          : `loading ${flags.from.join(', ')}...\n`,
      );
      if (flags.tokensOut !== undefined && flags.rbac === undefined) {
        throw new StuckfailedError(
          'USAGE',
          '--tokens-out needs --rbac: tokens are issued to its ServiceAccounts',
        );
      }
      const rbac = flags.rbac === undefined ? undefined : await loadRbacPolicy(flags.rbac);
      try {
        sim = await startSimulator({
          rbac,
          scenario: flags.scenario,
          failed: flags.failed,
          namespaces: flags.namespaces,
          nodes: flags.nodes,
          seed: flags.seed,
          port: flags.port,
          from: flags.from,
          faults: flags.faults,
          churn: flags.churn,
          tls: flags.tls === true,
          discovery: flags.discovery,
        });
      } catch (error) {
        if (error instanceof StuckfailedError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          throw new StuckfailedError('USAGE', `cannot listen on 127.0.0.1:${flags.port}: ${code}`, {
            cause: error,
          });
        }
        throw error;
      }
      try {
        const kubeconfig = path.resolve(
          flags.kubeconfigOut ?? path.join(tmpdir(), `stuckfailed-sim-${sim.port}.kubeconfig`),
        );
        await sim.writeKubeconfig(kubeconfig, { namespace: flags.contextNamespace });
        if (flags.tokensOut !== undefined) await sim.writeServiceAccountTokens(path.resolve(flags.tokensOut));
        io.stdout.write(
          `listening on ${sim.url}\n` +
            `kubeconfig written to ${kubeconfig}\n` +
            `  export KUBECONFIG=${kubeconfig}\n` +
            `  kubectl get pods -A -l kubevirt.io=virt-launcher --field-selector=status.phase=Failed\n`,
        );
        for (const key of sim.serviceAccountTokens.keys()) {
          const [namespace, name] = key.split('/') as [string, string];
          io.stdout.write(
            `service account ${key}: kubectl --context ${serviceAccountContext(namespace, name)}\n`,
          );
        }
        await io.waitForInterrupt();
      } finally {
        await sim.close();
      }
      io.stderr.write('simulator stopped\n');
    });
};
