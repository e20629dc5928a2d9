// The simulated Kubernetes API: the HTTP surface real kubectl 1.32 and @kubernetes/client-node 1.4 use for the
// runbook (apiserver.md §1), over the ObjectStore. Plain node:http handlers rather than fastify: lists stream
// pre-serialized objects with backpressure, watches and log follows hold connections open, and faults must be
// able to destroy a socket mid-request, all of which want the raw request and response.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APF_FLOW_SCHEMA_HEADER, APF_PRIORITY_LEVEL_HEADER } from '../kube/priority-and-fairness.js';
import { RESOURCES, type ResourceType } from '../kube/resources.js';
import {
  type FieldSelector,
  type LabelSelector,
  matchesFieldValues,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../kube/selectors.js';
import type { KubeObject, Pod } from '../kube/types.js';
import { type Asker, answerSelfReview, SELF_REVIEWS } from './access-review.js';
import {
  ApiStatusError,
  alreadyExists,
  badRequest,
  continueExpired,
  internalError,
  invalid,
  invalidObject,
  methodNotAllowed,
  notFound,
  pathNotFound,
  protobufNotDecoded,
  requestEntityTooLarge,
  tooLargeResourceVersion,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
} from './api-status.js';
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroupDocument,
  apiGroupList,
  apiResourceList,
  apiVersions,
  type DiscoveryMode,
} from './discovery.js';
import { type Faults, parseFaults } from './faults.js';
import { impersonationOf } from './impersonation.js';
import { validationErrors } from './object-validation.js';
import { openApiDocument, openApiIndex } from './openapi.js';
import { type JsonPatchOperation, type JsonValue, jsonPatch, mergePatch } from './patch.js';
import {
  decodeProtobufObject,
  PROTOBUF_CONTENT_TYPE,
  PROTOBUF_DECODED_KINDS,
  UnsupportedProtobufKind,
} from './protobuf.js';
import {
  type DeleteBody,
  deleteParams,
  listParams,
  queryBool,
  queryInt,
  type WriteParams,
  writeParams,
} from './query-params.js';
import {
  authorize,
  BASIC_USER_RULES,
  type Decision,
  forbiddenError,
  type PolicyRule,
  type RbacPolicy,
  type RequestAttributes,
  rulesFor,
} from './rbac.js';
import type { RequestStats } from './request-stats.js';
import {
  CRD_RESOURCE,
  type ResourceRegistry,
  type ServedResource,
  validateCrd,
} from './resource-registry.js';
import {
  type DeleteOptions,
  decodeObject,
  type ObjectStore,
  type StoredObject,
  type StoreEvent,
  type StoreResource,
} from './store.js';
import { strategicMergePatch } from './strategic-merge-patch.js';
import { builtInPrinter, crdPrinter, DEFAULT_PRINTER, type IncludeObject, renderTable } from './table.js';
import { updateValidationErrors } from './update-validation.js';
import { haltIfStopped } from './vm-controller.js';

/** /version, pinned to 1.32: /usr/bin/kubectl picks its kubectl binary by the server's minor (apiserver.md §0). */
export const SIMULATED_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53',
  gitTreeState: 'clean',
  buildDate: '2024-12-11T17:59:15Z',
  goVersion: 'go1.23.3',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

/**
 * Who a bearer token stands for. `readOnly` identities are refused every write with 403 Forbidden; with an RBAC
 * policy, identities outside `system:masters` get what their bindings allow.
 */
export interface Identity {
  user: string;
  groups?: readonly string[];
  readOnly?: boolean;
}

/** The container logs the simulator serves, keyed by podLogKey(namespace, pod, container). */
export type PodLogs = Map<string, string[]>;

export function podLogKey(namespace: string, pod: string, container: string): string {
  return `${namespace}/${pod}/${container}`;
}

export interface SimApiOptions {
  store: ObjectStore;
  /** What is served: the built-in kinds and the resources of the CRDs in the store. */
  registry: ResourceRegistry;
  logs: PodLogs;
  stats: RequestStats;
  discovery: DiscoveryMode;
  /** The faults in force, read on every request (POST /sim/faults changes them). */
  faults(): Faults;
  setFaults(faults: Faults): void;
  /** POST /sim/heal. */
  heal(): void;
  clock: () => number;
  /** Uniform in [0, 1): fault draws. */
  random: () => number;
  /** Enforced for every authenticated request when given (`sim --rbac`); undefined: everything is allowed. */
  rbac?: RbacPolicy | undefined;
  /** Bearer tokens accepted (HTTPS only: clients send no credentials over http). Undefined: no authentication. */
  tokens?: ReadonlyMap<string, Identity> | undefined;
  /** GET /metrics: kube-state-metrics series of the pods; undefined answers 404. */
  writeMetrics?: ((pods: Iterable<Pod>, write: (chunk: string) => void) => void) | undefined;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (the real apiserver: about a minute). */
  bookmarkIntervalMs?: number | undefined;
}

type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

