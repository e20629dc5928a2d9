// startSimulator: a simulated cluster on 127.0.0.1 (DESIGN §4 "Simulator"): the ObjectStore seeded from a
// scenario or from --from files, the API server over it (HTTP, or HTTPS with bearer tokens), kube-state-metrics
// on /metrics, churn, and a kubeconfig that both kubectl and client-node accept.

import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { StuckfailedError } from '../errors.js';
import type { ClusterObjects } from '../kube/cluster-objects.js';
import { RESOURCES, type ResourceName, resourceForKind } from '../kube/resources.js';
import type { KubeObject } from '../kube/types.js';
import { loadClusterObjects } from '../snapshot/load.js';
import type { DiscoveryMode } from './discovery.js';
import { type Faults, parseFaults, seededRandom } from './faults.js';
import { writeKubeStateMetrics } from './kube-state-metrics.js';
import { type RbacPolicy, serviceAccountUser } from './rbac.js';
import { RequestStats, type SimStats } from './request-stats.js';
import { ResourceRegistry } from './resource-registry.js';
import { getScenario } from './scenarios/index.js';
import type { Scenario, ScenarioName, ScenarioOptions, ScenarioState } from './scenarios/types.js';
import { type Identity, type PodLogs, podLogKey, SimApi } from './server.js';
import { type BulkLoader, ObjectStore } from './store.js';
import { generateCertificates } from './tls.js';

export type { SimStats } from './request-stats.js';
export type { Identity } from './server.js';

export interface StartSimulatorOptions {
  /** Default `healthy` (with 0 failed launchers) unless `from` or `objects` is given. */
  scenario?: ScenarioName | undefined;
  /** Failed launchers the scenario lays down: default 0 for `healthy`, 250 (above the alert's 200) otherwise. */
  failed?: number | undefined;
  namespaces?: number | undefined;
  nodes?: number | undefined;
  seed?: number | undefined;
  /** 0 (default): a free port. */
  port?: number | undefined;
  /** Seed the cluster from files (DESIGN §4 "Inputs") instead of a scenario. */
  from?: string[] | undefined;
  /** Seed the cluster from these objects (tests) instead of a scenario. */
  objects?: ClusterObjects | undefined;
  faults?: Faults | undefined;
  /** New failures per second from scenario.nextFailure while not healed; after heal, new healthy launchers. */
  churn?: number | undefined;
  /** Serve HTTPS with a generated CA and require bearer tokens. */
  tls?: boolean | undefined;
  /** Extra bearer tokens (HTTPS only), e.g. a read-only identity for 403 tests. */
  tokens?: Record<string, Identity> | undefined;
  /**
   * Enforce this RBAC policy (implies HTTPS): one token per ServiceAccount in it (serviceAccountTokens), each
   * allowed what its bindings grant; the admin token stays in system:masters.
   */
  rbac?: RbacPolicy | undefined;
  discovery?: DiscoveryMode | undefined;
  /** The scenario's "now" (default: the clock's). */
  now?: Date | undefined;
  /** Milliseconds since the epoch (default Date.now): ages, deletion timestamps, the kubelet. */
  clock?: (() => number) | undefined;
  /** BOOKMARK interval on watches that allow them (default 60 s, as the real apiserver). */
  bookmarkIntervalMs?: number | undefined;
  /** Changes kept per resource for watches and continues (default 10,000). */
  historyLimit?: number | undefined;
  /** Resolves a scenario by name (default: src/sim/scenarios getScenario). */
  getScenario?: ((name: ScenarioName) => Scenario) | undefined;
}

export interface WriteKubeconfigOptions {
  /** The context's namespace (default `default`). */
  namespace?: string | undefined;
  /** Use this token instead of the admin token (HTTPS). */
  token?: string | undefined;
}

