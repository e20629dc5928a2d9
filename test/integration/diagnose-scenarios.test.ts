import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { openClusterReader } from '../../src/cluster/open-reader.js';
import type { ClusterReader } from '../../src/cluster/reader.js';
import { diagnose } from '../../src/diagnosis/diagnose.js';
import { EVENTS_PER_NAMESPACE } from '../../src/diagnosis/gather.js';
import type { Diagnosis } from '../../src/diagnosis/types.js';
import { RESOURCES, type ResourceName } from '../../src/kube/resources.js';
import type { Event, KubeObject, Pod } from '../../src/kube/types.js';
import { shareCounts } from '../../src/sim/scenarios/define-scenario.js';
import { getScenario, SCENARIO_NAMES } from '../../src/sim/scenarios/index.js';
import { INIT_CONTAINER_SHARES } from '../../src/sim/scenarios/init-container.js';
import { MIXED_SHARES } from '../../src/sim/scenarios/mixed.js';
import { readinessProbeNoise } from '../../src/sim/scenarios/noise.js';
import { runCli } from '../helpers/cli.js';
import { type SimulatorHandle, startTestSimulator } from '../helpers/simulator.js';

// Every simulator scenario, diagnosed through the live reader (the real HTTP client against the simulated API
// server) and again offline from a dump of the same cluster: the right top cause, the exact count, the same report.

const FAILED = 60;
const SHAPE = { namespaces: 4, nodes: 5, seed: 20261123 };
/**
 * nodes, kubevirts, vmims, component pods and the nodes' Rebooted events; 5 log tails; the empty last page a paged
 * pod list may end with.
 */
const CONSTANT_REQUESTS = 5 + 5 + 1;

/**
 * The request bound of diagnose (issue 8): one per 500 Failed launchers, plus, for each namespace that holds some,
 * one list of its Warning pod events and its pages (up to the per-namespace cap), plus a constant. Counted before
 * the measured run, with the reader the test already has.
 */
async function requestBound(reader: ClusterReader, diagnosis: Diagnosis): Promise<number> {
  let eventPages = 0;
  for (const { key: namespace } of diagnosis.byNamespace) {
    let events = 0;
    for await (const _event of reader.list<Event>('events', {
      namespace,
      fieldSelector: 'involvedObject.kind=Pod,type=Warning',
    }))
      events += 1;
    eventPages += 1 + Math.ceil(Math.min(events, 2 * EVENTS_PER_NAMESPACE) / 500);
  }
  return Math.ceil(diagnosis.failedLaunchers / 500) + eventPages + CONSTANT_REQUESTS;
}

async function simStats(handle: SimulatorHandle): Promise<number> {
  const response = await fetch(`${handle.sim.url}/sim/stats`, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { requests: number };
  return body.requests;
}

/** What `kubectl get <every resource> -A -o json` plus the component logs in must-gather layout would hold. */
async function dumpCluster(reader: ClusterReader, folder: string): Promise<void> {
  const items: KubeObject[] = [];
  for (const resource of Object.keys(RESOURCES) as ResourceName[]) {
    for await (const object of reader.list(resource)) items.push(object);
  }
  await mkdir(folder, { recursive: true });
  await writeFile(
    path.join(folder, 'cluster.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
  );
  for await (const pod of reader.list<Pod>('pods', {
    labelSelector: 'kubevirt.io in (virt-controller,virt-handler)',
  })) {
    const namespace = pod.metadata.namespace ?? '';
    for (const container of pod.spec.containers) {
      const lines = await reader.readLog({ namespace, pod: pod.metadata.name, container: container.name });
      const dir = path.join(
        folder,
        'namespaces',
        namespace,
        'pods',
        pod.metadata.name,
        container.name,
        container.name,
        'logs',
      );
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'current.log'), lines.map((line) => `${line}\n`).join(''));
    }
  }
}

function comparable(diagnosis: Diagnosis): Omit<Diagnosis, 'source' | 'generatedAt'> {
  const { source: _source, generatedAt: _generatedAt, ...rest } = diagnosis;
  return rest;
}

