import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import path from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
// config_types.js is client-node's own reading of kubeconfig entries (and imports nothing but node:fs); its index,
// and config.js with it, pull in every generated API: 0.8 s and some 70 MB of a run. See KubeConfigFile.
import {
  type Cluster,
  type Context,
  newClusters,
  newContexts,
  newUsers,
  type User,
} from '@kubernetes/client-node/dist/config_types.js';
import { parseDocument } from 'yaml';
import { StuckfailedError } from '../errors.js';

// Which kubeconfig, which context: kubectl's rules (k8s.io/client-go/tools/clientcmd/loader.go), so that
// `stuckfailed` and `kubectl` aim at the same cluster: --kubeconfig, else every file in $KUBECONFIG merged (the
// first file to name a cluster, user or context, or to set current-context, wins), else ~/.kube/config, else the
// pod's service account. client-node's loadFromDefault lets later files override the current context and throws
// on duplicate names, so the merge is done here.

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeConfigOptions {
  /** --kubeconfig: this file only; it must exist. */
  kubeconfig?: string | undefined;
  /** --context; the kubeconfig's current-context when undefined. */
  context?: string | undefined;
  /** Where KUBECONFIG, HOME, KUBERNETES_SERVICE_HOST/PORT are read (the CLI passes its io.env). */
  env: NodeJS.ProcessEnv;
  /** The mounted service account (token, ca.crt, namespace); tests point it at a temporary folder. */
  serviceAccountDir?: string;
}

export interface ResolvedKubeConfig {
  /** The kubeconfig with the chosen context made current: credentials, TLS material, exec plugins. */
  kubeConfig: KubeConfigFile;
  contextName: string;
  cluster: Cluster;
  user: User | undefined;
  /** The API server's base URL, without a trailing slash. */
  server: string;
  /** The context's namespace, else "default" (kubectl's rule). */
  namespace: string;
  /** Where the configuration came from: file paths, or "in-cluster service account". */
  origin: string;
}

export function loadKubeConfig(options: LoadKubeConfigOptions): ResolvedKubeConfig {
  const { env } = options;
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  let loaded: { kubeConfig: KubeConfigFile; origin: string };
  if (options.kubeconfig !== undefined && options.kubeconfig !== '') {
    const file = path.resolve(options.kubeconfig);
    if (!existsSync(file)) {
      throw new StuckfailedError('KUBECONFIG', `kubeconfig ${options.kubeconfig} does not exist`);
    }
    loaded = { kubeConfig: readKubeConfigFile(file), origin: file };
  } else if (env.KUBECONFIG !== undefined && env.KUBECONFIG.trim() !== '') {
    const listed = env.KUBECONFIG.split(path.delimiter).filter((entry) => entry !== '');
    // clientcmd ignores missing files in KUBECONFIG, as long as one of them exists.
    const files = listed.map((entry) => path.resolve(entry)).filter((file) => existsSync(file));
    if (files.length === 0) {
      throw new StuckfailedError('KUBECONFIG', `none of the files in KUBECONFIG exist: ${listed.join(', ')}`);
    }
    loaded = {
      kubeConfig: mergeFirstWins(files.map(readKubeConfigFile)),
      origin: files.join(path.delimiter),
    };
  } else {
    const home = env.HOME ?? homedir();
    const file = path.join(home, '.kube', 'config');
    if (existsSync(file)) {
      loaded = { kubeConfig: readKubeConfigFile(file), origin: file };
    } else if (inClusterAvailable(env, serviceAccountDir)) {
      loaded = {
        kubeConfig: inClusterKubeConfig(env, serviceAccountDir),
        origin: 'in-cluster service account',
      };
    } else {
      throw new StuckfailedError(
        'KUBECONFIG',
        `no kubeconfig found: --kubeconfig and KUBECONFIG are unset, ${file} does not exist, and this is not a pod with a service account`,
      );
    }
  }
  return selectContext(loaded.kubeConfig, options.context, loaded.origin);
}

