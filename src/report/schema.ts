import { z } from 'zod';
import { CAUSE_CATEGORIES, type Diagnosis } from '../diagnosis/types.js';

// The Diagnosis JSON contract (DESIGN §4, schemaVersion 1) as a zod schema: tests validate `-o json` against it and
// docs/REPORT-SCHEMA.md documents each of its fields (a test checks that none is left out). Objects are strict:
// a field added to the Diagnosis without being added here (and documented) fails validation, so the contract
// only changes on purpose. Optional fields use exactOptional, matching `exactOptionalPropertyTypes`: a key is
// either absent or holds a value, never `undefined`.

const count = z.number().int().nonnegative();

const countByKeySchema = z.strictObject({
  key: z.string(),
  count: count,
});

const evidenceSchema = z.strictObject({
  kind: z.string(),
  namespace: z.string().exactOptional(),
  name: z.string(),
  reason: z.string().exactOptional(),
  message: z.string().exactOptional(),
});

const causeSchema = z.strictObject({
  category: z.enum(CAUSE_CATEGORIES),
  pods: count,
  confidence: z.number().min(0).max(1),
  summary: z.string(),
  evidence: z.array(evidenceSchema),
  remediation: z.array(z.string()),
});

const migrationSummarySchema = z.strictObject({
  inFlight: count,
  failed: count,
  storm: z.boolean(),
  topVMIs: z.array(
    z.strictObject({
      namespace: z.string(),
      vmi: z.string(),
      migrations: count,
      failedLaunchers: count,
    }),
  ),
});

const errorBurstSchema = z.strictObject({
  component: z.string(),
  level: z.string(),
  shape: z.string(),
  count: count,
  example: z.string(),
  firstSeen: z.string().exactOptional(),
  lastSeen: z.string().exactOptional(),
});

const controlPlaneSchema = z.strictObject({
  namespace: z.string().exactOptional(),
  version: z.string().exactOptional(),
  targetVersion: z.string().exactOptional(),
  errorBursts: z.array(errorBurstSchema),
});

const sampleEventSchema = z.strictObject({
  type: z.string().exactOptional(),
  reason: z.string().exactOptional(),
  message: z.string().exactOptional(),
  count: count.exactOptional(),
  lastTimestamp: z.string().exactOptional(),
});

const sampleSchema = z.strictObject({
  namespace: z.string(),
  name: z.string(),
  node: z.string().exactOptional(),
  category: z.enum(CAUSE_CATEGORIES),
  reason: z.string().exactOptional(),
  message: z.string().exactOptional(),
  events: z.array(sampleEventSchema),
});

const gatherErrorSchema = z.strictObject({
  type: z.string(),
  message: z.string(),
});

const prometheusSummarySchema = z.strictObject({
  url: z.string(),
  failedLaunchers: count,
  namespace: z.string().exactOptional(),
  source: z.enum(['recording-rule', 'expression']),
  alert: z.strictObject({
    state: z.enum(['inactive', 'pending', 'firing']),
    activeAt: z.string().exactOptional(),
  }),
  trend: z.array(z.strictObject({ time: z.string(), value: z.number() })),
});

/** The whole report. Annotated with the TypeScript contract, so the two cannot drift apart silently. */
export const diagnosisSchema: z.ZodType<Diagnosis> = z.strictObject({
  schemaVersion: z.literal(1),
  generatedAt: z.iso.datetime({ offset: true }),
  source: z.enum(['api', 'snapshot']),
  threshold: count,
  failedLaunchers: count,
  conditionMet: z.boolean(),
  byNamespace: z.array(countByKeySchema),
  byNode: z.array(countByKeySchema),
  byReason: z.array(countByKeySchema),
  causes: z.array(causeSchema),
  migrations: migrationSummarySchema,
  controlPlane: controlPlaneSchema,
  alert: z.strictObject({
    state: z.enum(['firing', 'pending', 'inactive']),
    since: z.iso.datetime({ offset: true }).nullable(),
    source: z.enum(['prometheus', 'api-estimate']),
    scope: z.enum(['cluster', 'namespace']),
  }),
  attribution: z.strictObject({ fromOwnEvidence: count, inferred: count }),
  timeline: z.array(z.strictObject({ start: z.iso.datetime({ offset: true }), count })),
  timelineMarks: z.array(
    z.strictObject({
      time: z.string(),
      kind: z.enum(['kubevirt-version', 'node', 'migrations']),
      text: z.string(),
    }),
  ),
  samples: z.array(sampleSchema),
  gatherErrors: z.array(gatherErrorSchema),
  prometheus: prometheusSummarySchema.exactOptional(),
  scope: z
    .strictObject({ namespace: z.string().exactOptional(), labelSelector: z.string().exactOptional() })
    .exactOptional(),
});
