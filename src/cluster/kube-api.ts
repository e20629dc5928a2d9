import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Cluster } from '@kubernetes/client-node/dist/config_types.js';
import { StuckfailedError } from '../errors.js';
import { APF_PRIORITY_LEVEL_HEADER } from '../kube/priority-and-fairness.js';
import {
  API_RESOURCES,
  type ApiResourceName,
  apiVersionOf,
  collectionPath,
  objectPath,
  RESOURCES,
  type ResourceType,
} from '../kube/resources.js';
import type { KubeList, KubeObject, ListMeta, Status } from '../kube/types.js';
import { VERSION } from '../version.js';
import {
  ApiError,
  isApiError,
  type RbacRule,
  statusFromResponse,
  transportErrorCode,
  unreachableError,
} from './api-error.js';
import { type Clock, systemClock } from './clock.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { fileOrData } from './kube-config.js';
import { PageBuffers } from './page-buffers.js';
import { TokenBucket } from './rate-limiter.js';
import type { ListOptions } from './reader.js';
import {
  DEFAULT_RETRY_POLICY,
  isIdempotentMethod,
  parseRetryAfter,
  type RetryPolicyOptions,
  retryDelayMs,
} from './retry-policy.js';
import { ListItems } from './split-list-body.js';

// The only HTTP client for the Kubernetes API. client-node's KubeConfig supplies what it is good at (credentials,
// TLS material, exec and OIDC plugins, through applyToHTTPSOptions); the requests themselves go through node:http(s)
// so that lists stream page by page and watches stream line by line, with the retries, the rate limit and the
// concurrency cap that client-node lacks (shared/apiserver.md §3).

/** A SelfSubjectAccessReview's status: allowed or not, and the authorizer's reason. */
export interface AccessDecision {
  allowed: boolean;
  reason: string;
  /** The authorizer could not fully evaluate the rules (a missing role, a failing webhook). */
  evaluationError?: string;
}

/** Kubernetes verbs, as RBAC and the simulator's /sim/stats count them. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'delete' | 'deletecollection' | 'patch';

export interface KubeApiStats {
  /** Requests sent, retries included. */
  requests: number;
  byVerb: Partial<Record<Verb, number>>;
  retries: number;
  /** Time requests waited for the client-side rate limiter. */
  throttledMs: number;
  /** Continue tokens that expired mid-list (410) and were renewed or replaced by a fresh list. */
  expiredContinues: number;
  /** Watches that had to relist after a 410. */
  relists: number;
  /** The server answered with API Priority and Fairness headers (it queues and rejects by itself). */
  priorityAndFairness: boolean;
}

/** What KubeApi needs of a kubeconfig: client-node's KubeConfig, or the KubeConfigFile that loads it when needed. */
export interface KubeCredentials {
  getCurrentCluster(): Cluster | null;
  /** Sets credentials and TLS material (headers, ca, cert, key, agent for a proxy) on request options. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

export interface KubeApiOptions {
  /** The kubeconfig, with the context to use made current. */
  kubeConfig: KubeCredentials;
  userAgent?: string;
  /** Client-side limit, requests per second (kubectl: 5). 0 turns it off. */
  qps?: number;
  burst?: number;
  /**
   * Drop the qps limit once a response shows that the server has API Priority and Fairness (default true). SIG API
   * Machinery advises relying on APF rather than on client-side rates, and controller-runtime does so by default:
   * the server then queues and rejects (429) by itself, the in-flight cap (which halves on each 429) bounds what we
   * hold on it, and a client-side rate would only slow us down. Off: the limit holds whatever the server.
   */
  qpsOnlyWithoutApf?: boolean;
  /** Requests in flight at once, watches excepted. */
  maxInFlight?: number;
  retry?: Partial<Omit<RetryPolicyOptions, 'random'>>;
  /** Items per list page (kubectl's --chunk-size default: 500). */
  pageSize?: number;
  /** A request with no byte from the server for this long fails (and is retried if it may be). */
  requestTimeoutMs?: number;
  /** Upper bound on one container log read (limitBytes), so that a runaway log cannot fill memory. */
  maxLogBytes?: number;
  clock?: Clock;
  random?: () => number;
  /** Things the user should know that are not errors (an expired list restarted); stderr in the CLI. */
  onWarning?: (message: string) => void;
}

export interface PagedListOptions extends ListOptions {
  /** Page size; the API's `limit`. */
  limit?: number;
  signal?: AbortSignal;
}

export interface KubeLogOptions {
  namespace: string;
  pod: string;
  container: string;
  tailLines?: number;
  previous?: boolean;
  signal?: AbortSignal;
}

export interface WatchOptions extends ListOptions {
  /** Watch from here; undefined lists first (every current object arrives as ADDED) and then watches. */
  resourceVersion?: string;
  /** The server ends each watch request after this long and we reconnect from the last RV (kubectl: 300-600). */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; resourceVersion: string }
  /** A (re)list starts: every current object follows as ADDED; forget the objects you hold. */
  | { type: 'RELIST' }
  /** The (re)list is complete; events from here on are changes after this resourceVersion. */
  | { type: 'SYNCED'; resourceVersion: string };