/**
 * A kubeconfig read as client-node reads it (its own config_types), with client-node's KubeConfig, which supplies
 * the credentials (tokens, client certificates, exec and OIDC plugins, proxies), loaded only when a request over
 * TLS first needs them. Importing it costs more than the rest of the CLI together, and plain http:// (a local
 * simulator, a kubectl proxy) sends no credentials at all.
 */
export class KubeConfigFile {
  readonly clusters: Cluster[];
  readonly users: User[];
  readonly contexts: Context[];
  #currentContext: string;
  #client: Promise<KubeConfig> | undefined;

  constructor(options: { clusters: Cluster[]; users: User[]; contexts: Context[]; currentContext: string }) {
    this.clusters = options.clusters;
    this.users = options.users;
    this.contexts = options.contexts;
    this.#currentContext = options.currentContext;
  }

  get currentContext(): string {
    return this.#currentContext;
  }

  getCurrentContext(): string {
    return this.#currentContext;
  }

  setCurrentContext(name: string): void {
    this.#currentContext = name;
  }

  getContextObject(name: string): Context | null {
    return this.contexts.find((context) => context.name === name) ?? null;
  }

  getCluster(name: string): Cluster | null {
    return this.clusters.find((cluster) => cluster.name === name) ?? null;
  }

  getUser(name: string): User | null {
    return this.users.find((user) => user.name === name) ?? null;
  }

  getCurrentCluster(): Cluster | null {
    const context = this.getContextObject(this.#currentContext);
    return context === null ? null : this.getCluster(context.cluster);
  }

  /** Credentials and TLS material for a request, by client-node (loaded on first use; its auth state is kept). */
  async applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    this.#client ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const client = new KubeConfig();
      client.loadFromOptions({
        clusters: this.clusters,
        users: this.users,
        contexts: this.contexts,
        currentContext: this.#currentContext,
      });
      return client;
    });
    const client = await this.#client;
    client.setCurrentContext(this.#currentContext);
    await client.applyToHTTPSOptions(options);
  }

  /** Relative certificate-authority / client-certificate paths are relative to the kubeconfig's folder. */
  makePathsAbsolute(folder: string): void {
    const absolute = (file: string): string => (path.isAbsolute(file) ? file : path.join(folder, file));
    for (const cluster of this.clusters) {
      if (cluster.caFile) Object.assign(cluster, { caFile: absolute(cluster.caFile) });
    }
    for (const user of this.users) {
      if (user.certFile) Object.assign(user, { certFile: absolute(user.certFile) });
      if (user.keyFile) Object.assign(user, { keyFile: absolute(user.keyFile) });
    }
  }
}

