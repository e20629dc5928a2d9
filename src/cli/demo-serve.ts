// `demo --serve`: the service on a simulated incident, for a person to look at. The simulator and `serve` run on
// 127.0.0.1 with generated tokens; a firing notification shaped as Alertmanager sends it opens the incident, and
// the page's URL and the approval token are printed. Approving on the page runs the real plan against the
// simulator; once it has run, the cause is fixed (the simulator heals) and the resolved notification Alertmanager
// would send follows, so the incident validates and closes on the page. Runs until Ctrl-C.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_THRESHOLD } from '../diagnosis/diagnose.js';
import { formatDuration } from '../duration.js';
import { ALERT_NAME } from '../prometheus/queries.js';
import type { AlertmanagerWebhook } from '../server/alertmanager-webhook.js';
import type { Incident } from '../server/incident.js';
import { DEFAULT_TIMING } from '../server/leader-election.js';
import { type DemoFlags, startDemoSimulator } from './demo.js';
import type { CommandContext } from './io.js';
import { runServe } from './serve.js';

const GROUP_KEY = `{}:{alertname="${ALERT_NAME}"}`;
/** How often the demo looks whether the approved plan has run (to heal and resolve). */
const FOLLOW_INTERVAL_MS = 1_000;

/** The notification Alertmanager sends for the shipped alert (version 4), firing or resolved. */
export function demoNotification(
  status: 'firing' | 'resolved',
  startsAt: string,
  now: Date,
): AlertmanagerWebhook {
  const labels = {
    alertname: ALERT_NAME,
    severity: 'critical',
    operator_health_impact: 'critical',
    kubernetes_operator_part_of: 'kubevirt',
    kubernetes_operator_component: 'kubevirt',
  };
  const annotations = {
    runbook_url: 'https://kubevirt.io/monitoring/runbooks/VirtLauncherPodsStuckFailed',
    summary: 'At least 200 virt-launcher pods are stuck in Failed state (stuckfailed demo --serve).',
  };
  return {
    version: '4',
    groupKey: GROUP_KEY,
    truncatedAlerts: 0,
    status,
    receiver: 'stuckfailed-demo',
    groupLabels: { alertname: ALERT_NAME },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: 'http://127.0.0.1/stuckfailed-demo',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt,
        endsAt: status === 'resolved' ? now.toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: 'http://127.0.0.1/stuckfailed-demo',
        fingerprint: 'stuckfaileddemo0',
      },
    ],
  };
}

export async function runDemoServe(flags: DemoFlags, context: CommandContext): Promise<void> {
  const { io } = context;
  const dir = await mkdtemp(path.join(tmpdir(), 'stuckfailed-demo-serve-'));
  const sim = await startDemoSimulator(flags);
  let follower: NodeJS.Timeout | undefined;
  try {
    const kubeconfig = path.join(dir, 'kubeconfig');
    await sim.writeKubeconfig(kubeconfig);
    const webhookToken = randomBytes(24).toString('hex');
    const approveToken = randomBytes(24).toString('hex');
    const webhookTokenFile = path.join(dir, 'webhook-token');
    const apiTokenFile = path.join(dir, 'api-tokens');
    await writeFile(webhookTokenFile, `${webhookToken}\n`, { mode: 0o600 });
    await writeFile(apiTokenFile, `demo:${approveToken}\n`, { mode: 0o600 });
    // Every action on approval, as without a policy, with clean capped: the failures the churn adds between the
    // page's plan and the approval are then re-planned within what was approved, not refused as a grown plan.
    const policyFile = path.join(dir, 'policy.yaml');
    await writeFile(
      policyFile,
      '# stuckfailed demo --serve\ndefault:\n  actions: {cancel-migrations: approval, pause: approval, clean: approval}\n  caps: {podsPerRun: 5000}\n',
    );
    const dataDir = path.join(dir, 'data');
    io.stderr.write(
      `Simulated cluster at ${sim.url}: scenario ${flags.scenario}, ${flags.failed} Failed virt-launcher pods, ` +
        `${flags.churn} new failure(s) per second until the cause is fixed.\n`,
    );
    const startsAt = new Date().toISOString();
    const notify = async (url: string, status: 'firing' | 'resolved'): Promise<string> => {
      const response = await fetch(`${url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${webhookToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(demoNotification(status, startsAt, new Date())),
      });
      const body = (await response.json()) as { incident?: string; message?: string };
      if (response.status !== 200 || body.incident === undefined) {
        throw new Error(
          `serve refused the ${status} notification (${response.status}): ${body.message ?? ''}`,
        );
      }
      return body.incident;
    };
    await runServe(
      {
        address: '127.0.0.1',
        port: flags.port,
        dataDir,
        // One replica keeping its incidents in the data directory, which always acts.
        store: 'dir',
        leaseName: 'stuckfailed',
        leaseDuration: DEFAULT_TIMING.leaseDurationMs / 1000,
        renewDeadline: DEFAULT_TIMING.renewDeadlineMs / 1000,
        retryPeriod: DEFAULT_TIMING.retryPeriodMs / 1000,
        webhookTokenFile,
        apiTokenFile,
        policy: policyFile,
        threshold: DEFAULT_THRESHOLD,
        validateWindow: flags.window,
        logLevel: 'warn',
        kubeconfig,
        allNamespaces: true,
      },
      context,
      {
        onListening: async (url) => {
          const id = await notify(url, 'firing');
          io.stdout.write(
            `\nAn incident is open: ${url}/incidents/${id}\n` +
              `  approve token (paste it into the page): ${approveToken}\n` +
              `  or: curl -X POST -H "Authorization: Bearer ${approveToken}" -H 'content-type: application/json' \\\n` +
              `        -d '{"digest":"<the plan's digest>"}' ${url}/api/v1/incidents/${id}/approve\n` +
              `Once the approved plan has run, the simulator heals and the resolved notification follows; the\n` +
              `incident then validates (${formatDuration(flags.window)} window) and closes. Ctrl-C stops.\n`,
          );
          let resolved = false;
          let looking = false;
          follower = setInterval(() => {
            if (resolved || looking) return;
            looking = true;
            void (async () => {
              const incident = (await (await fetch(`${url}/api/v1/incidents/${id}`)).json()) as Incident;
              if (incident.status !== 'validating' || incident.alert.state === 'resolved') return;
              resolved = true;
              sim.heal();
              await notify(url, 'resolved');
              io.stdout.write(
                'The plan has run: the simulator healed (the cause is fixed) and the resolved notification was sent.\n',
              );
            })()
              .catch((error: unknown) => io.stderr.write(`demo: ${(error as Error).message}\n`))
              .finally(() => {
                looking = false;
              });
          }, FOLLOW_INTERVAL_MS);
        },
        onStopping: () => clearInterval(follower),
      },
    );
  } finally {
    clearInterval(follower);
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