for (const name of SCENARIO_NAMES) {
  const scenario = getScenario(name);
  const failed = name === 'healthy' ? 0 : FAILED;

  describe(`diagnose: scenario ${name}`, () => {
    let handle: SimulatorHandle & { stop(): Promise<void> };
    let live: Diagnosis;

    before(async () => {
      handle = await startTestSimulator({ scenario: name, failed, ...SHAPE });
    });
    after(async () => {
      await handle?.stop();
    });

    it(`finds ${failed} Failed launchers and ranks ${scenario.expectedTopCause ?? 'no cause'} first, gently`, async () => {
      const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
      try {
        const before = await simStats(handle);
        live = (await diagnose(opened.reader, { threshold: 50 })).diagnosis;
        const requests = (await simStats(handle)) - before - 1;
        const bound = await requestBound(opened.reader, live);
        assert.ok(
          requests <= bound,
          `${requests} API requests for ${failed} Failed launchers (bound ${bound})`,
        );
      } finally {
        opened.close();
      }
      assert.equal(live.source, 'api');
      assert.equal(live.failedLaunchers, failed);
      assert.equal(live.conditionMet, failed >= 50);
      assert.deepEqual(live.gatherErrors, []);
      assert.equal(
        live.causes.reduce((sum, cause) => sum + cause.pods, 0),
        failed,
        'each Failed launcher is attributed to exactly one cause',
      );
      assert.equal(live.causes[0]?.category, scenario.expectedTopCause);
      for (const cause of live.causes) {
        assert.ok(cause.evidence.length > 0, `${cause.category} rests on evidence`);
        assert.ok(cause.remediation.length > 0, `${cause.category} says what to do`);
      }
      if (name === 'healthy') {
        assert.deepEqual(live.causes, []);
        assert.deepEqual(live.samples, []);
      }
      if (name === 'mixed') {
        assert.deepEqual(
          live.causes.map((cause) => [cause.category, cause.pods]),
          [
            ['migration', FAILED * MIXED_SHARES.migration],
            ['image', FAILED * MIXED_SHARES.image],
            ['storage', FAILED * MIXED_SHARES.storage],
            ['network', FAILED * MIXED_SHARES.network],
          ],
        );
        assert.equal(live.migrations.storm, true);
      }
      assert.equal(
        live.timeline.reduce((sum, bucket) => sum + bucket.count, 0),
        failed,
        'every Failed launcher says when it ended, and the timeline counts each once',
      );
      const markKinds = new Set(live.timelineMarks.map((mark) => mark.kind));
      if (name === 'control-plane') assert.ok(markKinds.has('kubevirt-version'), 'the upgrade is marked');
      if (name === 'node-shutdown') assert.ok(markKinds.has('node'), 'the nodes going NotReady are marked');
      if (name === 'migration-storm') assert.ok(markKinds.has('migrations'), 'the migration wave is marked');
      if (name === 'init-container') {
        // Layers lost and binaries missing are the images' problem; volumes the runtime cannot mount, storage's.
        const [createContainerError = 0, startError = 0, cannotRun = 0] = shareCounts(FAILED, [
          INIT_CONTAINER_SHARES.createContainerError,
          INIT_CONTAINER_SHARES.startError,
          INIT_CONTAINER_SHARES.cannotRun,
        ]);
        assert.deepEqual(
          live.causes.map((cause) => [cause.category, cause.pods]),
          [
            ['image', createContainerError + startError],
            ['storage', cannotRun],
          ],
        );
        assert.match(live.causes[0]?.summary ?? '', /^Init containers cannot start from their images: /);
      }
      if (name === 'node-reboot') {
        assert.deepEqual(
          live.causes.map((cause) => [cause.category, cause.pods]),
          [['node', FAILED]],
        );
        assert.match(live.causes[0]?.summary ?? '', / rebooted without draining /);
        assert.ok(live.causes[0]?.evidence.some((evidence) => evidence.reason === 'Rebooted'));
      }
      if (name === 'migration-storm') assert.equal(live.migrations.storm, true);
      if (name === 'control-plane')
        assert.notEqual(live.controlPlane.version, live.controlPlane.targetVersion);
    });

    it('gives the same report offline, from a dump of the same cluster (--from)', async () => {
      const folder = path.join(handle.dir, 'dump');
      const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
      try {
        await dumpCluster(opened.reader, folder);
      } finally {
        opened.close();
      }
      const offline = await openClusterReader({ env: {}, from: [folder] });
      const { diagnosis } = await diagnose(offline.reader, { threshold: 50 });
      assert.equal(diagnosis.source, 'snapshot');
      assert.deepEqual(comparable(diagnosis), comparable(live));
    });
  });
}

