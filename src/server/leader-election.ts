// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics (tools/leaderelection,
// LeaseLock), which @kubernetes/client-node does not have:
// - a replica takes the lease when it is free (no holder) or expired: its record unchanged, as this replica
//   observed it, for leaseDuration by this replica's own clock (never by comparing renewTime with the local wall
//   clock, so clock skew between nodes does not matter);
// - the holder renews every retryPeriod; a holder that has not renewed for renewDeadline stops leading, which is
//   before any other replica may take the lease (renewDeadline < leaseDuration);
// - every write is a PUT with the resourceVersion read, so of two replicas acquiring at once exactly one wins;
// - acquireTime and leaseTransitions change only when the holder changes; on a clean stop the holder releases
//   the lease (holderIdentity emptied) so that the next one takes over at once.
// Unlike client-go's elector, which returns after leadership is lost, run() campaigns again: a `serve` replica
// keeps serving webhooks and the page whether it leads or not.
import { isApiError } from '../cluster/api-error.js';
import { type Clock, systemClock } from '../cluster/clock.js';
import type { KubeApi } from '../cluster/kube-api.js';
import { StuckfailedError } from '../errors.js';
import type { KubeObject } from '../kube/types.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** client-go's defaults for controllers (kube-controller-manager's --leader-elect-*). */
export const DEFAULT_TIMING: LeaderElectionTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's wait.JitterUntil factor for the acquire loop. */
const JITTER_FACTOR = 1.2;

export interface LeaderElectorOptions extends LeaderElectionTiming {
  api: KubeApi;
  namespace: string;
  /** The Lease's name. */
  name: string;
  /** This replica (its pod name): unique among the candidates. */
  identity: string;
  /** Intervals (monotonic) and sleeps. */
  clock?: Clock;
  /** The wall clock written in acquireTime / renewTime. */
  wallNow?: () => Date;
  random?: () => number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Each time the holder this replica observes changes (undefined: nobody holds it). */
  onNewLeader?: (identity: string | undefined) => void;
  /** Why an attempt failed when it was not just someone else holding the lease (403, unreachable). */
  onError?: (error: unknown) => void;
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Checks the timing as client-go's NewLeaderElector does; throws a usage error naming the flag. */
export function checkTiming(timing: LeaderElectionTiming): void {
  if (timing.leaseDurationMs <= timing.renewDeadlineMs) {
    throw new StuckfailedError('USAGE', '--lease-duration must be greater than --renew-deadline');
  }
  if (timing.renewDeadlineMs <= JITTER_FACTOR * timing.retryPeriodMs) {
    throw new StuckfailedError(
      'USAGE',
      `--renew-deadline must be greater than ${JITTER_FACTOR} × --retry-period`,
    );
  }
  if (timing.leaseDurationMs < 1000 || timing.retryPeriodMs <= 0) {
    throw new StuckfailedError('USAGE', '--lease-duration is at least 1 s and --retry-period above 0');
  }
}

export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #wallNow: () => Date;
  readonly #random: () => number;
  /** The lease as last read or written, and when (monotonic) it was last seen to change. */
  #observed: { spec: LeaseSpec; raw: string; at: number } | undefined;
  #leading = false;
  #lastHolder: string | undefined;

  constructor(options: LeaderElectorOptions) {
    checkTiming(options);
    this.#options = options;
    this.#clock = options.clock ?? systemClock();
    this.#wallNow = options.wallNow ?? (() => new Date());
    this.#random = options.random ?? Math.random;
  }

  get identity(): string {
    return this.#options.identity;
  }

  /** Whether this replica holds the lease as of its last successful acquire or renew. */
  get leading(): boolean {
    return this.#leading;
  }

  /** The holder this replica last observed. */
  get holder(): string | undefined {
    return this.#lastHolder;
  }

  /**
   * One attempt (client-go's tryAcquireOrRenew): creates the lease, renews it, or takes it over once expired.
   * True when this replica holds it afterwards.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.#options;
    const now = this.#wallNow();
    const fresh: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.#options.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const current = await api.get<Lease>('leases', name, namespace);
    if (current === undefined) {
      try {
        const created = await api.create<Lease>('leases', namespace, {
          metadata: { name, namespace },
          spec: fresh,
        });
        this.#observe(created);
        return true;
      } catch (error) {
        if (isApiError(error, 409)) return false;
        throw error;
      }
    }
    this.#observe(current);
    const spec = current.spec ?? {};
    const observed = this.#observed;
    const holder = spec.holderIdentity ?? '';
    const heldByMe = holder === identity;
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    if (
      holder !== '' &&
      !heldByMe &&
      observed !== undefined &&
      observed.at + durationMs > this.#clock.now()
    ) {
      return false;
    }
    const next: LeaseSpec = heldByMe
      ? {
          ...fresh,
          acquireTime: spec.acquireTime ?? microTime(now),
          leaseTransitions: spec.leaseTransitions ?? 0,
        }
      : { ...fresh, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      const updated = await api.replace<Lease>('leases', { ...current, spec: next });
      this.#observe(updated);
      return true;
    } catch (error) {
      // Another replica wrote first (renewed, or acquired at the same moment): it holds the lease.
      if (isApiError(error, 409)) return false;
      throw error;
    }
  }

  #observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const raw = JSON.stringify(spec);
    if (this.#observed?.raw !== raw) this.#observed = { spec, raw, at: this.#clock.now() };
    const holder = spec.holderIdentity || undefined;
    if (holder !== this.#lastHolder) {
      this.#lastHolder = holder;
      this.#options.onNewLeader?.(holder);
    }
  }

  async #attempt(): Promise<boolean> {
    try {
      return await this.tryAcquireOrRenew();
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  /** Campaigns, leads, and campaigns again after losing the lease, until the signal aborts; then releases it. */
  async run(signal: AbortSignal): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    const sleep = async (ms: number): Promise<boolean> => {
      try {
        await this.#clock.sleep(ms, signal);
        return true;
      } catch {
        return false;
      }
    };
    while (!signal.aborted) {
      while (!(await this.#attempt())) {
        if (!(await sleep(retryPeriodMs * (1 + this.#random() * JITTER_FACTOR)))) return;
      }
      if (signal.aborted) {
        await this.release();
        return;
      }
      this.#leading = true;
      this.#options.onStartedLeading();
      let renewedAt = this.#clock.now();
      while (await sleep(retryPeriodMs)) {
        if (await this.#attempt()) {
          renewedAt = this.#clock.now();
        } else if (
          this.#lastHolder !== this.#options.identity ||
          this.#clock.now() - renewedAt >= renewDeadlineMs
        ) {
          break;
        }
      }
      this.#leading = false;
      this.#options.onStoppedLeading();
      if (signal.aborted) await this.release();
    }
  }

  /** Gives the lease up (holderIdentity emptied), if this replica holds it, so the next one need not wait. */
  async release(): Promise<void> {
    const { api, namespace, name, identity } = this.#options;
    try {
      const current = await api.get<Lease>('leases', name, namespace);
      if (current?.spec?.holderIdentity !== identity) return;
      const now = microTime(this.#wallNow());
      await api.replace<Lease>('leases', {
        ...current,
        spec: {
          ...current.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
        },
      });
    } catch (error) {
      // The lease then expires on its own.
      this.#options.onError?.(error);
    }
  }
}