interface ResourceRequest {
  resource: StoreResource;
  type: ResourceType;
  served: ServedResource;
  /** The version in the path (a CRD may serve several; objects are stored at type.version). */
  version: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/** What a self rules review lists for a user allowed everything (the privileged group's authorizer). */
const ALL_RULES: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** What a read-only token may do: read everything, and ask who it is and what it may do. */
const READ_ONLY_RULES: PolicyRule[] = [
  { verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*'] },
  ...BASIC_USER_RULES,
  { verbs: ['get'], nonResourceURLs: ['*'] },
];

type Route =
  | { kind: 'version' }
  | { kind: 'discovery'; body: () => string | undefined; aggregatable: 'core' | 'groups' | undefined }
  | { kind: 'resource'; request: ResourceRequest };

const WRITE_VERBS = new Set<Verb>(['create', 'update', 'patch', 'delete', 'deletecollection']);
const LIST_CHUNK_BYTES = 1024 * 1024;
const COMMA = Buffer.from(',');
const EVENT_END = Buffer.from('}\n');
/** Lists of at most this many items (kubectl's default page is 500) are sent as one body. */
const WHOLE_BODY_ITEMS = 1000;
const MAX_BODY_BYTES = 3 * 1024 * 1024;

interface ContinueToken {
  rv: number;
  start: string;
}

// The etcd3 store's continue token (k8s.io/apiserver pkg/storage/continue.go): base64url JSON with the list's
// resourceVersion and the next key relative to the listed prefix.
export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw badRequest(`continue key is not valid: illegal base64 data`);
  }
  const record = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (record?.v !== 'meta.k8s.io/v1') {
    throw badRequest('continue key is not valid: server does not recognize this encoded key version');
  }
  if (typeof record.rv !== 'number' || typeof record.start !== 'string' || record.start.includes('..')) {
    throw badRequest('continue key is not valid: encoded key is invalid');
  }
  return { rv: record.rv, start: record.start };
}

export class SimApi {
  private readonly options: SimApiOptions;
  /** Open watches and followed logs, ended on close(). */
  private readonly streams = new Set<() => void>();
  /** The simulated cluster's one flow schema and priority level, as UIDs (real ones are object UIDs too). */
  private readonly apf = { flowSchemaUid: randomUUID(), priorityLevelUid: randomUUID() };
  /** When each list resourceVersion was first handed out in a continue token (expireContinueAfterSeconds). */
  private readonly continueIssuedAt = new Map<number, number>();

  constructor(options: SimApiOptions) {
    this.options = options;
  }

