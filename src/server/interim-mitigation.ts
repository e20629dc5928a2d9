// INTERIM: what serve runs until the mitigation commands (mitigate's planner, the clean / cancel-migrations / pause
// executors, validate) are merged. It diagnoses and proposes nothing to write: every cause goes under `untouched`
// with its remediation, and validate is a single diagnosis (no window). The lead replaces INTERIM_MITIGATION in
// src/cli/serve.ts with the real functions (docs/SERVE.md, "Wiring the mitigation").
import { diagnose } from '../diagnosis/diagnose.js';
import { makePlan } from '../mitigation/plan.js';
import type { MitigationFunctions } from './mitigator.js';

export const INTERIM_MITIGATION: MitigationFunctions = {
  async plan({ diagnosis, now }) {
    return makePlan({
      createdAt: now().toISOString(),
      scope: { namespaces: 'all' },
      steps: [],
      untouched: diagnosis.causes.map((cause) => ({ cause: cause.category, remediation: cause.remediation })),
    });
  },
  executors: {},
  async validate({ reader, threshold, now }) {
    const { diagnosis } = await diagnose(reader, { threshold, now });
    return diagnosis.conditionMet
      ? {
          verdict: 'not-cleared',
          reason: `${diagnosis.failedLaunchers} Failed virt-launcher pods, at or above the threshold of ${diagnosis.threshold}`,
        }
      : {
          verdict: 'cleared',
          reason: `${diagnosis.failedLaunchers} Failed virt-launcher pods, below the threshold of ${diagnosis.threshold}`,
        };
  },
};
