import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8'));

describe('diagnosisSchema', () => {
  it('accepts the hand-written mixed diagnosis', () => {
    const parsed = diagnosisSchema.parse(fixture());
    assert.equal(parsed.causes.length, 3);
  });

  it('rejects a field the contract does not define, so the contract changes only on purpose', () => {
    const result = diagnosisSchema.safeParse({ ...fixture(), trend: [] });
    assert.equal(result.success, false);
  });

  it('rejects a missing field, an unknown cause and a confidence above 1', () => {
    const { gatherErrors: _dropped, ...withoutGatherErrors } = fixture();
    assert.equal(diagnosisSchema.safeParse(withoutGatherErrors).success, false);

    const badCategory = fixture();
    (badCategory.causes as Array<Record<string, unknown>>)[0] = {
      ...(badCategory.causes as Array<Record<string, unknown>>)[0],
      category: 'cosmic-rays',
    };
    assert.equal(diagnosisSchema.safeParse(badCategory).success, false);

    const badConfidence = fixture();
    (badConfidence.causes as Array<Record<string, unknown>>)[1] = {
      ...(badConfidence.causes as Array<Record<string, unknown>>)[1],
      confidence: 1.5,
    };
    assert.equal(diagnosisSchema.safeParse(badConfidence).success, false);
  });

  it('rejects an optional field set to null (absent, or a value)', () => {
    const withNull = fixture();
    (withNull.controlPlane as Record<string, unknown>).version = null;
    assert.equal(diagnosisSchema.safeParse(withNull).success, false);
  });

  it('accepts a Prometheus summary, optional as a compatible addition to schemaVersion 1', () => {
    const diagnosis = withPrometheus(diagnosisSchema.parse(fixture()));
    assert.deepEqual(diagnosisSchema.parse(JSON.parse(JSON.stringify(diagnosis))), diagnosis);
    const unknownState = withPrometheus(diagnosis, { alert: { state: 'resolved' as 'firing' } });
    assert.equal(diagnosisSchema.safeParse(unknownState).success, false);
    const extraField = { ...diagnosis, prometheus: { ...diagnosis.prometheus, byNode: [] } };
    assert.equal(diagnosisSchema.safeParse(extraField).success, false);
  });

  it('is documented field by field in docs/REPORT-SCHEMA.md', () => {
    const docs = readFileSync(new URL('../../docs/REPORT-SCHEMA.md', import.meta.url), 'utf8');
    const missing = fieldPaths(z.toJSONSchema(diagnosisSchema)).filter(
      (path) => !docs.includes(`\`${path}\``),
    );
    assert.deepEqual(missing, []);
  });
});

/** Every property path of a JSON Schema, arrays written `name[]`: `causes[].evidence[].kind`. */
function fieldPaths(schema: unknown, prefix = ''): string[] {
  const node = schema as { type?: string; properties?: Record<string, unknown>; items?: unknown };
  if (node.type === 'array' && node.items !== undefined) return fieldPaths(node.items, `${prefix}[]`);
  if (node.properties === undefined) return [];
  return Object.entries(node.properties).flatMap(([key, child]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...fieldPaths(child, path)];
  });
}