export type PropagationPolicy = 'Background' | 'Foreground' | 'Orphan';

export interface DeleteOptions {
  /** The server deletes only if the object still has this uid / resourceVersion, else 409 Conflict. */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: PropagationPolicy;
  gracePeriodSeconds?: number;
  /** Server-side dry run (dryRun=All): validated and answered, nothing changes. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface DeleteCollectionOptions extends Omit<DeleteOptions, 'preconditions'> {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface PatchOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface WriteOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface ReplaceOptions extends WriteOptions {
  /** `status`: writes the status subresource only (what a custom resource's status can be written through). */
  subresource?: 'status';
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestSpec {
  verb: Verb;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  path: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal | undefined;
  /** Watches: return the open response instead of reading it, and do not hold a concurrency slot. */
  stream?: boolean;
  timeoutMs?: number;
  /** List pages: read the body into a buffer of this pool (given back once the page is parsed). */
  pageBuffers?: PageBuffers;
  /** A POST that creates nothing (an access review): retried on 5xx and resets as a GET would be. */
  asksOnly?: true;
}

interface BufferedResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The decompressed body. */
  bytes: Buffer;
  /** The body as text. */
  readonly body: string;
}

/** One page of a list, as list() and listPages() consume it. */
interface RawPage<T> {
  /** The list's top-level members other than items (kind, apiVersion, metadata). */
  members: Record<string, unknown>;
  metadata: ListMeta;
  /** Items in the page, before any skipping after a relist. */
  size: number;
  /** Starts fetching the next page now, if there is one (at most once). */
  prefetch(): void;
  /** The index-th item, parsed now; undefined when a relist already yielded it. */
  item(index: number): T | undefined;
}

/** A list body with its items still as bytes. */
interface ParsedBody {
  members: Record<string, unknown>;
  itemCount: number;
  item(index: number): unknown;
  /** The items are parsed: the bytes go back to the pool. */
  release(): void;
}

interface Connection {
  headers: Record<string, string | string[]>;
  agent: http.Agent;
}

const DEFAULTS = {
  qps: 50,
  burst: 100,
  maxInFlight: 16,
  pageSize: 500,
  requestTimeoutMs: 60_000,
  maxLogBytes: 16 * 1024 * 1024,
  watchTimeoutSeconds: 300,
};

/** `stuckfailed/<version> (<os>/<arch>) node/<version>`, in the shape of kubectl's User-Agent. */
export function defaultUserAgent(): string {
  return `stuckfailed/${VERSION} (${process.platform}/${process.arch}) node/${process.version}`;
}