  /** The request listener for node:http / node:https. */
  readonly handle = (request: IncomingMessage, response: ServerResponse): void => {
    this.dispatch(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const status =
        error instanceof ApiStatusError
          ? error
          : internalError(error instanceof Error ? error.message : String(error));
      sendStatus(response, status);
    });
  };

  /** Ends every open watch and log follow (the server is shutting down). */
  closeStreams(): void {
    for (const end of [...this.streams]) end();
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/sim/')) return this.control(request, response, path);
    if (path === '/metrics') return this.metrics(request, response);

    const route = routeOf(path, this.options.registry);
    const method = request.method ?? 'GET';
    const verb = route?.kind === 'resource' ? verbOf(method, route.request, url) : 'get';
    this.options.stats.record(
      verb ?? method.toLowerCase(),
      route?.kind === 'resource'
        ? route.request.subresource === undefined
          ? route.request.resource
          : `${route.request.resource}/${route.request.subresource}`
        : undefined,
    );

    // /version is readable anonymously, as system:public-info-viewer grants on real clusters.
    const identity = this.impersonate(
      route?.kind === 'version' ? undefined : this.authenticate(request),
      request,
    );
    // API Priority and Fairness classifies every authenticated request (after authentication, before
    // authorization, so a 403 or a 429 carries them too) and names the matched flow schema and priority level by
    // UID: what clients such as controller-runtime and stuckfailed read to know that the server limits itself.
    response.setHeader(APF_FLOW_SCHEMA_HEADER, this.apf.flowSchemaUid);
    response.setHeader(APF_PRIORITY_LEVEL_HEADER, this.apf.priorityLevelUid);
    this.authorize(identity, route, verb, method, path);
    if (route === undefined) throw pathNotFound();
    if (route.kind === 'version') return sendJson(response, 200, JSON.stringify(SIMULATED_VERSION));
    if (route.kind === 'discovery') return this.discovery(request, response, route);

    const resourceRequest = route.request;
    if (verb === undefined || !resourceRequest.type.verbs.includes(verb)) throw methodNotAllowed();
    if (await this.injectFault(request, response)) return;
    if (resourceRequest.resource in SELF_REVIEWS) {
      const answer = answerSelfReview(
        resourceRequest.resource,
        await readObjectBody(request),
        this.asker(identity),
      );
      return sendJson(response, 201, JSON.stringify(answer));
    }

    switch (verb) {
      case 'list':
        return this.list(request, response, resourceRequest, url);
      case 'watch':
        return this.watch(request, response, resourceRequest, url);
      case 'get':
        return resourceRequest.subresource === 'log'
          ? this.log(request, response, resourceRequest, url)
          : this.get(request, response, resourceRequest, url);
      case 'delete':
        return this.delete(request, response, resourceRequest, url);
      case 'deletecollection':
        return this.deleteCollection(request, response, resourceRequest, url);
      case 'create':
        return this.create(request, response, resourceRequest, url);
      case 'update':
        return this.update(request, response, resourceRequest, url);
      case 'patch':
        return this.patch(request, response, resourceRequest, url);
    }
  }

  /** The authorization filter: before the request is routed, so unknown paths are 403 too. */
  private authorize(
    identity: Identity | undefined,
    route: Route | undefined,
    verb: Verb | undefined,
    method: string,
    path: string,
  ): void {
    if (identity === undefined) return;
    const attributes =
      route?.kind === 'resource'
        ? requestAttributes(identity, route.request, verb ?? method.toLowerCase(), path)
        : requestAttributes(identity, undefined, method === 'HEAD' ? 'get' : method.toLowerCase(), path);
    const decision = this.decide(identity, attributes);
    if (!decision.allowed) throw forbiddenError(attributes, decision.reason);
  }

  /**
   * The authorizer, which requests and access reviews (kubectl auth can-i) both ask: the privileged group first, as
   * the apiserver does before RBAC; a read-only token is refused every write but asking what it may do (as a user
   * bound to `view` and, like every user, to `system:basic-user`); then the RBAC policy, when given.
   */
  private decide(identity: Identity | undefined, attributes: RequestAttributes): Decision {
    if (identity === undefined || identity.groups?.includes('system:masters'))
      return { allowed: true, reason: '' };
    // Impersonating is acting as someone else: a read-only token may not either.
    const write =
      attributes.resourceRequest &&
      (WRITE_VERBS.has(attributes.verb as Verb) || attributes.verb === 'impersonate');
    if (identity.readOnly && write && !(attributes.resource in SELF_REVIEWS)) {
      return { allowed: false, reason: '' };
    }
    const policy = this.options.rbac;
    return policy === undefined ? { allowed: true, reason: '' } : authorize(policy, attributes);
  }

  /** The asking user of a self review, with the authorizer and the rules its own requests are held to. */
  private asker(identity: Identity | undefined): Asker {
    return {
      user: identity === undefined ? undefined : { username: identity.user, groups: identity.groups ?? [] },
      decide: (attributes) =>
        this.decide(identity, { user: identity?.user ?? '', groups: identity?.groups ?? [], ...attributes }),
      rules: (namespace) => {
        const policy = this.options.rbac;
        const privileged = identity === undefined || identity.groups?.includes('system:masters') === true;
        if (!privileged && policy !== undefined) {
          return rulesFor(policy, { user: identity.user, groups: identity.groups ?? [] }, namespace);
        }
        // Without RBAC everything is allowed (as for the privileged group), but a read-only token's writes.
        return { rules: identity?.readOnly ? READ_ONLY_RULES : ALL_RULES, evaluationError: '' };
      },
    };
  }

  /**
   * Who the request runs as: the authenticated user, or the user it impersonates once each impersonation is
   * authorized (403 otherwise, as the filter answers). Without authentication there is no one to check.
   */
  private impersonate(identity: Identity | undefined, request: IncomingMessage): Identity | undefined {
    if (identity === undefined) return undefined;
    const impersonation = impersonationOf(request.headersDistinct);
    if (impersonation === undefined) return identity;
    for (const check of impersonation.checks) {
      const attributes = { user: identity.user, groups: [...(identity.groups ?? [])], ...check };
      const decision = this.decide(identity, attributes);
      if (!decision.allowed) throw forbiddenError(attributes, decision.reason);
    }
    return impersonation.as;
  }

  private authenticate(request: IncomingMessage): Identity | undefined {
    const tokens = this.options.tokens;
    if (tokens === undefined) return undefined;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const identity = match === null ? undefined : tokens.get(match[1] as string);
    if (identity === undefined) throw unauthorized();
    return identity;
  }

  /** Applies the configured faults; true when the request was answered (or its socket destroyed). */
  private async injectFault(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const faults = this.options.faults();
    const { random } = this.options;
    if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    if (faults.resetRate && random() < faults.resetRate) {
      request.socket.destroy();
      return true;
    }
    if (faults.throttleRate && random() < faults.throttleRate) {
      sendStatus(response, tooManyRequests(faults.retryAfterSeconds ?? 1));
      return true;
    }
    if (faults.errorRate && random() < faults.errorRate) {
      sendStatus(response, internalError('the simulator injected this error (errorRate)'));
      return true;
    }
    return false;
  }

  private discovery(
    request: IncomingMessage,
    response: ServerResponse,
    route: Extract<Route, { kind: 'discovery' }>,
  ) {
    const accept = request.headers.accept ?? '';
    if (
      route.aggregatable !== undefined &&
      this.options.discovery === 'aggregated' &&
      accept.includes('as=APIGroupDiscoveryList')
    ) {
      return sendJson(
        response,
        200,
        aggregatedDiscovery(this.options.registry.all(), route.aggregatable === 'core'),
        AGGREGATED_CONTENT_TYPE,
      );
    }
    if (route.aggregatable === 'core') {
      const host = request.headers.host ?? '127.0.0.1';
      return sendJson(response, 200, apiVersions(host));
    }
    const body = route.body();
    if (body === undefined) throw pathNotFound();
    return sendJson(response, 200, body);
  }

  private parseSelectors(
    resource: StoreResource,
    url: URL,
  ): { labelSelector: LabelSelector; fieldSelector: FieldSelector } {
    try {
      return {
        labelSelector: parseLabelSelector(url.searchParams.get('labelSelector') ?? ''),
        fieldSelector: parseFieldSelector(resource, url.searchParams.get('fieldSelector') ?? ''),
      };
    } catch (error) {
      if (error instanceof SelectorError) throw badRequest(error.message);
      throw error;
    }
  }

  private async list(request: IncomingMessage, response: ServerResponse, target: ResourceRequest, url: URL) {
    const { store, clock } = this.options;
    const options = listParams(url.searchParams);
    const selectors = this.parseSelectors(target.resource, url);
    const limit = options.limit;
    const continueText = options.continueToken;
    const requestedRv = options.resourceVersion;
    if (requestedRv !== '' && Number(requestedRv) > store.resourceVersion)
      throw tooLargeResourceVersion(requestedRv, store.resourceVersion);
    const prefix = target.namespace === undefined || !target.type.namespaced ? '' : `${target.namespace}/`;

    let readAt: number | undefined;
    let startAt: string | undefined;
    if (continueText !== '') {
      if (requestedRv !== '' && requestedRv !== '0') {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const token = decodeContinue(continueText);
      startAt = prefix + token.start;
      const expired = () => continueExpired(encodeContinue(-1, token.start));
      if (token.rv !== -1) {
        const issuedAt = this.continueIssuedAt.get(token.rv);
        const window = this.options.faults().expireContinueAfterSeconds;
        if (window !== undefined && (issuedAt === undefined || clock() - issuedAt > window * 1000))
          throw expired();
        readAt = token.rv;
        try {
          store.assertReadable(target.resource, token.rv);
        } catch (error) {
          if (error instanceof ApiStatusError && error.code === 410) throw expired();
          throw error;
        }
      }
    } else if (requestedRv !== '' && requestedRv !== '0' && options.resourceVersionMatch === 'Exact') {
      readAt = parseResourceVersion(requestedRv);
    }

    const page = store.list(target.resource, {
      namespace: target.namespace,
      ...selectors,
      limit: limit !== undefined && limit > 0 ? limit : undefined,
      startAt,
      resourceVersion: readAt,
    });
    let continueToken: string | undefined;
    if (page.continueAt !== undefined) {
      // An inconsistent continue (rv -1) goes on at the latest version, and so do its successors.
      const tokenRv = readAt === undefined && continueText !== '' ? -1 : page.resourceVersion;
      continueToken = encodeContinue(tokenRv, page.continueAt.slice(prefix.length));
      if (!this.continueIssuedAt.has(page.resourceVersion))
        this.continueIssuedAt.set(page.resourceVersion, clock());
      this.pruneContinueTimes();
    }
    const metadata = {
      resourceVersion: String(page.resourceVersion),
      ...(continueToken === undefined ? {} : { continue: continueToken }),
      ...(page.remainingItemCount === undefined ? {} : { remainingItemCount: page.remainingItemCount }),
    };
    const table = tableRequested(request, url);
    if (table !== undefined) {
      const body = renderTable(
        printerOf(target),
        page.items.map((item) => this.view(target, item).toString('utf8')),
        metadata,
        table,
        clock(),
      );
      return sendJson(response, 200, body, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    }
    const head = `{"kind":${JSON.stringify(target.type.listKind)},"apiVersion":${JSON.stringify(requestApiVersion(target))},"metadata":${JSON.stringify(metadata)},"items":[`;
    await streamJson(response, head, this.viewAll(target, page.items), ']}');
  }

  private pruneContinueTimes(): void {
    if (this.continueIssuedAt.size < 1000) return;
    const oldest = [...this.continueIssuedAt.keys()].sort((a, b) => a - b).slice(0, 500);
    for (const rv of oldest) this.continueIssuedAt.delete(rv);
  }

  private watch(request: IncomingMessage, response: ServerResponse, target: ResourceRequest, url: URL): void {
    const { store } = this.options;
    const options = listParams(url.searchParams);
    const selectors = this.parseSelectors(target.resource, url);
    const { labelSelector } = selectors;
    // GET .../pods/NAME?watch=1 (the deprecated single-object watch) is a watch with metadata.name=NAME.
    const fieldSelector: FieldSelector =
      target.name === undefined
        ? selectors.fieldSelector
        : [...selectors.fieldSelector, { field: 'metadata.name', operator: '=', value: target.name }];
    const namespace = target.type.namespaced ? target.namespace : undefined;
    const rvText = options.resourceVersion;
    const sendInitialEvents = options.sendInitialEvents === true;
    const bookmarks = options.allowWatchBookmarks;
    const timeoutSeconds = options.timeoutSeconds ?? Number.NaN;
    const matches = (object: StoredObject | undefined): object is StoredObject =>
      object !== undefined &&
      (namespace === undefined || object.namespace === namespace) &&
      matchesFieldValues(fieldSelector, object.fields) &&
      matchesLabels(labelSelector, object.labels);

    response.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Audit-Id': randomUUID(),
      'Transfer-Encoding': 'chunked',
    });
    // The apiserver flushes the headers at once: a client that waits for them before writing must not hang.
    response.flushHeaders();
    const send = (type: string, object: Buffer | string) =>
      response.write(
        Buffer.concat([Buffer.from(`{"type":"${type}","object":`), Buffer.from(object), EVENT_END]),
      );
    const sendObject = (type: string, object: StoredObject) => send(type, this.view(target, object));
    const bookmark = (annotations?: Record<string, string>) =>
      send(
        'BOOKMARK',
        JSON.stringify({
          kind: target.type.kind,
          apiVersion: requestApiVersion(target),
          metadata: {
            resourceVersion: String(store.resourceVersion),
            ...(annotations ? { annotations } : {}),
          },
        }),
      );
    const forward = (event: StoreEvent) => {
      const now = matches(event.object) ? event.object : undefined;
      const before =
        event.type === 'ADDED' ? undefined : matches(event.previous) ? event.previous : undefined;
      if (event.type === 'DELETED') {
        if (before !== undefined || now !== undefined) sendObject('DELETED', event.object);
      } else if (now !== undefined && before !== undefined) sendObject('MODIFIED', now);
      else if (now !== undefined) sendObject('ADDED', now);
      else if (before !== undefined) sendObject('DELETED', event.object);
    };

    let replay: StoreEvent[] = [];
    const initial = rvText === '' || rvText === '0' || sendInitialEvents;
    if (!initial) {
      try {
        replay = store.changesSince(target.resource, parseResourceVersion(rvText));
      } catch (error) {
        if (!(error instanceof ApiStatusError)) throw error;
        send('ERROR', JSON.stringify(error.status));
        response.end();
        return;
      }
    }
    const unsubscribe = store.subscribe(target.resource, forward);
    const timers: NodeJS.Timeout[] = [];
    const end = () => {
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      this.streams.delete(end);
      if (!response.writableEnded) response.end();
    };
    this.streams.add(end);
    request.on('close', end);
    response.on('error', end);

    if (initial) {
      for (const item of store.list(target.resource, { namespace, labelSelector, fieldSelector }).items) {
        sendObject('ADDED', item);
      }
      if (sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else {
      for (const event of replay) forward(event);
    }
    if (bookmarks) {
      const interval = setInterval(() => bookmark(), this.options.bookmarkIntervalMs ?? 60_000);
      timers.push(interval);
    }
    if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
      timers.push(
        setTimeout(() => {
          if (bookmarks) bookmark();
          end();
        }, timeoutSeconds * 1000),
      );
    }
  }

  private get(request: IncomingMessage, response: ServerResponse, target: ResourceRequest, url: URL): void {
    const stored = this.requireObject(target);
    const table = tableRequested(request, url);
    if (table !== undefined) {
      const body = renderTable(
        printerOf(target),
        [this.view(target, stored).toString('utf8')],
        { resourceVersion: String(stored.resourceVersion) },
        table,
        this.options.clock(),
      );
      sendJson(response, 200, body, 'application/json;as=Table;v=v1;g=meta.k8s.io');
      return;
    }
    sendJson(response, 200, this.view(target, stored));
  }

  /** The stored object as the request's version serves it (a CRD's other versions differ in apiVersion only). */
  private view(target: ResourceRequest, stored: StoredObject): Buffer {
    if (target.version === target.type.version) return stored.body;
    const object = decodeObject(stored);
    return Buffer.from(JSON.stringify({ ...object, apiVersion: requestApiVersion(target) }));
  }

  private viewAll(target: ResourceRequest, items: StoredObject[]): StoredObject[] {
    if (target.version === target.type.version) return items;
    return items.map((item) => ({ ...item, body: this.view(target, item) }));
  }

  private requireObject(target: ResourceRequest): StoredObject {
    const name = target.name as string;
    const stored = this.options.store.get(target.resource, target.namespace, name);
    if (stored === undefined) throw notFound(target.type, name);
    return stored;
  }

  // pkg/registry/core/pod/rest/log.go + strategy.go LogLocation: the container must be named when there are
  // several; `previous` needs a terminated previous instance (launchers never restart, so there is none).
  private log(request: IncomingMessage, response: ServerResponse, target: ResourceRequest, url: URL): void {
    const stored = this.requireObject(target);
    const pod = decodeObject<Pod>(stored);
    const params = url.searchParams;
    const names = pod.spec.containers.map((container) => container.name);
    const initNames = (pod.spec.initContainers ?? []).map((container) => container.name);
    let container = params.get('container') ?? '';
    if (container === '') {
      if (names.length === 1) container = names[0] as string;
      else if (names.length === 0)
        throw badRequest(`a container name must be specified for pod ${pod.metadata.name}`);
      else {
        const init = initNames.length > 0 ? ` or one of the init containers: [${initNames.join(' ')}]` : '';
        throw badRequest(
          `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]${init}`,
        );
      }
    }
    if (!names.includes(container) && !initNames.includes(container)) {
      throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    }
    if (queryBool(params, 'previous')) {
      throw badRequest(
        `previous terminated container "${container}" in pod "${pod.metadata.name}" not found`,
      );
    }
    const fallback = pod.status?.startTime ?? pod.metadata.creationTimestamp ?? new Date(0).toISOString();
    let lines = (
      this.options.logs.get(podLogKey(stored.namespace as string, stored.name, container)) ?? []
    ).map((line) => ({ line, at: lineTimestamp(line, fallback) }));
    const sinceSeconds = queryInt(params, 'sinceSeconds');
    if (sinceSeconds !== undefined) {
      const since = this.options.clock() - sinceSeconds * 1000;
      lines = lines.filter((entry) => Date.parse(entry.at) >= since);
    }
    const tail = queryInt(params, 'tailLines');
    if (tail !== undefined && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    const timestamps = queryBool(params, 'timestamps');
    let text = lines.map((entry) => `${timestamps ? `${entry.at} ` : ''}${entry.line}\n`).join('');
    const limitBytes = queryInt(params, 'limitBytes');
    if (limitBytes !== undefined && limitBytes > 0) {
      text = Buffer.from(text).subarray(0, limitBytes).toString('utf8');
    }
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Audit-Id': randomUUID() });
    if (!queryBool(params, 'follow')) {
      response.end(text);
      return;
    }
    // follow: the kubelet holds the stream open for lines to come; the simulated containers write no more.
    response.write(text);
    const end = () => {
      this.streams.delete(end);
      if (!response.writableEnded) response.end();
    };
    this.streams.add(end);
    request.on('close', end);
  }

  private async delete(
    request: IncomingMessage,
    response: ServerResponse,
    target: ResourceRequest,
    url: URL,
  ) {
    const options = await deleteOptionsOf(request, url);
    const result = this.options.store.delete(
      target.resource,
      target.namespace,
      target.name as string,
      options,
    );
    sendJson(response, 200, this.view(target, result.object));
  }

  private async deleteCollection(
    request: IncomingMessage,
    response: ServerResponse,
    target: ResourceRequest,
    url: URL,
  ) {
    // DELETE /api/v1/pods does not exist: deletecollection is served on namespaced paths only.
    if (target.type.namespaced && target.namespace === undefined) throw methodNotAllowed();
    const selectors = this.parseSelectors(target.resource, url);
    const options = await deleteOptionsOf(request, url);
    const deleted = this.options.store.deleteCollection(
      target.resource,
      { namespace: target.namespace, ...selectors },
      options,
    );
    const head = `{"kind":${JSON.stringify(target.type.listKind)},"apiVersion":${JSON.stringify(requestApiVersion(target))},"metadata":{"resourceVersion":"${this.options.store.resourceVersion}"},"items":[`;
    await streamJson(response, head, this.viewAll(target, deleted), ']}');
  }

  private async create(
    request: IncomingMessage,
    response: ServerResponse,
    target: ResourceRequest,
    url: URL,
  ) {
    if (target.subresource !== undefined) throw methodNotAllowed();
    const params = writeParams(url.searchParams, 'CreateOptions');
    const object = (await readObjectBody(request)) as KubeObject | undefined;
    if (object === undefined || typeof object !== 'object' || typeof object.metadata !== 'object') {
      throw badRequest('the body of the request must be an object with metadata');
    }
    const metadata = { ...object.metadata };
    if (target.type.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== target.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      if (target.namespace !== undefined) metadata.namespace = target.namespace;
      // The NamespaceLifecycle admission plugin, which runs before validation: no new content in a namespace that
      // does not exist.
      if (
        metadata.namespace !== undefined &&
        this.options.store.get('namespaces', undefined, metadata.namespace) === undefined
      ) {
        throw notFound(RESOURCES.namespaces, metadata.namespace);
      }
    }
    if (metadata.resourceVersion !== undefined && metadata.resourceVersion !== '') {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    if (!metadata.name && metadata.generateName)
      metadata.name = `${metadata.generateName}${randomSuffix(this.options.random)}`;
    const { uid: _ignoredUid, resourceVersion: _ignoredRv, ...rest } = metadata;
    let created: KubeObject = { ...object, metadata: rest };
    if (target.resource === CRD_RESOURCE) validateCrd(created);
    else validate(target.type, created);
    if (target.resource === 'namespaces') created = newNamespace(created);
    if (target.served.custom) {
      // customresource strategy PrepareForCreate: status is the status subresource's to write; generation 1.
      const { status: _ignoredStatus, ...withoutStatus } = created as KubeObject & { status?: unknown };
      created = {
        ...(target.served.subresources.includes('status') ? withoutStatus : created),
        metadata: { ...created.metadata, generation: 1 },
      } as KubeObject;
    }
    if (params.dryRun) {
      if (this.options.store.get(target.resource, created.metadata.namespace, created.metadata.name)) {
        throw alreadyExists(target.type, created.metadata.name);
      }
      return sendJson(response, 201, JSON.stringify(created));
    }
    const stored = this.options.store.create(target.resource, created);
    sendJson(response, 201, this.view(target, stored));
  }

  private async update(
    request: IncomingMessage,
    response: ServerResponse,
    target: ResourceRequest,
    url: URL,
  ) {
    const params = writeParams(url.searchParams, 'UpdateOptions');
    const object = (await readJsonBody(request)) as KubeObject | undefined;
    if (object === undefined || typeof object !== 'object' || typeof object.metadata !== 'object') {
      throw badRequest('the body of the request must be an object with metadata');
    }
    if (object.metadata.name !== target.name) {
      throw badRequest(
        `the name of the object (${object.metadata.name}) does not match the name on the URL (${target.name})`,
      );
    }
    const namespace = target.type.namespaced ? target.namespace : undefined;
    // rest.BeforeUpdate's EnsureObjectNamespaceMatchesRequestNamespace: an unset namespace is the request's.
    if (namespace !== undefined && object.metadata.namespace && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    const submitted = {
      ...object,
      metadata: { ...object.metadata, ...(namespace === undefined ? {} : { namespace }) },
    };
    this.write(response, target, submitted, params);
  }

  private async patch(request: IncomingMessage, response: ServerResponse, target: ResourceRequest, url: URL) {
    const params = writeParams(url.searchParams, 'PatchOptions');
    const current = this.requireObject(target);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    const body = (await readJsonBody(request)) as JsonValue | undefined;
    if (body === undefined) throw badRequest('the body of the request was empty');
    const document = decodeObject(current) as unknown as JsonValue;
    let patched: JsonValue;
    try {
      if (contentType === 'application/merge-patch+json') patched = mergePatch(document, body);
      else if (contentType === 'application/json-patch+json') {
        if (!Array.isArray(body)) throw new Error('a JSON patch must be an array of operations');
        patched = jsonPatch(document, body as unknown as JsonPatchOperation[]);
      } else if (contentType === 'application/strategic-merge-patch+json' && !target.served.custom) {
        // The apiserver's strategicpatch with the merge keys of the kind's Go type; a `$`-key left over is an
        // unknown field the apiserver drops with a warning (or refuses, with fieldValidation=Strict).
        const result = strategicMergePatch(document, body, {
          kind: target.type.kind,
          fieldValidation: params.fieldValidation,
        });
        for (const warning of result.warnings)
          response.appendHeader('Warning', `299 - ${JSON.stringify(warning)}`);
        patched = result.patched;
      } else throw unsupportedMediaType(contentType);
    } catch (error) {
      if (error instanceof ApiStatusError) throw error;
      throw invalid(target.type, current.name, (error as Error).message);
    }
    const object = patched as unknown as KubeObject;
    // The patch handler's EnsureObjectNamespaceMatchesRequestNamespace and checkName, before any validation.
    const namespace = target.type.namespaced ? target.namespace : undefined;
    if (namespace !== undefined && object?.metadata?.namespace && object.metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (typeof object !== 'object' || object === null || object.metadata?.name !== current.name) {
      throw badRequest(
        `the name of the object (${object?.metadata?.name ?? ''}) does not match the name on the URL (${current.name})`,
      );
    }
    if (namespace !== undefined) object.metadata.namespace = namespace;
    // A patch applies to the version read: its resourceVersion, unless the patch set one, is a precondition.
    this.write(response, target, object, params);
  }

  /**
   * PUT and PATCH end here: the status subresource writes only status, the main resource of a CRD with a status
   * subresource keeps the stored status (customresource strategy PrepareForUpdate and statusStrategy), and a
   * change other than metadata or status bumps a custom resource's generation.
   */
  private write(
    response: ServerResponse,
    target: ResourceRequest,
    submitted: KubeObject,
    params: WriteParams,
  ) {
    const { store } = this.options;
    const current = this.requireObject(target);
    const before = decodeObject(current) as KubeObject & { status?: unknown };
    const incoming = submitted as KubeObject & { status?: unknown };
    let next: KubeObject & { status?: unknown };
    const hasStatus = target.served.subresources.includes('status');
    if (target.subresource === 'status') {
      const { resourceVersion: _storedRv, ...metadata } = before.metadata;
      const expected = incoming.metadata.resourceVersion;
      next = {
        ...before,
        metadata: expected === undefined ? metadata : { ...metadata, resourceVersion: expected },
      };
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = { ...incoming };
      if (hasStatus) {
        if (before.status === undefined) delete next.status;
        else next.status = before.status;
      }
      if (target.resource === CRD_RESOURCE) validateCrd(next);
      validate(target.type, next, before);
      if (target.served.custom) {
        const generation = before.metadata.generation ?? 1;
        next.metadata = {
          ...next.metadata,
          generation: specChanged(before, next) ? generation + 1 : generation,
        };
      }
    }
    // dryRun=All: validated (preconditions included) and answered as it would be stored, nothing written.
    const stored = store.update(target.resource, next, { dryRun: params.dryRun });
    if (!params.dryRun && target.resource === 'virtualmachines') haltIfStopped(store, stored);
    sendJson(response, 200, this.view(target, stored));
  }

  private async control(request: IncomingMessage, response: ServerResponse, path: string) {
    const method = request.method ?? 'GET';
    if (path === '/sim/stats' && method === 'GET') {
      return sendJson(response, 200, JSON.stringify(this.options.stats.snapshot()));
    }
    if (path === '/sim/faults' && method === 'GET')
      return sendJson(response, 200, JSON.stringify(this.options.faults()));
    if (path === '/sim/faults' && method === 'POST') {
      let faults: Faults;
      try {
        faults = parseFaults((await readJsonBody(request)) ?? {});
      } catch (error) {
        throw error instanceof ApiStatusError ? error : badRequest((error as Error).message);
      }
      this.options.setFaults(faults);
      return sendJson(response, 200, JSON.stringify(faults));
    }
    if (path === '/sim/heal' && method === 'POST') {
      this.options.heal();
      return sendJson(response, 200, JSON.stringify({ healed: true }));
    }
    if (path === '/sim/kubelet' && method === 'POST') {
      const finished = this.options.store.runKubelet(true);
      return sendJson(response, 200, JSON.stringify({ finished }));
    }
    throw pathNotFound();
  }

  private async metrics(request: IncomingMessage, response: ServerResponse) {
    const write = this.options.writeMetrics;
    if (write === undefined || request.method !== 'GET') throw pathNotFound();
    const store = this.options.store;
    function* pods(): IterableIterator<Pod> {
      for (const stored of store.objects('pods')) yield decodeObject<Pod>(stored);
    }
    response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    let buffer = '';
    const pending: string[] = [];
    write(pods(), (chunk) => {
      buffer += chunk;
      if (buffer.length >= LIST_CHUNK_BYTES) {
        pending.push(buffer);
        buffer = '';
      }
    });
    pending.push(buffer);
    for (const chunk of pending) {
      if (!response.write(chunk)) await drained(response);
    }
    response.end();
  }
}

/** Maps a path to what it serves, or undefined for an unknown path (404). */
export function routeOf(path: string, registry: ResourceRegistry): Route | undefined {
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments.length === 1 && segments[0] === 'version') return { kind: 'version' };
  if (segments[0] === 'openapi' && segments[1] === 'v3') {
    const key = segments.slice(2).join('/');
    return {
      kind: 'discovery',
      aggregatable: undefined,
      body: () => (key === '' ? openApiIndex(registry.all()) : openApiDocument(registry.all(), key)),
    };
  }
  if (segments.length === 1 && segments[0] === 'api') {
    return { kind: 'discovery', aggregatable: 'core', body: () => undefined };
  }
  if (segments.length === 1 && segments[0] === 'apis') {
    return { kind: 'discovery', aggregatable: 'groups', body: () => apiGroupList(registry.all()) };
  }
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments[1] === 'v1') {
    group = '';
    version = 'v1';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 2) {
    group = segments[1] as string;
    if (segments.length === 2)
      return {
        kind: 'discovery',
        aggregatable: undefined,
        body: () => apiGroupDocument(registry.all(), group),
      };
    version = segments[2] as string;
    if (!registry.servesGroupVersion(group, version)) return undefined;
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  if (rest.length === 0) {
    return {
      kind: 'discovery',
      aggregatable: undefined,
      body: () => apiResourceList(registry.all(), group, version),
    };
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  if (plural === undefined || extra.length > 0) return undefined;
  const served = registry.find(group, version, plural);
  if (served === undefined) return undefined;
  const type = served.type;
  if (namespace !== undefined && !type.namespaced) return undefined;
  if (subresource !== undefined) {
    if (!served.subresources.includes(subresource)) return undefined;
    if (subresource === 'log' && namespace === undefined) return undefined;
  }
  return {
    kind: 'resource',
    request: { resource: served.name, type, served, version, namespace, name, subresource },
  };
}

function verbOf(method: string, target: ResourceRequest, url: URL): Verb | undefined {
  const isWatch = queryBool(url.searchParams, 'watch');
  if (target.name === undefined) {
    if (method === 'GET') return isWatch ? 'watch' : 'list';
    if (method === 'POST') return 'create';
    if (method === 'DELETE') return 'deletecollection';
    return undefined;
  }
  if (target.subresource === 'log') return method === 'GET' ? 'get' : undefined;
  if (method === 'GET') return isWatch && target.subresource === undefined ? 'watch' : 'get';
  if (method === 'PUT') return 'update';
  if (method === 'PATCH') return 'patch';
  if (method === 'DELETE') return target.subresource === undefined ? 'delete' : undefined;
  return undefined;
}

/** The authorizer's view of a request: a resource request, or a path (discovery, /version, unknown paths). */
function requestAttributes(
  identity: Identity,
  target: ResourceRequest | undefined,
  verb: string,
  path: string,
): RequestAttributes {
  const base = { user: identity.user, groups: [...(identity.groups ?? [])], verb, path };
  if (target === undefined) {
    return {
      ...base,
      resourceRequest: false,
      apiGroup: '',
      resource: '',
      subresource: '',
      name: '',
      namespace: '',
    };
  }
  return {
    ...base,
    resourceRequest: true,
    apiGroup: target.type.group,
    resource: target.type.plural,
    subresource: target.subresource ?? '',
    name: target.name ?? '',
    namespace: target.type.namespaced ? (target.namespace ?? '') : '',
  };
}

function requestApiVersion(target: ResourceRequest): string {
  return target.type.group === '' ? target.version : `${target.type.group}/${target.version}`;
}

function printerOf(target: ResourceRequest) {
  if (target.served.printerColumns !== undefined) {
    return crdPrinter(target.served.printerColumns(target.version));
  }
  return builtInPrinter(target.resource) ?? DEFAULT_PRINTER;
}

/** Everything but metadata and status: what a custom resource's generation counts changes of. */
function specChanged(before: KubeObject, after: KubeObject): boolean {
  const strip = (object: KubeObject) => {
    const { metadata: _metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
    return JSON.stringify(rest);
  };
  return strip(before) !== strip(after);
}

/** The Table form kubectl asks for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, if it does. */
function tableRequested(request: IncomingMessage, url: URL): IncludeObject | undefined {
  const accept = request.headers.accept ?? '';
  const first = accept.split(',')[0] ?? '';
  if (!first.includes('as=Table')) return undefined;
  const include = url.searchParams.get('includeObject');
  return include === 'None' || include === 'Object' ? include : 'Metadata';
}

function parseResourceVersion(text: string): number {
  if (!/^\d+$/.test(text)) throw badRequest(`invalid resource version: ${text}`);
  return Number(text);
}

function lineTimestamp(line: string, fallback: string): string {
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { timestamp?: unknown; ts?: unknown };
      const value = parsed.timestamp ?? parsed.ts;
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
    } catch {
      // not JSON: the pod's start time stands in
    }
  }
  return fallback;
}

// The alphabet of apimachinery's rand.String (generateName suffixes): no vowels, no confusable digits.
function randomSuffix(random: () => number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let index = 0; index < 5; index += 1) suffix += alphabet[Math.floor(random() * alphabet.length)];
  return suffix;
}

/** The request's body; events rather than an async iterator, which costs more than a small body's whole read. */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        request.off('data', onData);
        request.resume();
        reject(requestEntityTooLarge(MAX_BODY_BYTES));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const text = (await readBody(request)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

/**
 * The object of a create: JSON, or protobuf as a typed client sends it (`kubectl create namespace`); the kinds the
 * simulator does not decode from protobuf are 415, naming what it decodes.
 */
async function readObjectBody(request: IncomingMessage): Promise<unknown> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (contentType !== PROTOBUF_CONTENT_TYPE) return readJsonBody(request);
  const body = await readBody(request);
  try {
    return decodeProtobufObject(body);
  } catch (error) {
    if (error instanceof UnsupportedProtobufKind)
      throw protobufNotDecoded(PROTOBUF_CONTENT_TYPE, error.message, PROTOBUF_DECODED_KINDS);
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

// DeleteOptions come as query parameters (client-node), as a body (kubectl), both, or neither (apiserver.md §4.5).
async function deleteOptionsOf(request: IncomingMessage, url: URL): Promise<DeleteOptions> {
  const body = ((await readJsonBody(request)) ?? {}) as DeleteBody;
  return deleteParams(url.searchParams, body);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: string | Buffer,
  contentType = 'application/json',
): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
  });
  response.end(body);
}

function sendStatus(response: ServerResponse, error: ApiStatusError): void {
  const body = JSON.stringify(error.status);
  response.writeHead(error.status.code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
    ...error.headers,
  });
  response.end(body);
}

