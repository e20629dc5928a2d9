import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Incident } from '../incident.js';
import {
  PAGE_CONTENT_SECURITY_POLICY,
  type PageOptions,
  renderIncidentPage,
  renderIndexPage,
  renderNotFoundPage,
} from './render-page.js';

/** Where the pages read incidents from: the service's store, or anything shaped like it. */
export interface IncidentSource {
  /** Every incident (the index sorts them newest first). */
  list(): Promise<readonly Incident[]>;
  get(id: string): Promise<Incident | undefined>;
}

export interface PageRoutesOptions {
  incidents: IncidentSource;
  page?: PageOptions;
}

/** GET / (the incidents) and GET /incidents/:id (one incident), both server-rendered HTML. */
export function registerPageRoutes(app: FastifyInstance, options: PageRoutesOptions): void {
  app.get('/', async (_request, reply) =>
    sendPage(reply, 200, renderIndexPage(await options.incidents.list(), options.page)),
  );
  app.get<{ Params: { id: string } }>('/incidents/:id', async (request, reply) => {
    const incident = await options.incidents.get(request.params.id);
    if (incident === undefined)
      return sendPage(reply, 404, renderNotFoundPage(request.params.id, options.page));
    return sendPage(reply, 200, renderIncidentPage(incident, options.page));
  });
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  // no-store: the page shows live state, and a cached copy would offer to approve a plan already re-made.
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CONTENT_SECURITY_POLICY)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}
