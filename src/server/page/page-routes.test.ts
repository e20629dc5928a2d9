import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { incidentFixture } from '../../../test/helpers/incident-fixture.js';
import { registerPageRoutes } from './page-routes.js';
import { PAGE_CONTENT_SECURITY_POLICY } from './render-page.js';

function app() {
  const incidents = [incidentFixture({ id: 'inc-1' }), incidentFixture({ id: 'inc-2', status: 'closed' })];
  const server = Fastify();
  registerPageRoutes(server, {
    incidents: {
      list: async () => incidents,
      get: async (id) => incidents.find((incident) => incident.id === id),
    },
    page: { basePath: '/sf' },
  });
  return server;
}

describe('registerPageRoutes', () => {
  it('serves the index and an incident as HTML, never cached, under the page CSP', async () => {
    const server = app();
    for (const [url, expected] of [
      ['/', 'href="/sf/incidents/inc-2"'],
      ['/incidents/inc-1', 'data-approve="/sf/api/v1/incidents/inc-1/approve"'],
    ] as const) {
      const response = await server.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(response.headers['content-security-policy'], PAGE_CONTENT_SECURITY_POLICY);
      assert.match(String(response.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(response.headers['cache-control'], 'no-store');
      assert.ok(response.body.includes(expected), url);
    }
    await server.close();
  });

  it('answers 404 with a page naming the unknown id, escaped', async () => {
    const server = app();
    const response = await server.inject({ method: 'GET', url: '/incidents/%3Cb%3Enope' });
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /<h1>No incident &#60;b&#62;nope<\/h1>/);
    await server.close();
  });
});