function readKubeConfigFile(file: string): KubeConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StuckfailedError('KUBECONFIG', `cannot read kubeconfig ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  // client-node's parser (js-yaml) reports no file name; parse once with `yaml` to name the file and line.
  // Merge keys (`<<: *anchor`) resolved, as client-node's js-yaml resolves them.
  const document = parseDocument(text, { merge: true });
  const firstError = document.errors[0];
  if (firstError !== undefined) {
    const line = firstError.linePos?.[0].line;
    throw new StuckfailedError(
      'KUBECONFIG',
      `kubeconfig ${file}${line === undefined ? '' : `:${line}`} is not valid YAML: ${firstError.message.split('\n')[0]}`,
    );
  }
  if (document.contents === null) {
    // An empty file is an empty configuration (clientcmd's view), not an error in itself.
    return new KubeConfigFile({ clusters: [], users: [], contexts: [], currentContext: '' });
  }
  let kubeConfig: KubeConfigFile;
  try {
    // What client-node's KubeConfig.loadFromString does, from the document parsed above.
    const parsed = (document.toJS() ?? {}) as Record<string, unknown>;
    kubeConfig = new KubeConfigFile({
      clusters: newClusters(parsed.clusters),
      users: newUsers(parsed.users),
      contexts: newContexts(parsed.contexts),
      currentContext: (parsed['current-context'] as string | undefined) ?? '',
    });
  } catch (error) {
    throw new StuckfailedError('KUBECONFIG', `kubeconfig ${file} is invalid: ${(error as Error).message}`, {
      cause: error,
    });
  }
  kubeConfig.makePathsAbsolute(path.dirname(file));
  return kubeConfig;
}

function mergeFirstWins(configs: KubeConfigFile[]): KubeConfigFile {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const config of configs) {
    for (const cluster of config.clusters ?? [])
      if (!clusters.has(cluster.name)) clusters.set(cluster.name, cluster);
    for (const user of config.users ?? []) if (!users.has(user.name)) users.set(user.name, user);
    for (const context of config.contexts ?? [])
      if (!contexts.has(context.name)) contexts.set(context.name, context);
    if (currentContext === '' && config.currentContext) currentContext = config.currentContext;
  }
  return new KubeConfigFile({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
}

function inClusterAvailable(env: NodeJS.ProcessEnv, serviceAccountDir: string): boolean {
  return (
    Boolean(env.KUBERNETES_SERVICE_HOST) &&
    Boolean(env.KUBERNETES_SERVICE_PORT) &&
    existsSync(path.join(serviceAccountDir, 'token'))
  );
}

/**
 * What client-node's loadFromCluster builds, but from the injected env and folder. The token is read through the
 * tokenFile auth provider, which re-reads it as the kubelet rotates it (bound tokens expire within the hour).
 */
function inClusterKubeConfig(env: NodeJS.ProcessEnv, serviceAccountDir: string): KubeConfigFile {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const namespaceFile = path.join(serviceAccountDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return new KubeConfigFile({
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${bracketed}:${env.KUBERNETES_SERVICE_PORT}`,
        caFile: path.join(serviceAccountDir, 'ca.crt'),
        skipTLSVerify: false,
      },
    ],
    users: [
      {
        name: 'in-cluster',
        authProvider: { name: 'tokenFile', config: { tokenFile: path.join(serviceAccountDir, 'token') } },
      },
    ],
    contexts: [
      { name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', ...(namespace ? { namespace } : {}) },
    ],
    currentContext: 'in-cluster',
  });
}

function selectContext(
  kubeConfig: KubeConfigFile,
  requested: string | undefined,
  origin: string,
): ResolvedKubeConfig {
  const names = (kubeConfig.contexts ?? []).map((context) => context.name);
  const available = names.length === 0 ? 'it defines no contexts' : `its contexts: ${names.join(', ')}`;
  const contextName = requested !== undefined && requested !== '' ? requested : kubeConfig.currentContext;
  if (!contextName) {
    throw new StuckfailedError(
      'KUBECONFIG',
      `kubeconfig ${origin} sets no current-context; pick one with --context (${available})`,
    );
  }
  const context = kubeConfig.getContextObject(contextName);
  if (context === null) {
    throw new StuckfailedError(
      'KUBECONFIG',
      `context "${contextName}" is not in kubeconfig ${origin} (${available})`,
    );
  }
  const cluster = kubeConfig.getCluster(context.cluster);
  if (cluster === null) {
    throw new StuckfailedError(
      'KUBECONFIG',
      `context "${contextName}" uses cluster "${context.cluster}", which kubeconfig ${origin} does not define`,
    );
  }
  let user: User | undefined;
  if (context.user) {
    user = kubeConfig.getUser(context.user) ?? undefined;
    if (user === undefined) {
      throw new StuckfailedError(
        'KUBECONFIG',
        `context "${contextName}" uses user "${context.user}", which kubeconfig ${origin} does not define`,
      );
    }
  }
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new StuckfailedError(
      'KUBECONFIG',
      `cluster "${cluster.name}" in kubeconfig ${origin} has no valid server URL: "${cluster.server ?? ''}"`,
    );
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') {
    throw new StuckfailedError(
      'KUBECONFIG',
      `cluster "${cluster.name}" in kubeconfig ${origin} has server ${cluster.server}: only https:// and http:// are supported`,
    );
  }
  kubeConfig.setCurrentContext(contextName);
  return {
    kubeConfig,
    contextName,
    cluster,
    user,
    server: cluster.server.replace(/\/+$/, ''),
    namespace: context.namespace || 'default',
    origin,
  };
}