/** The CLI in-process: the same parsing, wiring and exit codes as the binary, without a process per case. */
async function runDiagnose(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: new Writable({
      write(chunk, _encoding, done) {
        stdout += String(chunk);
        done();
      },
    }),
    stderr: new Writable({
      write(chunk, _encoding, done) {
        stderr += String(chunk);
        done();
      },
    }),
    env: {},
    stdoutIsTTY: false,
    stderrIsTTY: false,
    waitForInterrupt: () => new Promise(() => {}),
  };
  const code = await main(['diagnose', ...args], io);
  return { code, stdout, stderr };
}

async function kubeconfigFor(handle: SimulatorHandle, file: string, server: string): Promise<string> {
  const config = parse(await readFile(handle.kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { server: string } }>;
  };
  for (const entry of config.clusters) entry.cluster.server = server;
  const kubeconfig = path.join(handle.dir, file);
  await writeFile(kubeconfig, stringify(config));
  return kubeconfig;
}

describe('diagnose: API requests grow by one per 500 Failed launchers', () => {
  it('lists 1,500 Failed launchers in 3 pages and reads a bounded number of events', async () => {
    const handle = await startTestSimulator({ scenario: 'image-pull', failed: 1500, ...SHAPE });
    try {
      const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
      try {
        const before = await simStats(handle);
        const { diagnosis } = await diagnose(opened.reader);
        const requests = (await simStats(handle)) - before - 1;
        assert.equal(diagnosis.failedLaunchers, 1500);
        assert.deepEqual(
          diagnosis.causes.map((cause) => [cause.category, cause.pods]),
          [['image', 1500]],
        );
        const bound = await requestBound(opened.reader, diagnosis);
        assert.ok(requests <= bound, `${requests} API requests (bound ${bound})`);
      } finally {
        opened.close();
      }
    } finally {
      await handle.stop();
    }
  });
});

describe("diagnose: another namespace's noise does not hide the cause", () => {
  // The case: 6,000 readiness-probe warnings in an app namespace that sorts before the VM namespaces, and
  // 300 Failed launchers whose events say the CNI sandbox could not be created. One cluster-wide list cut at a
  // budget read only the noise and reported `unknown: 300` with no gatherErrors.
  let handle: SimulatorHandle & { stop(): Promise<void> };
  let live: Diagnosis;
  before(async () => {
    handle = await startTestSimulator({ scenario: 'cni', failed: 300, ...SHAPE });
    for (const event of readinessProbeNoise({ namespace: 'aaa-apps', events: 6000, now: new Date() }))
      handle.sim.store.put('events', event);
  });
  after(async () => {
    await handle?.stop();
  });

  it('names the network for all 300, live, with every cause measured', async () => {
    const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
    try {
      const before = await simStats(handle);
      live = (await diagnose(opened.reader)).diagnosis;
      const requests = (await simStats(handle)) - before - 1;
      const bound = await requestBound(opened.reader, live);
      assert.ok(requests <= bound, `${requests} API requests (bound ${bound})`);
    } finally {
      opened.close();
    }
    assert.deepEqual(
      live.causes.map((cause) => [cause.category, cause.pods]),
      [['network', 300]],
    );
    assert.deepEqual(live.gatherErrors, []);
    assert.deepEqual(live.attribution, { fromOwnEvidence: 300, inferred: 0 });
  });

  it('names the network for all 300 offline too (--from a dump of the same cluster)', async () => {
    const folder = path.join(handle.dir, 'dump');
    const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
    try {
      await dumpCluster(opened.reader, folder);
    } finally {
      opened.close();
    }
    const result = await runDiagnose(['--from', folder, '-o', 'json', '-q']);
    assert.equal(result.code, 0, result.stderr);
    const offline = JSON.parse(result.stdout) as Diagnosis;
    assert.deepEqual(
      offline.causes.map((cause) => [cause.category, cause.pods]),
      [['network', 300]],
    );
    assert.deepEqual(offline.gatherErrors, []);
    assert.deepEqual(comparable(offline), comparable(live));
  });
});

