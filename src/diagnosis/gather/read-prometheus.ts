import type { GatherProgress, PrometheusGatherer, PrometheusResult } from '../gather.js';
import { type ErrorSink, errorText } from './error-sink.js';

// The runbook's alert and step 1 as Prometheus sees them: a second opinion beside the API's counts.

export async function readPrometheus(
  prometheus: PrometheusGatherer | undefined,
  sink: ErrorSink,
  progress: (progress: GatherProgress) => void,
): Promise<PrometheusResult[]> {
  if (!prometheus) return [];
  try {
    const results = await prometheus.gather();
    progress({ phase: 'prometheus', done: results.length });
    return results;
  } catch (error) {
    // Prometheus is a second opinion: the API already gave the counts, so its outage degrades, never fails.
    sink.add(
      'prometheus',
      `Prometheus at ${prometheus.url} failed, counts come from the API alone: ${errorText(error)}`,
    );
    return [];
  }
}
