import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Diagnosis } from '../diagnosis/types.js';
import { renderJson } from './json.js';
import { diagnosisSchema } from './schema.js';
import { withPrometheus } from './with-prometheus.js';

const fixture = (): Diagnosis =>
  diagnosisSchema.parse(
    JSON.parse(readFileSync(new URL('../../test/fixtures/diagnosis-mixed.json', import.meta.url), 'utf8')),
  );

describe('renderJson', () => {
  it('prints the diagnosis as 2-space JSON that validates against the schema and round-trips', () => {
    const diagnosis = fixture();
    const output = renderJson(diagnosis);
    assert.ok(output.endsWith('}\n'));
    assert.match(output, /^\{\n {2}"schemaVersion": 1,\n {2}"generatedAt": "2026-11-23T21:47:12.000Z",/);
    const parsed = diagnosisSchema.parse(JSON.parse(output));
    assert.deepEqual(parsed, diagnosis);
  });

  it('writes keys in the contract order whatever order the object was built in', () => {
    const diagnosis = fixture();
    const reversed = Object.fromEntries(Object.entries(diagnosis).reverse()) as unknown as Diagnosis;
    assert.equal(renderJson(reversed), renderJson(diagnosis));
    assert.deepEqual(Object.keys(JSON.parse(renderJson(reversed))).slice(0, 3), [
      'schemaVersion',
      'generatedAt',
      'source',
    ]);
  });

  it('keeps the causes in the order the diagnosis ranked them', () => {
    const causes = JSON.parse(renderJson(fixture())).causes as Array<{ category: string; pods: number }>;
    assert.deepEqual(
      causes.map((cause) => [cause.category, cause.pods]),
      [
        ['migration', 236],
        ['image', 121],
        ['node', 55],
      ],
    );
  });

  it('writes the Prometheus summary last when there is one, and no key when there is none', () => {
    assert.equal('prometheus' in JSON.parse(renderJson(fixture())), false);
    const diagnosis = withPrometheus(fixture());
    const output = JSON.parse(renderJson(diagnosis));
    assert.equal(Object.keys(output).at(-1), 'prometheus');
    assert.deepEqual(diagnosisSchema.parse(output), diagnosis);
  });
});
