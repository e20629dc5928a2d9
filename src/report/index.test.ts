import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Diagnosis } from '../diagnosis/types.js';
import { REPORT_FORMATS, renderReport } from './index.js';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

describe('renderReport', () => {
  it('renders each format', () => {
    assert.deepEqual(REPORT_FORMATS, ['text', 'markdown', 'json', 'html']);
    const diagnosis = fixture();
    const outputs = Object.fromEntries(
      REPORT_FORMATS.map((format) => [format, renderReport(diagnosis, format, { color: false })]),
    );
    assert.match(outputs.text ?? '', /^VirtLauncherPodsStuckFailed {2}FIRING\n/);
    assert.match(outputs.markdown ?? '', /^# VirtLauncherPodsStuckFailed diagnosis\n/);
    assert.deepEqual(diagnosisSchema.parse(JSON.parse(outputs.json ?? '')), diagnosis);
    assert.match(outputs.html ?? '', /^<!doctype html>/);
  });

  it('colours only the text format, only when asked', () => {
    const diagnosis = fixture();
    assert.ok(renderReport(diagnosis, 'text', { color: true }).includes('\u001b['));
    assert.ok(!renderReport(diagnosis, 'markdown', { color: true }).includes('\u001b['));
  });

  it('carries the Prometheus summary into every format', () => {
    const diagnosis = withPrometheus(fixture());
    for (const format of ['text', 'markdown', 'html'] as const) {
      assert.match(
        renderReport(diagnosis, format, { color: false }),
        /Prometheus: alert firing since/,
        format,
      );
    }
    assert.deepEqual(
      JSON.parse(renderReport(diagnosis, 'json', { color: false })).prometheus,
      diagnosis.prometheus,
    );
    assert.match(renderReport(diagnosis, 'html', { color: false }), /Failed launchers over time/);
  });
});
