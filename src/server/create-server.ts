// The HTTP face of `serve`, built in one place (tests inject(), src/cli/serve.ts listens): Alertmanager's webhook,
// the incidents API, the web page, /metrics, /healthz and /readyz. Every dependency comes in through ServerDeps.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { StuckfailedError } from '../errors.js';
import { describeWebhookError, webhookSchema } from './alertmanager-webhook.js';
import type { Incident } from './incident.js';
import { IncidentService } from './incident-service.js';
import type { IncidentStore } from './incident-store.js';
import type { Mitigator } from './mitigator.js';
import type { Policy } from './policy.js';
import { createServiceMetrics, type WebhookOutcome } from './service-metrics.js';
import { apiTokenName, checkWebhookToken, type NamedToken } from './tokens.js';

/** Alertmanager truncates to max_alerts; 1 MiB holds a thousand alerts with room to spare. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The web page: renderers from incidents to HTML documents (src/server/page/render-page.ts in serve). */
export interface PageRenderers {
  renderIndexPage(incidents: Incident[]): string;
  renderIncidentPage(incident: Incident): string;
  /** The page for an unknown incident id (sent with 404). */
  renderNotFoundPage(id: string): string;
  /** Headers of every page response (Content-Type, Content-Security-Policy, Cache-Control). */
  headers: Readonly<Record<string, string>>;
}

export interface ServerDeps {
  store: IncidentStore;
  mitigator: Mitigator;
  policy: Policy;
  now: () => Date;
  logger: FastifyBaseLogger;
  /** The service's own registry (never prom-client's global one). */
  registry: Registry;
  /** The bearer token Alertmanager sends (--webhook-token-file). */
  webhookToken: string;
  /** Named tokens that may approve (--api-token-file); empty: approvals are refused. */
  apiTokens: readonly NamedToken[];
  /** The web page's renderers. */
  pages: PageRenderers;
  bodyLimit?: number;
  newId?: () => string;
  /**
   * Several replicas share the store and a leader election decides which one acts: the service starts as a
   * follower and the elector calls service.lead() / service.follow(). Otherwise this process leads from the start.
   */
  elected?: boolean;
  /** How often the leader looks for work other replicas recorded (ms). */
  reconcileMs?: number;
}

export interface Server {
  app: FastifyInstance;
  service: IncidentService;
}

const approveSchema = z.object({
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex>'),
});
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Whether `text` is JSON at all: what the secure parser refused then was a __proto__ or constructor key. */
function isPlainJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function httpError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

const OUTCOME_BY_STATUS: Record<number, WebhookOutcome> = {
  400: 'invalid',
  401: 'unauthorized',
  413: 'too-large',
  415: 'unsupported-media-type',
};

