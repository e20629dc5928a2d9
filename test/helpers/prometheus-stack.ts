import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isAlertingRule, loadRuleFile } from '../../src/rules/rule-file.js';

// The real Prometheus and Alertmanager (Debian packages, shared/real-components.md), started for a test on 127.0.0.1
// with free ports and the caller's temp dir. Every wait is bounded; stop() kills the process by its PID.

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls `probe` until it returns a value other than undefined; fails after `timeoutMs` with the last error. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export interface RunningComponent {
  url: string;
  port: number;
  /** What the process wrote so far (for assertion messages). */
  output(): string;
  stop(): Promise<void>;
}

async function startProcess(
  command: string,
  args: string[],
  port: number,
  readyPath: string,
): Promise<RunningComponent> {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const component: RunningComponent = {
    url,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
    },
  };
  try {
    await waitFor(`${command} to be ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${command} exited: ${output}`);
      const response = await fetch(`${url}${readyPath}`);
      return response.ok ? true : undefined;
    });
  } catch (error) {
    await component.stop();
    throw error;
  }
  return component;
}

export interface PrometheusOptions {
  dir: string;
  /** host:port targets scraped every second as job kube-state-metrics. */
  targets: string[];
  ruleFiles: string[];
  alertmanagerPort?: number;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningComponent> {
  const port = await freePort();
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    ...(options.alertmanagerPort === undefined
      ? {}
      : {
          alerting: {
            alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${options.alertmanagerPort}`] }] }],
          },
        }),
    scrape_configs: [{ job_name: 'kube-state-metrics', static_configs: [{ targets: options.targets }] }],
  };
  const configFile = join(options.dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  return startProcess(
    'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
    ],
    port,
    '/-/ready',
  );
}

export interface AlertmanagerOptions {
  dir: string;
  webhookUrl: string;
  /** File holding the bearer token Alertmanager sends to the webhook. */
  tokenFile: string;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<RunningComponent> {
  const port = await freePort();
  const config = {
    route: {
      receiver: 'stuckfailed',
      group_by: ['alertname'],
      group_wait: '1s',
      group_interval: '1s',
      repeat_interval: '1h',
    },
    receivers: [
      {
        name: 'stuckfailed',
        webhook_configs: [
          {
            url: options.webhookUrl,
            send_resolved: true,
            http_config: { authorization: { type: 'Bearer', credentials_file: options.tokenFile } },
          },
        ],
      },
    ],
  };
  const configFile = join(options.dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(config));
  return startProcess(
    'prometheus-alertmanager',
    [
      `--config.file=${configFile}`,
      `--storage.path=${join(options.dir, 'alertmanager')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    port,
    '/-/ready',
  );
}

/**
 * Writes the production rules (rules/stuckfailed.rules.yaml) to `dir` with a short `for` on the named alert, and
 * returns the file's path: rules/ stays untouched, and the production `for: 10m` is covered by promtool with
 * simulated time (rules-promtool.test.ts).
 */
export async function writeRulesTestCopy(
  dir: string,
  alertName: string,
  forDuration: string,
): Promise<string> {
  const production = await loadRuleFile();
  const testCopy = {
    groups: production.rules.groups.map((group) => ({
      ...group,
      rules: group.rules.map((rule) =>
        isAlertingRule(rule) && rule.alert === alertName ? { ...rule, for: forDuration } : rule,
      ),
    })),
  };
  const rulesFile = join(dir, 'rules.test-copy.yaml');
  await writeFile(rulesFile, stringify(testCopy));
  return rulesFile;
}
