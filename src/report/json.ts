import type { Diagnosis } from '../diagnosis/types.js';

/**
 * `-o json`: the Diagnosis as the DESIGN §4 contract defines it, 2-space indented, keys in the contract's order
 * whatever order the object was built in, so two runs over the same cluster diff cleanly.
 */
export function renderJson(diagnosis: Diagnosis): string {
  const ordered: Diagnosis = {
    schemaVersion: diagnosis.schemaVersion,
    generatedAt: diagnosis.generatedAt,
    source: diagnosis.source,
    threshold: diagnosis.threshold,
    failedLaunchers: diagnosis.failedLaunchers,
    conditionMet: diagnosis.conditionMet,
    byNamespace: diagnosis.byNamespace,
    byNode: diagnosis.byNode,
    byReason: diagnosis.byReason,
    causes: diagnosis.causes,
    migrations: diagnosis.migrations,
    controlPlane: diagnosis.controlPlane,
    alert: diagnosis.alert,
    attribution: diagnosis.attribution,
    timeline: diagnosis.timeline,
    timelineMarks: diagnosis.timelineMarks,
    samples: diagnosis.samples,
    gatherErrors: diagnosis.gatherErrors,
    ...(diagnosis.prometheus === undefined ? {} : { prometheus: diagnosis.prometheus }),
  };
  return `${JSON.stringify(ordered, undefined, 2)}\n`;
}