/**
 * Writes `head`, the items' JSON comma-separated, then `tail`. A page (bounded by `limit`) goes out as one body
 * with its Content-Length; a larger list (no limit: 100k pods are about 1 GB) streams in 1 MiB chunks with
 * backpressure, so it is never one string.
 */
async function streamJson(
  response: ServerResponse,
  head: string,
  items: readonly StoredObject[],
  tail: string,
): Promise<void> {
  const headers = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Audit-Id': randomUUID(),
  };
  const parts: Buffer[] = [Buffer.from(head)];
  let size = 0;
  if (items.length <= WHOLE_BODY_ITEMS) {
    for (const [index, item] of items.entries()) {
      if (index > 0) parts.push(COMMA);
      parts.push(item.body);
    }
    parts.push(Buffer.from(tail));
    const body = Buffer.concat(parts);
    response.writeHead(200, { ...headers, 'Content-Length': body.length });
    response.end(body);
    return;
  }
  response.writeHead(200, headers);
  for (let index = 0; index < items.length; index += 1) {
    if (index > 0) parts.push(COMMA);
    const body = (items[index] as StoredObject).body;
    parts.push(body);
    size += body.length;
    if (size >= LIST_CHUNK_BYTES) {
      const flushed = response.write(Buffer.concat(parts));
      parts.length = 0;
      size = 0;
      if (!flushed) await drained(response);
    }
  }
  parts.push(Buffer.from(tail));
  response.end(Buffer.concat(parts));
}

