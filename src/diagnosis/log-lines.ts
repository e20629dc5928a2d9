import { messageShape } from './message-shape.js';
import type { ErrorBurst } from './types.js';

// KubeVirt components log one JSON object per line (staging/src/kubevirt.io/client-go/log/log.go): level,
// timestamp (µs, UTC), pos, component, msg, and with .Object()/.Reason() also namespace, name, kind, uid, reason.

export interface KubevirtLogLine {
  component: string;
  level: string;
  msg: string;
  timestamp?: string;
  pos?: string;
  namespace?: string;
  name?: string;
  kind?: string;
  uid?: string;
  reason?: string;
}

/** One line of a component log, or undefined for lines that are not KubeVirt JSON (klog, panics, blank). */
export function parseKubevirtLogLine(line: string): KubevirtLogLine | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const msg = stringField(record, 'msg');
  const level = stringField(record, 'level');
  if (msg === undefined || level === undefined) return undefined;
  const parsed: KubevirtLogLine = { component: stringField(record, 'component') ?? 'unknown', level, msg };
  for (const key of ['timestamp', 'pos', 'namespace', 'name', 'kind', 'uid', 'reason'] as const) {
    const field = stringField(record, key);
    if (field) parsed[key] = field;
  }
  return parsed;
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * A line worth ranking: errors and warnings, and info lines that carry a `reason` (virt-controller logs its
 * re-enqueue failures at info with the error in `reason`, e.g. "reenqueuing VirtualMachineInstance ns/vmi",
 * reason "failed to create virtual machine pod: ...", kubevirt issues #4508, #11550).
 */
export function isTroubleLine(line: KubevirtLogLine): boolean {
  return (
    line.level === 'error' || line.level === 'fatal' || line.level === 'warning' || line.reason !== undefined
  );
}

export interface ErrorBurstOptions {
  /** How many bursts to return, largest first. */
  limit?: number;
}

/** The text a burst is grouped and shown by: the message, then the error it carries. */
export function lineText(line: KubevirtLogLine): string {
  return line.reason ? `${line.msg}: ${line.reason}` : line.msg;
}

/** Groups trouble lines by (component, level, message shape), largest burst first. */
export function groupErrorBursts(
  lines: Iterable<KubevirtLogLine>,
  options: ErrorBurstOptions = {},
): ErrorBurst[] {
  const bursts = new Map<string, ErrorBurst>();
  for (const line of lines) {
    if (!isTroubleLine(line)) continue;
    const text = lineText(line);
    const shape = messageShape(text);
    const key = `${line.component}\u0000${line.level}\u0000${shape}`;
    const burst = bursts.get(key);
    if (!burst) {
      bursts.set(key, {
        component: line.component,
        level: line.level,
        shape,
        count: 1,
        example: text,
        ...(line.timestamp ? { firstSeen: line.timestamp, lastSeen: line.timestamp } : {}),
      });
      continue;
    }
    burst.count += 1;
    if (line.timestamp) {
      if (!burst.firstSeen || line.timestamp < burst.firstSeen) burst.firstSeen = line.timestamp;
      if (!burst.lastSeen || line.timestamp > burst.lastSeen) burst.lastSeen = line.timestamp;
    }
  }
  return [...bursts.values()]
    .sort(
      (a, b) =>
        b.count - a.count || levelRank(b.level) - levelRank(a.level) || a.shape.localeCompare(b.shape),
    )
    .slice(0, options.limit ?? 10);
}

function levelRank(level: string): number {
  return ['info', 'warning', 'error', 'fatal'].indexOf(level);
}