describe('diagnose: a list restarted after 410 Expired', () => {
  // 600 Failed launchers: two pages, so the pod list has a continue token to outlive.
  let sim: SimulatorHandle & { stop(): Promise<void> };
  before(async () => {
    sim = await startTestSimulator({ scenario: 'image-pull', failed: 600, ...SHAPE });
  });
  after(async () => {
    await sim?.stop();
  });

  it('says on stderr and in gatherErrors that a list restarted after 410 Expired, and still counts every pod', async () => {
    sim.sim.setFaults({ expireContinueAfterSeconds: 0 });
    try {
      const result = await runDiagnose(['--kubeconfig', sim.kubeconfig, '-o', 'json', '-q']);
      assert.equal(result.code, 0, result.stderr);
      const diagnosis = JSON.parse(result.stdout) as Diagnosis;
      assert.equal(diagnosis.failedLaunchers, 600);
      assert.match(result.stderr, /^warning: the \w+ list outlived its continue token \(410 Expired\)/m);
      assert.ok(diagnosis.gatherErrors.some((error) => error.type === 'list-restarted'));
    } finally {
      sim.sim.setFaults({});
    }
  });
});

describe('diagnose: the command', () => {
  let handle: SimulatorHandle & { stop(): Promise<void> };
  before(async () => {
    handle = await startTestSimulator({ scenario: 'eviction', failed: 30, ...SHAPE });
  });
  after(async () => {
    await handle?.stop();
  });

  it('prints the Diagnosis JSON and exits 0 whether or not the condition is met', async () => {
    const result = await runDiagnose(['--kubeconfig', handle.kubeconfig, '-o', 'json', '--quiet']);
    assert.equal(result.code, 0, result.stderr);
    const diagnosis = JSON.parse(result.stdout) as Diagnosis;
    assert.equal(diagnosis.schemaVersion, 1);
    assert.equal(diagnosis.failedLaunchers, 30);
    assert.equal(diagnosis.threshold, 200);
    assert.equal(diagnosis.conditionMet, false);
    assert.equal(diagnosis.causes[0]?.category, 'resources');
    assert.equal(result.stderr, '');
  });

  it('scopes to one namespace with -n, and honours --threshold', async () => {
    const all = JSON.parse(
      (await runDiagnose(['--kubeconfig', handle.kubeconfig, '-o', 'json', '-q'])).stdout,
    ) as Diagnosis;
    const namespace = all.byNamespace[0];
    assert.ok(namespace);
    const result = await runDiagnose([
      '--kubeconfig',
      handle.kubeconfig,
      '-o',
      'json',
      '-q',
      '-n',
      namespace.key,
      '--threshold',
      String(namespace.count),
    ]);
    assert.equal(result.code, 0, result.stderr);
    const scoped = JSON.parse(result.stdout) as Diagnosis;
    assert.equal(scoped.failedLaunchers, namespace.count);
    assert.equal(scoped.conditionMet, true);
    // The alert counts the whole cluster: the estimate says it counted one namespace, and the text says so.
    assert.equal(scoped.alert.scope, 'namespace');
    assert.equal(all.alert.scope, 'cluster');
    const text = await runDiagnose(['--kubeconfig', handle.kubeconfig, '-q', '-n', namespace.key]);
    assert.match(
      text.stdout,
      new RegExp(`The alert is cluster-wide, but this diagnosis counts namespace ${namespace.key} alone`),
    );
  });

  it('writes a support bundle with --bundle', async () => {
    const bundle = path.join(handle.dir, 'incident.tar.gz');
    const result = await runDiagnose([
      '--kubeconfig',
      handle.kubeconfig,
      '-o',
      'markdown',
      '--bundle',
      bundle,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.ok((await stat(bundle)).size > 0);
    assert.match(
      result.stderr,
      /^bundle written to .*incident\.tar\.gz \(\d+ files, \d+ values redacted\)\n$/,
    );
  });

  it('gives the same diagnosis through 429s (Retry-After) and 5xx errors', async () => {
    const calm = await runDiagnose(['--kubeconfig', handle.kubeconfig, '-o', 'json', '-q']);
    handle.sim.setFaults({ throttleRate: 0.2, errorRate: 0.1, retryAfterSeconds: 0 });
    try {
      const stormy = await runDiagnose(['--kubeconfig', handle.kubeconfig, '-o', 'json', '-q']);
      assert.equal(stormy.code, 0, stormy.stderr);
      assert.deepEqual(
        comparable(JSON.parse(stormy.stdout) as Diagnosis),
        comparable(JSON.parse(calm.stdout) as Diagnosis),
      );
    } finally {
      handle.sim.setFaults({});
    }
  });

  it('reports a forbidden resource in gatherErrors, naming the RBAC rule, and still diagnoses', async () => {
    // A proxy that answers 403 for migrations as an apiserver would for a ServiceAccount without that rule.
    const proxy = await forbidMigrationsProxy(new URL(handle.sim.url));
    try {
      const kubeconfig = await kubeconfigFor(handle, 'forbidden-kubeconfig', proxy.url);
      const result = await runDiagnose(['--kubeconfig', kubeconfig, '-o', 'json', '-q']);
      assert.equal(result.code, 0, result.stderr);
      const diagnosis = JSON.parse(result.stdout) as Diagnosis;
      assert.equal(diagnosis.failedLaunchers, 30);
      assert.deepEqual(
        diagnosis.gatherErrors.map((error) => error.type),
        ['forbidden'],
      );
      assert.match(
        diagnosis.gatherErrors[0]?.message ?? '',
        /missing RBAC rule \{apiGroups: \["kubevirt.io"\], resources: \["virtualmachineinstancemigrations"\], verbs: \["list"\]\}/,
      );
    } finally {
      await proxy.close();
    }
  });

  it('exits 3 with one clear line when the API server is unreachable (the real binary)', async () => {
    const kubeconfig = await kubeconfigFor(handle, 'unreachable-kubeconfig', await closedPortUrl());
    const result = await runCli(['diagnose', '--kubeconfig', kubeconfig, '-q']);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, '');
    const [line] = result.stderr.split('\n');
    assert.match(
      line ?? '',
      /^error: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+.*connection refused/,
    );
  });

  it('names a corrupt or truncated file of --from in gatherErrors and on stderr, and diagnoses the rest', async () => {
    const folder = path.join(handle.dir, 'truncated-dump');
    const opened = await openClusterReader({ kubeconfig: handle.kubeconfig, env: {} });
    try {
      await dumpCluster(opened.reader, folder);
    } finally {
      opened.close();
    }
    const whole = JSON.parse((await runDiagnose(['--from', folder, '-o', 'json', '-q'])).stdout) as Diagnosis;
    // A kind stuckfailed does not read is skipped with a word on stderr, and changes nothing in the report.
    await writeFile(
      path.join(folder, 'configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: default}\ndata: {a: b}\n',
    );
    const cut = path.join(folder, 'namespaces', 'zz-truncated.yaml');
    await writeFile(
      cut,
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: "virt-launcher-cut',
    );
    const result = await runDiagnose(['--from', folder, '-o', 'json', '-q']);
    assert.equal(result.code, 0, result.stderr);
    const diagnosis = JSON.parse(result.stdout) as Diagnosis;
    assert.deepEqual(
      diagnosis.gatherErrors.map((error) => error.type),
      ['unreadable-file'],
    );
    assert.match(diagnosis.gatherErrors[0]?.message ?? '', /zz-truncated\.yaml:\d+: invalid YAML/);
    assert.match(result.stderr, /^warning: .*zz-truncated\.yaml:\d+: invalid YAML/m);
    assert.match(
      result.stderr,
      /^warning: skipped 1 object\(s\) of kinds stuckfailed does not read: v1\/ConfigMap \(1\)/m,
    );
    assert.deepEqual(comparable({ ...diagnosis, gatherErrors: [] }), comparable(whole));
  });

  it('exits 2 on a kubeconfig that does not exist or is not valid, and on a --from path that does not exist', async () => {
    // Bad input, not an unreachable cluster (DESIGN §4): the user fixes a path or a file, not the network.
    const missing = await runDiagnose(['--kubeconfig', path.join(handle.dir, 'missing'), '-q']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: kubeconfig .*missing does not exist/);
    const garbage = path.join(handle.dir, 'garbage.kubeconfig');
    await writeFile(garbage, 'clusters: [this is: not, a kubeconfig\n');
    const invalid = await runDiagnose(['--kubeconfig', garbage, '-q']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /^error: /);
    const badInput = await runDiagnose(['--from', path.join(handle.dir, 'no-such-dump'), '-q']);
    assert.equal(badInput.code, 2);
    assert.match(badInput.stderr, /^error: cannot read /);
  });
});

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function forbidMigrationsProxy(target: URL): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if ((request.url ?? '').includes('/virtualmachineinstancemigrations')) {
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message:
            'virtualmachineinstancemigrations.kubevirt.io is forbidden: User "system:serviceaccount:ops:stuckfailed" cannot list resource "virtualmachineinstancemigrations" in API group "kubevirt.io" at the cluster scope',
          reason: 'Forbidden',
          details: { group: 'kubevirt.io', kind: 'virtualmachineinstancemigrations' },
          code: 403,
        }),
      );
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (reply) => {
        response.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
