import type { Diagnosis } from '../diagnosis/types.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderText } from './text.js';

export { createProgressReporter, type ProgressReporter } from './progress.js';

export const REPORT_FORMATS = ['text', 'markdown', 'json', 'html'] as const;

export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderReportOptions {
  /** ANSI colour in the text format (a TTY without NO_COLOR); ignored by the others. */
  color: boolean;
}

const RENDERERS: Record<ReportFormat, (diagnosis: Diagnosis, options: RenderReportOptions) => string> = {
  text: (diagnosis, options) => renderText(diagnosis, { color: options.color }),
  markdown: (diagnosis) => renderMarkdown(diagnosis),
  json: (diagnosis) => renderJson(diagnosis),
  html: (diagnosis) => renderHtml(diagnosis),
};

export function renderReport(
  diagnosis: Diagnosis,
  format: ReportFormat,
  options: RenderReportOptions,
): string {
  return RENDERERS[format](diagnosis, options);
}
