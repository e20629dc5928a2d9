// PLACEHOLDER web page, until the serve-page branch (src/server/page/render-page.ts) is merged: the lead swaps
// PLACEHOLDER_PAGES in src/cli/serve.ts for
//   { renderIndexPage, renderIncidentPage, renderNotFoundPage, headers: PAGE_HEADERS }
// from that module. It lists the incidents and links to their JSON, no more.
import type { Incident } from './incident.js';

export interface PageRenderers {
  renderIndexPage(incidents: Incident[]): string;
  renderIncidentPage(incident: Incident): string;
  /** The page for an unknown incident id (sent with 404); plain text when absent. */
  renderNotFoundPage?(id: string): string;
  /** Headers of every page response (e.g. Content-Security-Policy, Cache-Control); text/html when absent. */
  headers?: Readonly<Record<string, string>>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}

export const PLACEHOLDER_PAGES: PageRenderers = {
  renderIndexPage(incidents) {
    const rows = incidents
      .map(
        (incident) =>
          `<li><a href="/incidents/${encodeURIComponent(incident.id)}">${escapeHtml(incident.id)}</a> ${escapeHtml(incident.status)} (opened ${escapeHtml(incident.openedAt)})</li>`,
      )
      .join('');
    return page(
      'stuckfailed incidents',
      `<h1>Incidents</h1><p>Placeholder page; the API is at <a href="/api/v1/incidents">/api/v1/incidents</a>.</p><ul>${rows}</ul>`,
    );
  },
  renderIncidentPage(incident) {
    return page(
      `incident ${incident.id}`,
      `<h1>Incident ${escapeHtml(incident.id)}</h1><p>${escapeHtml(incident.status)}</p><pre>${escapeHtml(JSON.stringify(incident, null, 2))}</pre>`,
    );
  },
};
