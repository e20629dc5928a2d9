import { StuckfailedError } from '../../errors.js';
import { RESOURCES, type ResourceName } from '../../kube/resources.js';
import type { GatherError } from '../types.js';

/** Turns any error of one read into data (forbidden, missing) or rethrows it (unreachable, unauthorized). */
export class ErrorSink {
  readonly errors: GatherError[] = [];

  /** Runs a read; a 403 or 404 becomes a gatherError and `fallback`, anything that means "no cluster" throws. */
  async guard<T>(what: GuardTarget, read: () => Promise<T>, fallback: T): Promise<T> {
    try {
      return await read();
    } catch (error) {
      this.record(what, error);
      return fallback;
    }
  }

  record(what: GuardTarget, error: unknown): void {
    if (error instanceof StuckfailedError && error.code === 'FORBIDDEN') {
      this.errors.push({ type: 'forbidden', message: `${forbiddenRule(what)}: ${error.message}` });
      return;
    }
    if (isStatus(error, 404)) {
      this.errors.push({
        type: 'not-found',
        message: `${what.resource} not served by this cluster: ${errorText(error)}`,
      });
      return;
    }
    // Logs of one pod can vanish mid-read (the pod was deleted); that must not sink the report either.
    if (what.verb === 'get' && what.subresource === 'log' && !isFatal(error)) {
      this.errors.push({
        type: 'logs',
        message: `cannot read the log of ${what.name ?? '?'}: ${errorText(error)}`,
      });
      return;
    }
    throw error;
  }

  add(type: string, message: string): void {
    this.errors.push({ type, message });
  }
}

export interface GuardTarget {
  verb: 'list' | 'get';
  resource: ResourceName;
  subresource?: string;
  namespace?: string;
  name?: string;
}

/** The RBAC rule a 403 asks for, spelled as a Role rule so it can be pasted (the ClusterRoles in deploy/ hold them all). */
export function forbiddenRule({ verb, resource, subresource, namespace }: GuardTarget): string {
  const group = RESOURCES[resource].group;
  const resourceName = subresource ? `${resource}/${subresource}` : resource;
  const scope = namespace ? ` in namespace ${namespace}` : ' cluster-wide';
  return `missing RBAC rule {apiGroups: ["${group}"], resources: ["${resourceName}"], verbs: ["${verb}"]}${scope}`;
}

export function isStatus(error: unknown, code: number): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === code
  );
}

export function isFatal(error: unknown): boolean {
  return (
    error instanceof StuckfailedError && ['UNREACHABLE', 'UNAUTHORIZED', 'KUBECONFIG'].includes(error.code)
  );
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
