import type { Diagnosis, PrometheusSummary } from '../diagnosis/types.js';

// For the renderers' tests: a diagnosis as `diagnose --prometheus-url` makes it, the hand-written fixture plus a
// Prometheus summary that agrees with it unless told otherwise (firing, the API's own count, from the rule).

export function withPrometheus(diagnosis: Diagnosis, overrides: Partial<PrometheusSummary> = {}): Diagnosis {
  return {
    ...diagnosis,
    // What diagnose makes of ALERTS (src/diagnosis/alert-state.ts).
    alert: { state: 'firing', since: '2026-11-23T21:10:00Z', source: 'prometheus', scope: 'cluster' },
    prometheus: {
      url: 'http://prometheus.example.com:9090',
      failedLaunchers: diagnosis.failedLaunchers,
      source: 'recording-rule',
      alert: { state: 'firing', activeAt: '2026-11-23T21:10:00Z' },
      trend: [
        { time: '2026-11-23T21:00:00Z', value: 150 },
        { time: '2026-11-23T21:30:00Z', value: diagnosis.failedLaunchers },
      ],
      ...overrides,
    },
  };
}