export class KubeApi {
  /** The API server's base URL. */
  readonly server: string;
  readonly #kubeConfig: KubeCredentials;
  readonly #userAgent: string;
  readonly #limiter: TokenBucket;
  readonly #inFlight: ConcurrencyLimit;
  readonly #retry: RetryPolicyOptions;
  readonly #clock: Clock;
  readonly #pageSize: number;
  readonly #requestTimeoutMs: number;
  readonly #maxLogBytes: number;
  readonly #maxSockets: number;
  readonly #onWarning: (message: string) => void;
  readonly #pageBuffers = new PageBuffers();
  readonly #stats: KubeApiStats = {
    requests: 0,
    byVerb: {},
    retries: 0,
    throttledMs: 0,
    expiredContinues: 0,
    relists: 0,
    priorityAndFairness: false,
  };
  readonly #qpsOnlyWithoutApf: boolean;
  #agent: { fingerprint: string; agent: http.Agent } | undefined;

  constructor(options: KubeApiOptions) {
    const cluster = options.kubeConfig.getCurrentCluster();
    if (cluster === null) {
      throw new StuckfailedError('KUBECONFIG', 'the kubeconfig has no current cluster');
    }
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kubeConfig = options.kubeConfig;
    this.#userAgent = options.userAgent ?? defaultUserAgent();
    this.#clock = options.clock ?? systemClock();
    this.#limiter = new TokenBucket({
      qps: options.qps ?? DEFAULTS.qps,
      burst: options.burst ?? DEFAULTS.burst,
      clock: this.#clock,
    });
    this.#qpsOnlyWithoutApf = options.qpsOnlyWithoutApf ?? true;
    const maxInFlight = options.maxInFlight ?? DEFAULTS.maxInFlight;
    this.#inFlight = new ConcurrencyLimit(maxInFlight);
    // Requests in flight plus a few watches and one prefetched page per list.
    this.#maxSockets = maxInFlight * 2 + 8;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry, random: options.random ?? Math.random };
    this.#pageSize = options.pageSize ?? DEFAULTS.pageSize;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    this.#maxLogBytes = options.maxLogBytes ?? DEFAULTS.maxLogBytes;
    this.#onWarning = options.onWarning ?? (() => undefined);
  }

  stats(): KubeApiStats {
    return { ...this.#stats, byVerb: { ...this.#stats.byVerb }, throttledMs: this.#limiter.waitedMs };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent?.agent.destroy();
    this.#agent = undefined;
  }

  /** One object, or undefined on 404. */
  async get<T extends KubeObject>(
    resource: ApiResourceName,
    name: string,
    namespace?: string,
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const type = API_RESOURCES[resource];
    try {
      const response = await this.#send({
        verb: 'get',
        method: 'GET',
        path: this.#objectPath(type, name, namespace),
        signal,
      });
      return withTypeMeta(JSON.parse(response.body) as T, type);
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  /**
   * Every item of a collection, page by page. Items are parsed one at a time as they are asked for (see
   * split-list-body.ts), so a page costs its bytes, not its objects. The next page is requested once the caller
   * is halfway through this one: a caller that reads everything never waits long, and one that stops early
   * (a budget, the first match) does not pay for a page it never reads. A caller that says it reads everything
   * (`readsAll`) gets the next page requested as soon as this one arrives.
   */
  async *list<T extends KubeObject>(
    resource: ApiResourceName,
    options: PagedListOptions = {},
  ): AsyncGenerator<T> {
    for await (const page of this.#rawPages<T>(resource, options)) {
      const halfway = options.readsAll ? 0 : page.size >>> 1;
      for (let index = 0; index < page.size; index += 1) {
        if (index === halfway) page.prefetch();
        const item = page.item(index);
        if (item !== undefined) yield item;
      }
    }
  }

  /**
   * The pages of a paged list (limit + continue), each parsed whole. The next page is requested while the
   * caller handles this one (the callers of whole pages, watches relisting, read to the end).
   */
  async *listPages<T extends KubeObject>(
    resource: ApiResourceName,
    options: PagedListOptions = {},
  ): AsyncGenerator<KubeList<T>> {
    for await (const page of this.#rawPages<T>(resource, options)) {
      page.prefetch();
      const items: T[] = [];
      for (let index = 0; index < page.size; index += 1) {
        const item = page.item(index);
        if (item !== undefined) items.push(item);
      }
      yield { ...page.members, metadata: page.metadata, items };
    }
  }

  /**
   * The pages of a paged list as bytes plus item boundaries; the next page is fetched when the consumer calls
   * prefetch() or, at the latest, when it asks for the next page.
   *
   * A continue token older than etcd's compaction window (about 5 minutes) gets 410 Expired. The 410 Status carries
   * a new token with the same start key (apiserver storage/etcd3/errors.go): continuing with it serves the rest of
   * the keys after the last item we yielded, from the latest state. Items already yielded are never served again,
   * because the list is ordered by key and the new token starts after it; the price is only that the rest is not
   * a snapshot of the same instant (documented by the apiserver). Only when the 410 has no token do we start a
   * fresh list, and then we skip every key up to the last one yielded, so nothing is counted twice either way.
   */
  async *#rawPages<T extends KubeObject>(
    resource: ApiResourceName,
    options: PagedListOptions,
  ): AsyncGenerator<RawPage<T>> {
    const type = API_RESOURCES[resource];
    const path = collectionPath(type, options.namespace);
    const controller = new AbortController();
    const { signal, unlink } = linkSignals(controller, options.signal);
    const fetchPage = (continueToken: string | undefined): Promise<ParsedBody> => {
      const page = this.#send({
        verb: 'list',
        method: 'GET',
        path,
        query: {
          labelSelector: options.labelSelector || undefined,
          fieldSelector: options.fieldSelector || undefined,
          limit: options.limit ?? this.#pageSize,
          continue: continueToken,
        },
        signal,
        pageBuffers: this.#pageBuffers,
      }).then((response) => splitListResponse(response.bytes, this.#pageBuffers));
      // The prefetched page may be abandoned when the caller stops early; its failure is seen when awaited.
      page.catch(() => undefined);
      return page;
    };
    let token: string | undefined;
    let lastKey: string | undefined;
    let skipThroughKey: string | undefined;
    let expiredInARow = 0;
    let current: Promise<ParsedBody> | undefined = fetchPage(undefined);
    try {
      while (current !== undefined) {
        let body: ParsedBody;
        try {
          body = await current;
        } catch (error) {
          // A 410 on a continue is expected once in a while; a server that answers nothing else is not.
          if (!(isApiError(error, 410) && token !== undefined) || expiredInARow >= this.#retry.maxRetries)
            throw error;
          expiredInARow += 1;
          this.#stats.expiredContinues += 1;
          const renewed = error.status.metadata?.continue;
          if (renewed) {
            this.#onWarning(
              `the ${type.plural} list outlived its continue token (410 Expired); continuing with the token the server offered: the rest of the list is as of now, nothing is counted twice`,
            );
            token = renewed;
          } else {
            this.#onWarning(
              `the ${type.plural} list outlived its continue token (410 Expired) and the server offered no new one; listing again from the start and skipping what was already read`,
            );
            skipThroughKey = lastKey;
            token = undefined;
          }
          current = fetchPage(token);
          continue;
        }
        expiredInARow = 0;
        const metadata = (body.members.metadata ?? {}) as ListMeta;
        const nextToken = metadata.continue || undefined;
        token = nextToken;
        let next: Promise<ParsedBody> | undefined;
        const skipThrough = skipThroughKey;
        yield {
          members: body.members,
          metadata,
          // Live: a page split by guess may turn out to hold fewer items (split-list-body.ts).
          get size() {
            return body.itemCount;
          },
          prefetch: () => {
            if (nextToken !== undefined) next ??= fetchPage(nextToken);
          },
          item: (index) => {
            const item = withTypeMeta(body.item(index) as T, type);
            const key = storageKey(item);
            if (skipThrough !== undefined && key <= skipThrough) return undefined;
            lastKey = key;
            return item;
          },
        };
        // The caller is done with this page (list and listPages parse every item they yield before coming back).
        body.release();
        current = nextToken === undefined ? undefined : (next ?? fetchPage(nextToken));
      }
    } finally {
      unlink();
      controller.abort();
    }
  }

  /** A container's log as lines, oldest first (the trailing newline does not make an empty last line). */
  async readLog(options: KubeLogOptions): Promise<string[]> {
    const response = await this.#send({
      verb: 'get',
      method: 'GET',
      path: `${objectPath(RESOURCES.pods, options.pod, options.namespace)}/log`,
      query: {
        container: options.container,
        tailLines: options.tailLines,
        previous: options.previous || undefined,
        limitBytes: this.#maxLogBytes,
      },
      accept: 'text/plain, */*',
      signal: options.signal,
    });
    if (response.body === '') return [];
    const lines = response.body.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines;
  }

  /**
   * Changes to a collection, as they happen. Reconnects from the last resourceVersion seen (events and bookmarks)
   * when the server ends the request or the connection drops; relists on 410 Gone (the RV was compacted), announced
   * by RELIST ... SYNCED. Ends, without an error, when the signal aborts or the caller stops iterating.
   */
  async *watch<T extends KubeObject>(
    resource: ApiResourceName,
    options: WatchOptions = {},
  ): AsyncGenerator<WatchEvent<T>> {
    const type = API_RESOURCES[resource];
    const controller = new AbortController();
    const { signal, unlink } = linkSignals(controller, options.signal);
    let resourceVersion = options.resourceVersion;
    let droppedConnections = 0;
    try {
      while (!signal.aborted) {
        if (resourceVersion === undefined) {
          resourceVersion = yield* this.#listForWatch<T>(resource, type, options, signal);
        }
        let response: IncomingMessage;
        try {
          response = await this.#openWatch(type, options, resourceVersion, signal);
        } catch (error) {
          if (isApiError(error, 410)) {
            this.#stats.relists += 1;
            resourceVersion = undefined;
            continue;
          }
          throw error;
        }
        let expired = false;
        try {
          for await (const line of readLines(response)) {
            if (line.trim() === '') continue;
            const event = JSON.parse(line) as { type: string; object: T | Status };
            if (event.type === 'ERROR') {
              const status = event.object as Status;
              if (status.code === 410) {
                expired = true;
                break;
              }
              throw new ApiError({
                method: 'GET',
                url: `${this.server}${collectionPath(type, options.namespace)}?watch=true`,
                server: `the API server at ${this.server}`,
                status,
                attempts: 1,
              });
            }
            const object = event.object as T;
            resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
            droppedConnections = 0;
            if (event.type === 'BOOKMARK') {
              yield { type: 'BOOKMARK', resourceVersion: resourceVersion ?? '' };
            } else if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
              yield { type: event.type, object: withTypeMeta(object, type) };
            }
          }
        } catch (error) {
          if (signal.aborted) return;
          if (error instanceof ApiError) throw error;
          // The connection dropped mid-stream: reconnect from the last RV, with backoff, a bounded number of times.
          droppedConnections += 1;
          const delay = retryDelayMs(this.#retry, droppedConnections - 1, true, {
            kind: 'transport',
            errorCode: transportErrorCode(error) ?? 'ECONNRESET',
          });
          if (delay === undefined) throw unreachableError(error, this.server, droppedConnections);
          this.#stats.retries += 1;
          await this.#clock.sleep(delay, signal);
        } finally {
          response.destroy();
        }
        if (expired) {
          this.#stats.relists += 1;
          resourceVersion = undefined;
        }
      }
    } catch (error) {
      // Stopping a watch through its signal is the normal way to end it, not a failure.
      if (signal.aborted) return;
      throw error;
    } finally {
      unlink();
      controller.abort();
    }
  }

  /**
   * Deletes one object. A failed precondition is ApiError 409 Conflict; an object already gone, 404. The object as
   * deleted, which the server sends back, is not parsed: no caller needs it, and at 20,000 deletes parsing it cost
   * more CPU than sending them.
   */
  async delete(
    resource: ApiResourceName,
    name: string,
    namespace: string | undefined,
    options: DeleteOptions = {},
  ): Promise<void> {
    const type = API_RESOURCES[resource];
    await this.#send({
      verb: 'delete',
      method: 'DELETE',
      path: this.#objectPath(type, name, namespace),
      body: deleteOptionsBody(options),
      contentType: 'application/json',
      signal: options.signal,
    });
  }

  /**
   * Deletes every object of one namespace that matches the selectors, in one request; returns them as deleted.
   * The API has no all-namespaces form (405), hence the required namespace for namespaced resources.
   */
  async deleteCollection<T extends KubeObject>(
    resource: ApiResourceName,
    namespace: string | undefined,
    options: DeleteCollectionOptions = {},
  ): Promise<T[]> {
    const type = API_RESOURCES[resource];
    if (type.namespaced && namespace === undefined) {
      throw new StuckfailedError('USAGE', `deleting a collection of ${type.plural} needs a namespace`);
    }
    const response = await this.#send({
      verb: 'deletecollection',
      method: 'DELETE',
      path: collectionPath(type, namespace),
      query: {
        labelSelector: options.labelSelector || undefined,
        fieldSelector: options.fieldSelector || undefined,
      },
      body: deleteOptionsBody(options),
      contentType: 'application/json',
      signal: options.signal,
    });
    const body = JSON.parse(response.body) as KubeList<T> | Status;
    if (body.kind === 'Status') return [];
    return ((body as KubeList<T>).items ?? []).map((item) => withTypeMeta(item, type));
  }

  /** A JSON merge patch (RFC 7386), e.g. `{spec: {runStrategy: 'Halted'}}` on a VirtualMachine. */
  async mergePatch<T extends KubeObject>(
    resource: ApiResourceName,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    options: PatchOptions = {},
  ): Promise<T> {
    const type = API_RESOURCES[resource];
    const response = await this.#send({
      verb: 'patch',
      method: 'PATCH',
      path: this.#objectPath(type, name, namespace),
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: patch,
      contentType: 'application/merge-patch+json',
      signal: options.signal,
    });
    return withTypeMeta(JSON.parse(response.body) as T, type);
  }

  /**
   * Creates an object (POST); returns it as stored. An object of that name already there is ApiError 409
   * (reason AlreadyExists): how two writers racing for one name learn that the other won.
   */
  async create<T extends KubeObject>(
    resource: ApiResourceName,
    namespace: string | undefined,
    object: T,
    options: WriteOptions = {},
  ): Promise<T> {
    const type = API_RESOURCES[resource];
    if (type.namespaced && namespace === undefined) {
      throw new StuckfailedError('USAGE', `creating ${type.plural} needs a namespace`);
    }
    const response = await this.#send({
      verb: 'create',
      method: 'POST',
      path: collectionPath(type, namespace),
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...object },
      contentType: 'application/json',
      signal: options.signal,
    });
    return withTypeMeta(JSON.parse(response.body) as T, type);
  }

  /**
   * Asks the authorizer whether this client may do what a rule names (a SelfSubjectAccessReview, what `kubectl auth
   * can-i` sends): one request, answered without doing anything. A rule without a namespace asks for all of them.
   */
  async reviewAccess(rule: RbacRule): Promise<AccessDecision> {
    const [resource = '', subresource] = rule.resource.split('/');
    const response = await this.#send({
      verb: 'create',
      method: 'POST',
      path: collectionPath(API_RESOURCES.selfsubjectaccessreviews),
      body: {
        apiVersion: apiVersionOf(API_RESOURCES.selfsubjectaccessreviews),
        kind: API_RESOURCES.selfsubjectaccessreviews.kind,
        spec: {
          resourceAttributes: {
            verb: rule.verb,
            group: rule.group,
            resource,
            ...(subresource === undefined ? {} : { subresource }),
            ...(rule.namespace === undefined ? {} : { namespace: rule.namespace }),
          },
        },
      },
      contentType: 'application/json',
      asksOnly: true,
    });
    const { status } = JSON.parse(response.body) as { status?: Partial<AccessDecision> };
    return {
      allowed: status?.allowed === true,
      reason: status?.reason ?? '',
      ...(status?.evaluationError ? { evaluationError: status.evaluationError } : {}),
    };
  }

  /**
   * Replaces an object (PUT), or its status subresource. With metadata.resourceVersion set the write is
   * conditional (optimistic concurrency): any write since that version makes it ApiError 409 (reason Conflict),
   * and the caller re-reads and tries again.
   */
  async replace<T extends KubeObject>(
    resource: ApiResourceName,
    object: T,
    options: ReplaceOptions = {},
  ): Promise<T> {
    const type = API_RESOURCES[resource];
    const { name, namespace } = object.metadata;
    const path = this.#objectPath(type, name, namespace);
    const response = await this.#send({
      verb: 'update',
      method: 'PUT',
      path: options.subresource === undefined ? path : `${path}/${options.subresource}`,
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: { apiVersion: apiVersionOf(type), kind: type.kind, ...object },
      contentType: 'application/json',
      signal: options.signal,
    });
    return withTypeMeta(JSON.parse(response.body) as T, type);
  }

  async *#listForWatch<T extends KubeObject>(
    resource: ApiResourceName,
    type: ResourceType,
    options: WatchOptions,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<T>, string> {
    yield { type: 'RELIST' };
    let resourceVersion = '';
    for await (const page of this.listPages<T>(resource, { ...options, signal })) {
      // Every page of one list is served as of the first page's RV (apiserver.md §4.3); the last one says it too.
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      for (const object of page.items) yield { type: 'ADDED', object };
    }
    if (resourceVersion === '') {
      throw new StuckfailedError(
        'UNREACHABLE',
        `the API server at ${this.server} listed ${type.plural} without a resourceVersion, so they cannot be watched`,
      );
    }
    yield { type: 'SYNCED', resourceVersion };
    return resourceVersion;
  }

  async #openWatch(
    type: ResourceType,
    options: WatchOptions,
    resourceVersion: string,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const timeoutSeconds = options.timeoutSeconds ?? DEFAULTS.watchTimeoutSeconds;
    const response = await this.#send({
      verb: 'watch',
      method: 'GET',
      path: collectionPath(type, options.namespace),
      query: {
        watch: true,
        allowWatchBookmarks: true,
        resourceVersion,
        timeoutSeconds,
        labelSelector: options.labelSelector || undefined,
        fieldSelector: options.fieldSelector || undefined,
      },
      stream: true,
      // The server closes the watch after timeoutSeconds; silence well past that means the connection is dead.
      timeoutMs: (timeoutSeconds + 60) * 1000,
      signal,
    });
    return response;
  }

  /** The RBAC rule a request needs, read back from its path: named in a 403 so the user knows what to ask for. */
  #ruleFor(spec: RequestSpec): RbacRule {
    const parts = spec.path.split('/').filter((part) => part !== '');
    // /api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUB]] or /apis/GROUP/VERSION/[namespaces/NS/]RESOURCE[/NAME[/SUB]]
    const group = parts[0] === 'apis' ? (parts[1] ?? '') : '';
    let rest = parts.slice(parts[0] === 'apis' ? 3 : 2);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length > 2) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = rest[2] === undefined ? (rest[0] ?? '') : `${rest[0]}/${rest[2]}`;
    return { verb: spec.verb, resource, group, ...(namespace === undefined ? {} : { namespace }) };
  }

  /** The in-flight limit now and its cap: the limit halves on 429 and grows back on success. */
  inFlightLimit(): { limit: number; max: number } {
    return { limit: this.#inFlight.limit, max: this.#inFlight.max };
  }

  #notePriorityAndFairness(headers: IncomingHttpHeaders): void {
    if (this.#stats.priorityAndFairness) return;
    if (headers[APF_PRIORITY_LEVEL_HEADER.toLowerCase()] === undefined) return;
    this.#stats.priorityAndFairness = true;
    if (this.#qpsOnlyWithoutApf) this.#limiter.lift();
  }

  #objectPath(type: ResourceType, name: string, namespace: string | undefined): string {
    if (type.namespaced && namespace === undefined) {
      throw new StuckfailedError('USAGE', `${type.plural} "${name}" needs a namespace`);
    }
    return objectPath(type, name, namespace);
  }

  #send(spec: RequestSpec & { stream: true }): Promise<IncomingMessage>;
  #send(spec: RequestSpec): Promise<BufferedResponse>;
  /** One call: rate limit, concurrency cap, then attempts until success, a final error, or retries spent. */
  async #send(spec: RequestSpec): Promise<BufferedResponse | IncomingMessage> {
    const url = this.#url(spec.path, spec.query);
    const idempotent = spec.asksOnly === true || isIdempotentMethod(spec.method);
    for (let retries = 0; ; retries += 1) {
      await this.#limiter.take(spec.signal);
      this.#stats.requests += 1;
      this.#stats.byVerb[spec.verb] = (this.#stats.byVerb[spec.verb] ?? 0) + 1;
      let outcome: BufferedResponse;
      try {
        if (spec.stream) {
          const response = await this.#exchange(url, spec, false);
          this.#notePriorityAndFairness(response.headers);
          const code = response.statusCode ?? 0;
          if (code >= 200 && code < 300) return response;
          outcome = bufferedResponse(code, response.headers, await readBody(response));
        } else {
          outcome = await this.#inFlight.run(() => this.#exchange(url, spec, true));
          this.#notePriorityAndFairness(outcome.headers);
        }
      } catch (error) {
        if (spec.signal?.aborted) throw spec.signal.reason ?? error;
        if (error instanceof StuckfailedError) throw error;
        const delay = retryDelayMs(this.#retry, retries, idempotent, {
          kind: 'transport',
          errorCode: transportErrorCode(error),
        });
        if (delay === undefined) throw unreachableError(error, this.server, retries + 1);
        this.#stats.retries += 1;
        await this.#clock.sleep(delay, spec.signal);
        continue;
      }
      // Not `body` yet: it decodes the whole response, a 4.6 MB string per 500-pod page that a success never needs.
      const { statusCode } = outcome;
      if (statusCode >= 200 && statusCode < 300) {
        this.#inFlight.succeeded();
        return outcome;
      }
      // API Priority and Fairness rejected us: fewer requests at once is what it asks for (concurrency-limit.ts).
      if (statusCode === 429) this.#inFlight.throttled();
      const status = statusFromResponse(statusCode, outcome.body);
      const retryAfterSeconds =
        parseRetryAfter(headerValue(outcome.headers['retry-after']), Date.now()) ??
        status.details?.retryAfterSeconds;
      const delay = retryDelayMs(this.#retry, retries, idempotent, {
        kind: 'status',
        statusCode,
        retryAfterSeconds,
      });
      if (delay === undefined) {
        throw new ApiError({
          method: spec.method,
          url: url.toString(),
          server: `the API server at ${this.server}`,
          status,
          attempts: retries + 1,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          ...(statusCode === 403 ? { rule: this.#ruleFor(spec) } : {}),
        });
      }
      this.#stats.retries += 1;
      await this.#clock.sleep(delay, spec.signal);
    }
  }

  /** One HTTP exchange. Buffered: the whole body, decompressed. Streamed: the open response (2xx) or its body. */
  async #exchange(url: URL, spec: RequestSpec, buffered: true): Promise<BufferedResponse>;
  async #exchange(url: URL, spec: RequestSpec, buffered: false): Promise<IncomingMessage>;
  async #exchange(
    url: URL,
    spec: RequestSpec,
    buffered: boolean,
  ): Promise<BufferedResponse | IncomingMessage> {
    const connection = await this.#connection();
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const headers: Record<string, string | string[]> = {
      ...connection.headers,
      'user-agent': this.#userAgent,
      accept: spec.accept ?? 'application/json',
      // Large list pages compress about tenfold; the apiserver gzips responses over 128 KiB when asked. Watches stay
      // uncompressed so that each event arrives as soon as it is sent.
      'accept-encoding': spec.stream ? 'identity' : 'gzip',
    };
    if (payload !== undefined) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const transport = url.protocol === 'https:' ? https : http;
    const { signal } = spec;
    let request: http.ClientRequest | undefined;
    const onAbort = (): void => {
      request?.destroy(signal?.reason);
    };
    // One signal serves every page and retry of a list: the listener must go when this exchange ends.
    signal?.addEventListener('abort', onAbort, { once: true });
    const release = (): void => signal?.removeEventListener('abort', onAbort);
    let streaming = false;
    try {
      const response = await new Promise<IncomingMessage>((resolve, reject) => {
        request = transport.request(url, { method: spec.method, headers, agent: connection.agent }, resolve);
        request.setTimeout(spec.timeoutMs ?? this.#requestTimeoutMs, () => {
          request?.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' }));
        });
        request.on('error', reject);
        if (signal?.aborted) request.destroy(signal.reason);
        request.end(payload);
      });
      if (!buffered) {
        streaming = true;
        response.once('close', release);
        return response;
      }
      return bufferedResponse(
        response.statusCode ?? 0,
        response.headers,
        await readBody(response, spec.pageBuffers),
      );
    } finally {
      if (!streaming) release();
    }
  }

  /**
   * Credentials and TLS for the next request. applyToHTTPSOptions runs each time, so rotated tokens and exec
   * plugin refreshes are picked up; the keep-alive agent is kept while the TLS material stays the same. Over
   * plain http:// no credentials are sent, as kubectl does (client-go sends them only over TLS).
   */
  async #connection(): Promise<Connection> {
    const cluster = this.#kubeConfig.getCurrentCluster();
    if (this.server.startsWith('http:')) {
      return { headers: {}, agent: this.#keptAgent('http', () => new http.Agent(this.#agentOptions())) };
    }
    const options: https.RequestOptions = {};
    try {
      await this.#kubeConfig.applyToHTTPSOptions(options);
    } catch (error) {
      throw new StuckfailedError(
        'KUBECONFIG',
        `cannot set up credentials for ${this.server}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const headers: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      // Lists stay lists (one header line each): Impersonate-Group is read line by line.
      if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value : String(value);
    }
    if (options.auth) headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    if (cluster?.proxyUrl) {
      // Proxy agents come from client-node (HTTP CONNECT / SOCKS); use the one it just built.
      return { headers, agent: options.agent as http.Agent };
    }
    // client-node applies the cluster's CA only when the context has a user; fill it in for user-less contexts.
    const ca = options.ca ?? fileOrData(cluster?.caFile, cluster?.caData) ?? undefined;
    const rejectUnauthorized = cluster?.skipTLSVerify ? false : options.rejectUnauthorized;
    const tls = {
      ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      servername: options.servername ?? cluster?.tlsServerName,
      rejectUnauthorized,
    };
    const hash = createHash('sha256');
    for (const value of Object.values(tls)) {
      // Each field hashed as itself (PEM buffers as bytes), separated, so no two settings collide.
      hash.update(value === undefined ? '\u0000' : Buffer.isBuffer(value) ? value : String(value));
      hash.update('\u0001');
    }
    const fingerprint = hash.digest('hex');
    return {
      headers,
      agent: this.#keptAgent(
        fingerprint,
        () => new https.Agent({ ...this.#agentOptions(), ...definedOnly(tls) }),
      ),
    };
  }

  #agentOptions(): http.AgentOptions {
    return { keepAlive: true, maxSockets: this.#maxSockets };
  }

  #keptAgent(fingerprint: string, create: () => http.Agent): http.Agent {
    if (this.#agent?.fingerprint !== fingerprint) {
      this.#agent?.agent.destroy();
      this.#agent = { fingerprint, agent: create() };
    }
    return this.#agent.agent;
  }

  #url(path: string, query: Query | undefined): URL {
    const url = new URL(`${this.server}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }
}

function deleteOptionsBody(options: DeleteOptions): Record<string, unknown> {
  return {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    ...(options.preconditions === undefined ? {} : { preconditions: options.preconditions }),
    ...(options.propagationPolicy === undefined ? {} : { propagationPolicy: options.propagationPolicy }),
    ...(options.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: options.gracePeriodSeconds }),
    ...(options.dryRun ? { dryRun: ['All'] } : {}),
  };
}

