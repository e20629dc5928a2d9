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
  /** --as and --as-group: act as this user (over the kubeconfig user's `as:`) with these groups. */
  impersonate?: Impersonation | undefined;
}

/** Who the requests act as (the Impersonate-User and Impersonate-Group headers), as kubectl's --as and --as-group. */
export interface Impersonation {
  user: string;
  groups: readonly string[];
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
  loaded.kubeConfig.impersonate = options.impersonate;
  return selectContext(loaded.kubeConfig, options.context, loaded.origin);
}

/**
 * A kubeconfig read as client-node reads it (its own config_types). The credentials of a request over TLS are
 * applied as client-node's KubeConfig.applyToHTTPSOptions applies them: here for what most kubeconfigs and every
 * pod hold (CA, client certificate and key, token, the service account's token file, basic auth, impersonation),
 * by client-node itself for the rest (exec and auth-provider plugins, proxies), loaded on first use. Importing
 * client-node costs more than the rest of the CLI together (every generated API: a 200-pod clean took 1.5 s over
 * TLS against 0.7 s over HTTP, and 70 MB more), and plain http:// sends no credentials at all.
 */
export class KubeConfigFile {
  readonly clusters: Cluster[];
  readonly users: User[];
  readonly contexts: Context[];
  #currentContext: string;
  #client: Promise<KubeConfig> | undefined;
  /** --as and --as-group, applied over whatever the user entry says. */
  impersonate: Impersonation | undefined;
  /** The service account's token as last read, re-read after a minute, as client-node's FileAuth does. */
  #tokenFile: { path: string; token: string; readAt: number } | undefined;

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

  getCurrentUser(): User | null {
    const context = this.getContextObject(this.#currentContext);
    return context === null ? null : this.getUser(context.user);
  }

  /** Credentials and TLS material for a request: see the class comment. */
  async applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const user = this.getCurrentUser();
    const cluster = this.getCurrentCluster();
    if (needsClientNode(user, cluster)) await this.#applyByClientNode(options);
    else if (user !== null) this.#apply(options, cluster, user);
    if (this.impersonate !== undefined) {
      // One header line per group: the apiserver reads each Impersonate-Group line as one group, commas included.
      options.headers = {
        ...options.headers,
        'Impersonate-User': this.impersonate.user,
        ...(this.impersonate.groups.length > 0 ? { 'Impersonate-Group': [...this.impersonate.groups] } : {}),
      };
    }
  }

  /** client-node's applyHTTPSOptions, applyAuthorizationHeader (FileAuth) and basic auth, for the users it handles alike. */
  #apply(options: RequestOptions, cluster: Cluster | null, user: User): void {
    if (cluster?.skipTLSVerify) options.rejectUnauthorized = false;
    if (cluster?.tlsServerName) options.servername = cluster.tlsServerName;
    const ca = cluster === null ? null : fileOrData(cluster.caFile, cluster.caData);
    if (ca) options.ca = ca;
    const cert = fileOrData(user.certFile, user.certData);
    if (cert) options.cert = cert;
    const key = fileOrData(user.keyFile, user.keyData);
    if (key) options.key = key;
    const headers: Record<string, string> = {};
    if (user.impersonateUser != null) headers['Impersonate-User'] = user.impersonateUser;
    const tokenFile = user.authProvider?.config?.tokenFile as string | undefined;
    if (tokenFile) headers.Authorization = `Bearer ${this.#readTokenFile(tokenFile)}`;
    if (user.token) headers.Authorization = `Bearer ${user.token}`;
    options.headers = { ...options.headers, ...headers };
    if (user.username) options.auth = `${user.username}:${user.password}`;
  }

  #readTokenFile(file: string): string {
    const now = Date.now();
    const cached = this.#tokenFile;
    if (cached === undefined || cached.path !== file || now - cached.readAt > TOKEN_FILE_REREAD_MS) {
      this.#tokenFile = { path: file, token: readFileSync(file, 'utf8'), readAt: now };
    }
    return (this.#tokenFile as { token: string }).token;
  }

  /** By client-node (loaded on first use; its auth state is kept). */
  async #applyByClientNode(options: RequestOptions): Promise<void> {
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

/** client-node's FileAuth re-reads the token file after a minute, as client-go does. */
const TOKEN_FILE_REREAD_MS = 60_000;

/**
 * Users and clusters whose credentials only client-node knows how to get: exec plugins, auth providers other
 * than the service account's token file (azure, gcp, oidc, a cmd-path), and proxies (its agents).
 */
function needsClientNode(user: User | null, cluster: Cluster | null): boolean {
  if (cluster?.proxyUrl) return true;
  if (user === null) return false;
  if (user.exec) return true;
  const provider = user.authProvider;
  if (!provider) return false;
  return !(provider.name === 'tokenFile' && provider.config?.tokenFile && !provider.config['cmd-path']);
}

/** client-node's bufferFromFileOrString: the file wins over the inline data. */
export function fileOrData(file: string | undefined, data: string | undefined): Buffer | null {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return null;
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