/** The kubeconfig context of a ServiceAccount's token: its user name. */
export function serviceAccountContext(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

export interface RunningSimulator {
  /** `http://127.0.0.1:<port>` or `https://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Base64 PEM of the CA (HTTPS only), as certificate-authority-data. */
  caData: string | undefined;
  /** The admin bearer token (HTTPS only). */
  token: string | undefined;
  /** With `rbac`: each ServiceAccount's token, keyed `namespace/name`. */
  serviceAccountTokens: ReadonlyMap<string, string>;
  /** Writes `<dir>/<namespace>/<name>/{token,ca.crt,namespace}`, the layout a pod has its token mounted in. */
  writeServiceAccountTokens(dir: string): Promise<void>;
  store: ObjectStore;
  logs: PodLogs;
  /** The scenario serving the cluster (undefined when seeded from files or objects). */
  scenario: Scenario | undefined;
  writeKubeconfig(path: string, options?: WriteKubeconfigOptions): Promise<void>;
  heal(): void;
  setFaults(faults: Faults): void;
  stats(): SimStats;
  close(): Promise<void>;
}

const DEFAULT_FAILED_WHEN_UNHEALTHY = 250;

const RESOURCE_NAMES = new Map(
  (Object.keys(RESOURCES) as ResourceName[]).map((name) => [RESOURCES[name], name] as const),
);

function resourceNameOf(object: KubeObject): ResourceName | undefined {
  const type = resourceForKind(object.apiVersion, object.kind);
  return type === undefined ? undefined : RESOURCE_NAMES.get(type);
}

export interface SeedOptions {
  /**
   * Drop each object from `contents.objects` once it is stored, so a 100k-pod cluster is not held twice (as
   * objects and as the store's JSON) at the peak. Only for contents nobody else reads afterwards.
   */
  release?: boolean | undefined;
}

/**
 * Lays objects into the store one at a time, as they come (ObjectStore.bulkLoader), then adds Namespace objects
 * for namespaces that have none, since `kubectl describe` reads the namespace.
 */
class StoreSeeder {
  /** Objects of kinds the simulator does not serve, or namespaced ones without a namespace. */
  ignored = 0;
  readonly #store: ObjectStore;
  readonly #logs: PodLogs;
  readonly #loader: BulkLoader;
  readonly #namespaces = new Set<string>();
  readonly #declared = new Set<string>();

  constructor(store: ObjectStore, logs: PodLogs) {
    this.#store = store;
    this.#logs = logs;
    this.#loader = store.bulkLoader();
  }

  add(object: KubeObject | undefined): void {
    const resource = object?.metadata?.name ? resourceNameOf(object) : undefined;
    if (resource === undefined || object === undefined) {
      this.ignored += 1;
      return;
    }
    if (resource === 'namespaces') this.#declared.add(object.metadata.name);
    if (RESOURCES[resource].namespaced) {
      if (object.metadata.namespace === undefined) {
        this.ignored += 1;
        return;
      }
      this.#namespaces.add(object.metadata.namespace);
    }
    this.#loader.add(resource, object);
  }

  addLogs(logs: ClusterObjects['logs']): void {
    for (const log of logs) this.#logs.set(podLogKey(log.namespace, log.pod, log.container), [...log.lines]);
  }

  /** Returns how many objects were ignored. */
  finish(): number {
    // Every cluster has these from its start (the apiserver's system namespaces controller makes them).
    for (const name of SYSTEM_NAMESPACES) this.#namespaces.add(name);
    for (const name of this.#namespaces) {
      if (this.#declared.has(name) || this.#store.get('namespaces', undefined, name) !== undefined) continue;
      const namespace = {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      };
      this.#loader.add('namespaces', namespace);
    }
    this.#loader.finish();
    return this.ignored;
  }
}

const SYSTEM_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

/**
 * Lays objects and logs into the store (Namespace objects added for namespaces that have none). Returns how many
 * objects were of kinds the simulator does not serve.
 */
export function seedStore(
  store: ObjectStore,
  logs: PodLogs,
  contents: ClusterObjects,
  options: SeedOptions = {},
): number {
  const seeder = new StoreSeeder(store, logs);
  const objects = contents.objects as Array<KubeObject | undefined>;
  for (let index = 0; index < objects.length; index += 1) {
    seeder.add(objects[index]);
    if (options.release) objects[index] = undefined;
  }
  seeder.addLogs(contents.logs);
  return seeder.finish();
}

/** A scenario's initial cluster, each object stored as the scenario makes it. */
function seedScenario(store: ObjectStore, logs: PodLogs, scenario: Scenario, options: ScenarioOptions): void {
  const seeder = new StoreSeeder(store, logs);
  const rest = scenario.build(options, (object) => seeder.add(object));
  for (const object of rest.objects) seeder.add(object);
  seeder.addLogs(rest.logs);
  seeder.finish();
}

function addObjects(store: ObjectStore, logs: PodLogs, contents: ClusterObjects): void {
  for (const object of contents.objects) {
    const resource = resourceNameOf(object);
    if (resource !== undefined) store.put(resource, object);
  }
  for (const log of contents.logs) logs.set(podLogKey(log.namespace, log.pod, log.container), [...log.lines]);
}

export async function startSimulator(options: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = options.clock ?? Date.now;
  const seed = options.seed ?? 1;
  const store = new ObjectStore({ clock, historyLimit: options.historyLimit });
  const logs: PodLogs = new Map();
  const stats = new RequestStats();
  let faults: Faults = parseFaults(options.faults ?? {});
  let healed = false;

  let scenario: Scenario | undefined;
  let state: ScenarioState | undefined;
  if (options.objects !== undefined) {
    seedStore(store, logs, options.objects);
  } else if (options.from !== undefined && options.from.length > 0) {
    const loaded = await loadClusterObjects(options.from);
    // A simulated cluster is built on purpose: a file that cannot be read whole is a mistake to fix, not to skip.
    if (loaded.unreadable.length > 0) throw new StuckfailedError('INPUT', loaded.unreadable.join('; '));
    seedStore(store, logs, loaded, { release: true });
  }
  const wantsScenario =
    (options.objects === undefined && !options.from?.length) || options.scenario !== undefined;
  if (wantsScenario || (options.churn ?? 0) > 0) {
    const name = options.scenario ?? 'healthy';
    scenario = (options.getScenario ?? getScenario)(name);
    const scenarioOptions = {
      failed: options.failed ?? (name === 'healthy' ? 0 : DEFAULT_FAILED_WHEN_UNHEALTHY),
      namespaces: options.namespaces ?? 5,
      nodes: options.nodes ?? 10,
      seed,
      now: options.now ?? new Date(clock()),
    };
    state = { options: scenarioOptions, sequence: 0 };
    if (wantsScenario) seedScenario(store, logs, scenario, scenarioOptions);
  }

  let tokens: Map<string, Identity> | undefined;
  let adminToken: string | undefined;
  let certificates: Awaited<ReturnType<typeof generateCertificates>> | undefined;
  const serviceAccountTokens = new Map<string, string>();
  if (options.tls || options.rbac !== undefined) {
    adminToken = randomBytes(24).toString('base64url');
    tokens = new Map([
      [adminToken, { user: 'system:admin', groups: ['system:masters', 'system:authenticated'] }],
    ]);
    for (const [token, identity] of Object.entries(options.tokens ?? {})) tokens.set(token, identity);
    for (const account of options.rbac?.serviceAccounts ?? []) {
      const token = randomBytes(24).toString('base64url');
      serviceAccountTokens.set(`${account.namespace}/${account.name}`, token);
      tokens.set(token, serviceAccountUser(account.namespace, account.name));
    }
    certificates = await generateCertificates(new Date(clock()));
  }

  const api = new SimApi({
    store,
    registry: new ResourceRegistry(store, clock),
    logs,
    stats,
    discovery: options.discovery ?? 'aggregated',
    faults: () => faults,
    setFaults: (next) => {
      faults = parseFaults(next);
    },
    heal: () => {
      healed = true;
    },
    clock,
    random: seededRandom(seed),
    tokens,
    rbac: options.rbac,
    writeMetrics: writeKubeStateMetrics,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
  });
  const server: Server =
    certificates === undefined
      ? createHttpServer(api.handle)
      : createHttpsServer({ cert: certificates.serverCert, key: certificates.serverKey }, api.handle);
  // Watches and follows are long-lived; keep-alive sockets must not hold close() hostage.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${certificates === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
  const caData = certificates === undefined ? undefined : Buffer.from(certificates.caCert).toString('base64');

  let churnTimer: NodeJS.Timeout | undefined;
  const churn = options.churn ?? 0;
  if (churn > 0 && scenario !== undefined && state !== undefined) {
    const activeScenario = scenario;
    const activeState = state;
    churnTimer = setInterval(() => {
      const now = new Date(clock());
      const next = healed
        ? activeScenario.nextHealthy(activeState, now)
        : activeScenario.nextFailure(activeState, now);
      addObjects(store, logs, next);
    }, 1000 / churn);
  }

  let closed = false;
  return {
    url,
    port,
    caData,
    token: adminToken,
    serviceAccountTokens,
    async writeServiceAccountTokens(dir) {
      for (const [key, token] of serviceAccountTokens) {
        const [namespace, name] = key.split('/') as [string, string];
        const folder = path.join(dir, namespace, name);
        await mkdir(folder, { recursive: true });
        await writeFile(path.join(folder, 'token'), token, { mode: 0o600 });
        await writeFile(path.join(folder, 'namespace'), namespace);
        if (certificates !== undefined) await writeFile(path.join(folder, 'ca.crt'), certificates.caCert);
      }
    },
    store,
    logs,
    scenario,
    async writeKubeconfig(path, kubeconfigOptions = {}) {
      const token = kubeconfigOptions.token ?? adminToken;
      const cluster =
        caData === undefined
          ? // client-node refuses http:// unless the cluster skips TLS verification (apiserver.md §0.5).
            { server: url, 'insecure-skip-tls-verify': true }
          : { server: url, 'certificate-authority-data': caData };
      // One more user and context per ServiceAccount (with --rbac), named after its user name.
      const accounts = [...serviceAccountTokens].map(([key, accountToken]) => {
        const [namespace, name] = key.split('/') as [string, string];
        const contextName = serviceAccountContext(namespace, name);
        return {
          user: { name: contextName, user: { token: accountToken } },
          context: {
            name: contextName,
            context: { cluster: 'stuckfailed-sim', user: contextName, namespace },
          },
        };
      });
      const document = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'stuckfailed-sim', cluster }],
        users: [
          { name: 'stuckfailed-sim', user: token === undefined ? {} : { token } },
          ...accounts.map((account) => account.user),
        ],
        contexts: [
          {
            name: 'stuckfailed-sim',
            context: {
              cluster: 'stuckfailed-sim',
              user: 'stuckfailed-sim',
              namespace: kubeconfigOptions.namespace ?? 'default',
            },
          },
          ...accounts.map((account) => account.context),
        ],
        'current-context': 'stuckfailed-sim',
        preferences: {},
      };
      await writeFile(path, stringify(document), { mode: 0o600 });
    },
    heal() {
      healed = true;
    },
    setFaults(next) {
      faults = parseFaults(next);
    },
    stats: () => stats.snapshot(),
    async close() {
      if (closed) return;
      closed = true;
      if (churnTimer !== undefined) clearInterval(churnTimer);
      store.close();
      api.closeStreams();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