/** Items of typed lists arrive without kind and apiVersion (apiserver.md §4.8); downstream code expects them. */
function withTypeMeta<T extends KubeObject>(object: T, type: ResourceType): T {
  if (object.kind === undefined) object.kind = type.kind;
  if (object.apiVersion === undefined) object.apiVersion = apiVersionOf(type);
  return object;
}

/** The apiserver's storage key order: namespace/name (cluster-scoped: name). */
function storageKey(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}

/** A signal that aborts with `outer` or when `controller` does; unlink() detaches it from `outer` again. */
function linkSignals(
  controller: AbortController,
  outer: AbortSignal | undefined,
): { signal: AbortSignal; unlink(): void } {
  if (outer === undefined) return { signal: controller.signal, unlink: () => undefined };
  const forward = (): void => controller.abort(outer.reason);
  if (outer.aborted) forward();
  else outer.addEventListener('abort', forward, { once: true });
  return { signal: controller.signal, unlink: () => outer.removeEventListener('abort', forward) };
}

function decoded(response: IncomingMessage): Readable {
  return response.headers['content-encoding'] === 'gzip' ? response.pipe(createGunzip()) : response;
}

async function readBody(response: IncomingMessage, pageBuffers?: PageBuffers): Promise<Buffer> {
  const stream = decoded(response);
  // A gunzip stream does not see the socket's errors: forward them, so a reset mid-body fails the read.
  if (stream !== response) response.on('error', (error) => stream.destroy(error));
  if (pageBuffers !== undefined) {
    const announced = stream === response ? Number(response.headers['content-length']) : Number.NaN;
    return pageBuffers.read(stream, Number.isSafeInteger(announced) ? announced : undefined);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function bufferedResponse(statusCode: number, headers: IncomingHttpHeaders, bytes: Buffer): BufferedResponse {
  return {
    statusCode,
    headers,
    bytes,
    get body() {
      return bytes.toString('utf8');
    },
  };
}

/** A list body split into items parsed on demand; a body the splitter cannot read is parsed whole. */
function splitListResponse(bytes: Buffer, pageBuffers: PageBuffers): ParsedBody {
  try {
    const items = new ListItems(bytes);
    return {
      members: items.members,
      get itemCount() {
        return items.count;
      },
      item: (index) => items.item(index),
      release: () => {
        items.release();
        pageBuffers.give(bytes);
      },
    };
  } catch {
    const { items, ...members } = JSON.parse(bytes.toString('utf8')) as { items?: unknown[] | null };
    const list = items ?? [];
    pageBuffers.give(bytes);
    return { members, itemCount: list.length, item: (index) => list[index], release: () => undefined };
  }
}

async function* readLines(response: IncomingMessage): AsyncGenerator<string> {
  let buffer = '';
  response.setEncoding('utf8');
  for await (const chunk of response) {
    buffer += chunk as string;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  }
  if (buffer.trim() !== '') yield buffer;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function definedOnly<T extends Record<string, unknown>>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