/** Resolves when the response can take more, rejects when the client went away first. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      response.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      response.off('drain', onDrain);
      reject(new Error('the client went away'));
    };
    response.once('drain', onDrain);
    response.once('close', onClose);
  });
}

/**
 * 422 Invalid with the apiserver's field errors when the object, or the update from `before` to it, would not pass
 * its validation (one 422 with all of them, as BeforeUpdate's validateCommonFields and ValidateUpdate give).
 */
function validate(type: ResourceType, object: KubeObject, before?: KubeObject): void {
  const errors = validationErrors(type, object);
  if (before !== undefined) errors.push(...updateValidationErrors(type, before, object));
  if (errors.length > 0) throw invalidObject(type.group, type.kind, object.metadata.name ?? '', errors);
}

/**
 * The namespace strategy's PrepareForCreate and defaults: Active, the `kubernetes` finalizer, and the immutable
 * `kubernetes.io/metadata.name` label that lets a selector pick a namespace by name.
 */
function newNamespace(namespace: KubeObject & { spec?: { finalizers?: string[] } }): KubeObject {
  const name = namespace.metadata.name;
  return {
    ...namespace,
    metadata: {
      ...namespace.metadata,
      labels: { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': name },
    },
    spec: { ...namespace.spec, finalizers: namespace.spec?.finalizers ?? ['kubernetes'] },
    status: { phase: 'Active' },
  } as KubeObject;
}