export async function createServer(deps: ServerDeps): Promise<Server> {
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const { pages } = deps;
  const metrics = createServiceMetrics(deps.registry, deps.store);
  const service = new IncidentService({
    store: deps.store,
    mitigator: deps.mitigator,
    policy: deps.policy,
    now: deps.now,
    logger: deps.logger,
    metrics,
    ...(deps.newId === undefined ? {} : { newId: deps.newId }),
    ...(deps.reconcileMs === undefined ? {} : { reconcileMs: deps.reconcileMs }),
  });
  const app = Fastify({ loggerInstance: deps.logger, bodyLimit, return503OnClosing: true });

  // What a body's digest and an approver's name are, per request, without widening fastify's types.
  const bodyDigests = new WeakMap<FastifyRequest, string>();
  const approvers = new WeakMap<FastifyRequest, string>();
  const webhookOutcomes = new WeakMap<FastifyRequest, WebhookOutcome>();

  // JSON only (415 for anything else), valid UTF-8 only, and no __proto__ / constructor keys.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(httpError(400, 'INVALID_UTF8', 'the body is not valid UTF-8'), undefined);
      return;
    }
    bodyDigests.set(request, `sha256:${createHash('sha256').update(bytes).digest('hex')}`);
    const text = bytes.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error === null) done(null, value);
      else if (isPlainJson(text)) {
        done(
          httpError(400, 'FORBIDDEN_KEY', 'the body has a __proto__ or constructor key, which is refused'),
          undefined,
        );
      } else done(httpError(400, 'INVALID_JSON', `the body is not valid JSON: ${error.message}`), undefined);
    });
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // The Kubernetes API or the store failed (the incidents CRD missing, RBAC, an expired token): a 503, whatever
    // the API server answered. Its 404 or 403 passed on would tell Alertmanager the notification itself is bad, and
    // Alertmanager retries only 5xx: the alert would be lost.
    if (error instanceof StuckfailedError) {
      request.log.error({ err: error }, 'a dependency failed');
      return reply.code(503).send({ error: 'unavailable', message: error.message });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({
        error: 'unsupported-media-type',
        message: `the body must be application/json (got ${request.headers['content-type'] ?? 'no Content-Type'})`,
      });
    }
    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500;
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(statusCode)
        .send({ error: 'internal', message: 'internal error; see the server log' });
    }
    return reply.code(statusCode).send({ error: error.code ?? 'bad-request', message: error.message });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  app.addHook('onResponse', async (request, reply) => {
    if (request.routeOptions.url !== '/webhook/alertmanager') return;
    const outcome =
      webhookOutcomes.get(request) ??
      OUTCOME_BY_STATUS[reply.statusCode] ??
      (reply.statusCode >= 500 ? 'error' : 'invalid');
    metrics.webhookRequests.inc({ outcome });
  });
  app.addHook('onReady', async () => {
    if (deps.elected !== true) await service.lead();
  });
  app.addHook('onClose', async () => {
    await service.close();
  });

  app.post(
    '/webhook/alertmanager',
    {
      onRequest: async (request, reply) => {
        if (!checkWebhookToken(request.headers.authorization, deps.webhookToken)) {
          return reply.code(401).header('www-authenticate', 'Bearer').send({
            error: 'unauthorized',
            message: 'a valid bearer token is required (--webhook-token-file)',
          });
        }
        return undefined;
      },
    },
    async (request, reply) => {
      const parsed = webhookSchema.safeParse(request.body);
      const digest = bodyDigests.get(request);
      if (!parsed.success || digest === undefined) {
        const message = parsed.success ? 'a JSON body is required' : describeWebhookError(parsed.error);
        return reply.code(400).send({ error: 'invalid', message });
      }
      const result = await service.receive(parsed.data, digest);
      webhookOutcomes.set(request, result.outcome);
      if (result.outcome === 'ignored')
        return reply.code(200).send({ outcome: 'ignored', reason: result.reason });
      return reply.code(200).send({
        outcome: 'accepted',
        incident: result.incident.id,
        created: result.created,
      });
    },
  );

  app.get('/api/v1/incidents', async () => ({
    items: (await deps.store.list()).map((stored) => stored.incident),
  }));

  app.get<{ Params: { id: string } }>('/api/v1/incidents/:id', async (request, reply) => {
    const stored = SAFE_ID.test(request.params.id) ? await deps.store.get(request.params.id) : undefined;
    if (stored === undefined) {
      return reply.code(404).send({ error: 'not-found', message: `no incident ${request.params.id}` });
    }
    return stored.incident;
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/incidents/:id/approve',
    {
      onRequest: async (request, reply) => {
        if (deps.apiTokens.length === 0) {
          return reply.code(403).send({
            error: 'forbidden',
            message: 'approvals are off: start serve with --api-token-file',
          });
        }
        const name = apiTokenName(request.headers.authorization, deps.apiTokens);
        if (name === undefined) {
          return reply.code(401).header('www-authenticate', 'Bearer').send({
            error: 'unauthorized',
            message: 'a valid API bearer token is required (--api-token-file)',
          });
        }
        approvers.set(request, name);
        return undefined;
      },
    },
    async (request, reply) => {
      const parsed = approveSchema.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({ error: 'invalid', message: describeWebhookError(parsed.error) });
      }
      const by = approvers.get(request) ?? 'unknown';
      const result = SAFE_ID.test(request.params.id)
        ? await service.approve(request.params.id, parsed.data.digest, by)
        : ({ outcome: 'not-found' } as const);
      if (result.outcome === 'not-found') {
        return reply.code(404).send({ error: 'not-found', message: `no incident ${request.params.id}` });
      }
      if (result.outcome === 'conflict') {
        return reply.code(409).send({
          error: 'conflict',
          message: result.reason,
          ...(result.digest === undefined ? {} : { digest: result.digest }),
        });
      }
      return reply.code(202).send({ incident: result.incident, replanned: result.replanned });
    },
  );

  app.get('/', async (_request, reply) => {
    const incidents = (await deps.store.list()).map((stored) => stored.incident);
    return reply.headers(pages.headers).send(pages.renderIndexPage(incidents));
  });

  app.get<{ Params: { id: string } }>('/incidents/:id', async (request, reply) => {
    const stored = SAFE_ID.test(request.params.id) ? await deps.store.get(request.params.id) : undefined;
    if (stored === undefined) {
      return reply.code(404).headers(pages.headers).send(pages.renderNotFoundPage(request.params.id));
    }
    return reply.headers(pages.headers).send(pages.renderIncidentPage(stored.incident));
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Ready when the cluster answers and the incidents can be read: a store it cannot use would refuse every alert.
  app.get('/readyz', async (_request, reply) => {
    const cluster = await deps.mitigator.ready().catch(() => false);
    const store = cluster
      ? await deps.store.list().then(
          () => true,
          () => false,
        )
      : false;
    const status = !cluster ? 'cluster unreachable' : !store ? 'incident store unreadable' : 'ready';
    return reply.code(cluster && store ? 200 : 503).send({ status });
  });

  return { app, service };
}
