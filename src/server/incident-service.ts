// The service's logic, without HTTP: a notification opens or joins an incident and queues its diagnosis; the plan
// runs on its own when the policy allows it, or once a person approves it; the resolved notification validates and
// closes. Everything it decides is written to the incident before it is acknowledged, and a restart picks up where
// the last process stopped (an interrupted run resumes from its journal).
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Diagnosis } from '../diagnosis/types.js';
import { type JournalEntry, makePlan, type Plan, type PlanStep, targetKey } from '../mitigation/plan.js';
import { type AlertmanagerWebhook, ourAlerts } from './alertmanager-webhook.js';
import type { Incident, IncidentApproval, IncidentAuditEvent } from './incident.js';
import { IncidentJournal } from './incident-journal.js';
import { type IncidentStore, mutateIncident } from './incident-store.js';
import type { Mitigator } from './mitigator.js';
import { causePolicy, judgePlan, type Policy } from './policy.js';
import type { ServiceMetrics } from './service-metrics.js';

export type ServiceLogger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;

export interface IncidentServiceOptions {
  store: IncidentStore;
  mitigator: Mitigator;
  policy: Policy;
  now: () => Date;
  logger: ServiceLogger;
  metrics: ServiceMetrics;
  /** Incident ids; time-ordered and random by default. */
  newId?: () => string;
  /**
   * How often a leader looks through the store for work that another replica recorded (notifications taken, plans
   * approved there): only the leader diagnoses and acts. Default 5 s.
   */
  reconcileMs?: number;
}

export type ReceiveResult =
  | { outcome: 'accepted'; incident: Incident; created: boolean }
  | { outcome: 'ignored'; reason: string };

/** Why an approval was refused; `conflict` carries the digest a new approval must name (when there is a plan). */
export type ApproveResult =
  | { outcome: 'started'; incident: Incident; replanned: boolean }
  | { outcome: 'not-found' }
  | { outcome: 'conflict'; reason: string; digest?: string };

/** Outcomes an earlier run settled for good; `failed` targets are tried again on a resume. */
const SETTLED_OUTCOMES = new Set<JournalEntry['outcome']>(['done', 'skipped', 'gone', 'conflict']);

export function settledKeys(actions: readonly JournalEntry[]): Set<string> {
  const settled = new Set<string>();
  for (const entry of actions) {
    if (SETTLED_OUTCOMES.has(entry.outcome)) settled.add(targetKey(entry.step, entry));
  }
  return settled;
}

function defaultId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'z')
    .toLowerCase();
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function isWriting(step: PlanStep): boolean {
  return step.action !== 'validate';
}

function describePlan(plan: Plan): string {
  const steps = plan.steps.filter(isWriting).map((step) => `${step.action} ${step.count}`);
  return `${plan.digest}: ${steps.length === 0 ? 'nothing to run' : steps.join(', ')}`;
}

/**
 * Whether a re-made plan may run under the approval of the one it replaces: every step is one the person approved
 * (same id and action), within the policy, and no step grew, unless the policy caps that action for that cause and
 * the step stays within the cap. Returns why not, or an empty list.
 */
export function growthBeyondApproval(approved: Plan, fresh: Plan, policy: Policy): string[] {
  const reasons = [...judgePlan(policy, fresh).violations];
  for (const step of fresh.steps.filter(isWriting)) {
    const prior = approved.steps.find(
      (candidate) => candidate.id === step.id && candidate.action === step.action,
    );
    if (prior === undefined) {
      reasons.push(`step ${step.id} (${step.action}) was not in the approved plan`);
      continue;
    }
    const { caps } = causePolicy(policy, step.reason.cause);
    const capped =
      (step.action === 'clean' && caps.podsPerRun !== undefined) ||
      (step.action === 'pause' && caps.vmsPaused !== undefined);
    if (step.count > prior.count && !capped) {
      reasons.push(`step ${step.id} grew from ${prior.count} to ${step.count} targets`);
    }
  }
  return reasons;
}

/**
 * The re-made plan cut to what was approved: each writing step keeps only the targets its approved step named
 * (the same object: kind, namespace, name and uid), so that growth since the approval never runs unapproved.
 * Returns the cut plan and how many targets it left out.
 */
export function approvedPart(approved: Plan, fresh: Plan): { plan: Plan; left: number } {
  let left = 0;
  const steps = fresh.steps.map((step) => {
    const prior = approved.steps.find(
      (candidate) => candidate.id === step.id && candidate.action === step.action,
    );
    if (!isWriting(step) || prior === undefined) return step;
    const named = new Set(prior.targets.map((target) => targetKey(step.id, target)));
    const targets = step.targets.filter((target) => named.has(targetKey(step.id, target)));
    left += step.targets.length - targets.length;
    return { ...step, targets, count: targets.length };
  });
  const { schemaVersion: _version, digest: _digest, ...fields } = fresh;
  return { plan: makePlan({ ...fields, steps }), left };
}

/** Whether the incident's latest diagnosis failed after its latest notification. */
function diagnosisFailedSince(incident: Incident): boolean {
  const failed = incident.audit.findLast((event) => event.what === 'diagnosis failed');
  const latest = incident.notifications.at(-1);
  return failed !== undefined && (latest === undefined || failed.time >= latest.receivedAt);
}

export class IncidentService {
  readonly #store: IncidentStore;
  readonly #mitigator: Mitigator;
  readonly #policy: Policy;
  readonly #now: () => Date;
  readonly #logger: ServiceLogger;
  readonly #metrics: ServiceMetrics;
  readonly #newId: () => string;
  readonly #stop = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  /** Incidents with a diagnosis queued or running. */
  readonly #diagnosing = new Set<string>();
  /** Incidents being approved or acted on: one run at a time per incident. */
  readonly #busy = new Set<string>();
  /** Incidents being validated. */
  readonly #validating = new Set<string>();
  /** Diagnoses run one at a time: each reads the whole cluster. */
  #diagnosisQueue: Promise<void> = Promise.resolve();
  /** Present while this replica leads (may diagnose and act); aborted when it stops leading. */
  #term: AbortController | undefined;
  #reconcileTimer: NodeJS.Timeout | undefined;
  readonly #reconcileMs: number;

  constructor(options: IncidentServiceOptions) {
    this.#store = options.store;
    this.#mitigator = options.mitigator;
    this.#policy = options.policy;
    this.#now = options.now;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#newId = options.newId ?? (() => defaultId(this.#now()));
    this.#reconcileMs = options.reconcileMs ?? 5000;
  }

  /** Whether this replica diagnoses and acts (the only one, or the leader of several). */
  get leading(): boolean {
    return this.#term !== undefined && !this.#stop.signal.aborted;
  }

  /**
   * Starts leading: picks up what is open in the store (diagnoses pending, runs interrupted, validations due), and
   * looks again every reconcileMs for work another replica recorded.
   */
  lead(): Promise<void> {
    if (this.#term !== undefined || this.#stop.signal.aborted) return Promise.resolve();
    this.#term = new AbortController();
    const resumed = this.resume();
    this.#background('resuming open incidents', () => resumed);
    this.#reconcileTimer = setInterval(() => {
      if (this.#tasks.size < 1000) this.#background('reconciling', () => this.reconcile());
    }, this.#reconcileMs);
    this.#reconcileTimer.unref();
    return resumed;
  }

  /**
   * Stops leading (the lease is lost): runs in flight stop after the writes in flight and their journal, and the
   * next leader resumes them from the journal. Takes webhooks and approvals still; acts no more.
   */
  follow(reason = 'this replica lost the lease'): void {
    clearInterval(this.#reconcileTimer);
    this.#reconcileTimer = undefined;
    this.#term?.abort(new Error(reason));
    this.#term = undefined;
  }

  /** Aborted when the service stops or stops leading; already aborted when it does not lead. */
  #actSignal(): AbortSignal {
    if (this.#term === undefined) return AbortSignal.abort(new Error('this replica does not lead'));
    return AbortSignal.any([this.#stop.signal, this.#term.signal]);
  }

  get policy(): Policy {
    return this.#policy;
  }

  #audit(incident: Incident, what: string, detail?: string): void {
    const event: IncidentAuditEvent = { time: this.#now().toISOString(), what };
    if (detail !== undefined) event.detail = detail;
    incident.audit.push(event);
  }

  /** Runs work in the background, kept track of so that idle() and close() can wait for it. */
  #background(what: string, work: () => Promise<void>): void {
    const task = work().catch((error: unknown) => {
      this.#logger.error({ err: error }, `${what} failed`);
    });
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
  }

  /** Resolves once no background work is left (tests, and shutdown). */
  async idle(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  /** Stops: runs in flight stop after their current writes and resume on the next start. */
  async close(): Promise<void> {
    this.#stop.abort(new Error('the service is stopping'));
    this.follow('the service is stopping');
    await this.idle();
  }

  /**
   * After a restart or a takeover (leaders only): diagnoses that never finished, runs that were interrupted or
   * approved on another replica, validations under way. Work already running here is left alone.
   */
  async resume(): Promise<void> {
    await this.#pickUp(true);
  }

  /**
   * The leader's periodic look through the store: what resume() picks up, except diagnoses that failed since the
   * latest notification (the next notification retries them, not every look: an unreachable cluster would be
   * retried every few seconds, forever).
   */
  async reconcile(): Promise<void> {
    await this.#pickUp(false);
  }

  async #pickUp(retryFailedDiagnoses: boolean): Promise<void> {
    if (!this.leading) return;
    for (const { incident } of await this.#store.list()) {
      if (!this.leading) return;
      if (incident.status === 'acting' && incident.plan !== undefined) {
        if (this.#busy.has(incident.id)) continue;
        const plan = incident.plan;
        const what = incident.audit.map((event) => event.what);
        const how =
          what.lastIndexOf('approved') >
          Math.max(what.lastIndexOf('run started'), what.lastIndexOf('run resumed'))
            ? 'started'
            : 'resumed';
        this.#busy.add(incident.id);
        this.#background(`resuming ${incident.id}`, () => this.#act(incident.id, plan, undefined, how));
      } else if (
        (incident.status === 'open' || incident.status === 'validating') &&
        (incident.alert.state === 'resolved' || incident.validation?.verdict === 'running')
      ) {
        this.#background(`validating ${incident.id}`, () => this.#validate(incident.id));
      } else if (
        incident.status === 'open' &&
        incident.diagnosis === undefined &&
        (retryFailedDiagnoses || !diagnosisFailedSince(incident))
      ) {
        this.#queueDiagnosis(incident.id);
      }
    }
  }

  /** One webhook delivery; resolves once it is durably recorded. */
  async receive(body: AlertmanagerWebhook, bodyDigest: string): Promise<ReceiveResult> {
    const alerts = ourAlerts(body);
    if (alerts.length === 0) {
      this.#metrics.otherAlerts.inc();
      return { outcome: 'ignored', reason: 'no VirtLauncherPodsStuckFailed alert in this notification' };
    }
    const firing = alerts.some((alert) => alert.status === 'firing');
    const state = firing ? 'firing' : 'resolved';
    const receivedAt = this.#now().toISOString();
    const notification = { receivedAt, status: state, bodyDigest } as const;
    const result = await this.#store.upsertByGroupKey(body.groupKey, (latest) => {
      const incident = latest?.incident;
      // A retry or repeat joins the group's incident; so does a late retry of a notification already recorded on
      // a closed one. Only a new firing after the incident closed opens another.
      const seen = incident?.notifications.some((entry) => entry.bodyDigest === bodyDigest) ?? false;
      if (incident !== undefined && (incident.status !== 'closed' || !firing || seen)) {
        incident.notifications.push(notification);
        if (incident.status !== 'closed') {
          incident.alert.state = state;
          incident.alert.labels = body.commonLabels;
        }
        // Still firing after a run (a new notification, not a retry, and no validation under way): what the run
        // left, failed since or was capped out is diagnosed and planned again, instead of waiting for a resolve
        // that may never come.
        if (
          firing &&
          !seen &&
          incident.status === 'validating' &&
          incident.validation?.verdict !== 'running'
        ) {
          incident.status = 'open';
          delete incident.diagnosis;
          delete incident.plan;
          incident.audit.push({
            time: receivedAt,
            what: 'reopened',
            detail: 'the alert still fires after the run: diagnosing and planning again',
          });
        }
        return { join: incident };
      }
      if (!firing) return undefined;
      const first = alerts.reduce((a, b) => (b.startsAt < a.startsAt ? b : a));
      const opened: Incident = {
        id: this.#newId(),
        status: 'open',
        alert: {
          name: first.labels.alertname ?? '',
          groupKey: body.groupKey,
          fingerprint: first.fingerprint,
          labels: body.commonLabels,
          startsAt: first.startsAt,
          state: 'firing',
        },
        openedAt: receivedAt,
        notifications: [notification],
        approvals: [],
        actions: [],
        audit: [{ time: receivedAt, what: 'opened', detail: `alert group ${body.groupKey}` }],
      };
      return { create: opened };
    });
    if (result === undefined) {
      return { outcome: 'ignored', reason: 'a resolved notification for an alert group with no incident' };
    }
    const { incident } = result.stored;
    if (firing && incident.status === 'open' && incident.diagnosis === undefined) {
      this.#queueDiagnosis(incident.id);
    }
    if (!firing && (incident.status === 'open' || incident.status === 'validating')) {
      if (!this.#busy.has(incident.id)) {
        this.#background(`validating ${incident.id}`, () => this.#validate(incident.id));
      }
    }
    return { outcome: 'accepted', incident, created: result.created };
  }

  #queueDiagnosis(id: string): void {
    if (this.#diagnosing.has(id) || !this.leading) return;
    this.#diagnosing.add(id);
    const run = this.#diagnosisQueue.then(async () => {
      try {
        await this.#diagnose(id);
      } finally {
        this.#diagnosing.delete(id);
      }
    });
    this.#diagnosisQueue = run.catch(() => undefined);
    this.#background(`diagnosing ${id}`, () => run);
  }

  async #diagnose(id: string): Promise<void> {
    const signal = this.#actSignal();
    if (signal.aborted) return;
    const started = performance.now();
    let diagnosis: Diagnosis;
    try {
      diagnosis = await this.#mitigator.diagnose(signal);
    } catch (error) {
      this.#metrics.diagnosisDuration.observe({ outcome: 'failed' }, (performance.now() - started) / 1000);
      if (signal.aborted) return;
      await mutateIncident(this.#store, id, (incident) => {
        this.#audit(
          incident,
          'diagnosis failed',
          `${(error as Error).message}; the next notification retries`,
        );
        return incident;
      });
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    this.#metrics.diagnosisDuration.observe({ outcome: 'done' }, seconds);
    this.#metrics.recordDiagnosis(diagnosis);
    let plan: Plan | undefined;
    let planError: string | undefined;
    try {
      plan = await this.#mitigator.plan(diagnosis, this.#policy);
    } catch (error) {
      planError = (error as Error).message;
    }
    const verdict = plan === undefined ? undefined : judgePlan(this.#policy, plan);
    // A replica that stopped leading meanwhile leaves the diagnosis to the next leader.
    if (signal.aborted) return;
    const stored = await mutateIncident(this.#store, id, (incident) => {
      incident.diagnosis = diagnosis;
      const causes = diagnosis.causes.map((cause) => `${cause.category} ${cause.pods}`).join(', ');
      this.#audit(
        incident,
        'diagnosed',
        `${diagnosis.failedLaunchers} Failed launchers (${causes || 'no cause'}) in ${seconds.toFixed(1)} s`,
      );
      if (planError !== undefined) this.#audit(incident, 'planning failed', planError);
      if (plan !== undefined && verdict !== undefined && incident.status === 'open') {
        incident.plan = plan;
        const gate = verdict.automatic
          ? 'runs automatically (policy)'
          : verdict.violations.length > 0
            ? `cannot run: ${verdict.violations.join('; ')}`
            : 'waits for approval';
        this.#audit(incident, 'planned', `${describePlan(plan)}; ${gate}`);
      }
      return incident;
    });
    const { incident } = stored;
    if (
      plan !== undefined &&
      verdict?.automatic &&
      incident.status === 'open' &&
      !this.#busy.has(id) &&
      this.leading
    ) {
      this.#busy.add(id);
      const approval: IncidentApproval = {
        digest: plan.digest,
        by: `policy:${this.#policy.source}`,
        at: this.#now().toISOString(),
        mode: 'automatic',
      };
      this.#background(`acting on ${id}`, () => this.#act(id, plan, approval, 'started'));
    }
  }

  /**
   * A person approves the plan named by its digest. The plan is re-checked against the cluster first: unchanged,
   * it runs; changed but within what was approved (and the policy), the re-plan runs and is recorded; grown
   * beyond it (more targets than approved, no cap allowing it), the approved targets still there run and the new
   * ones are left out, said in the audit: under churn every re-plan grows, and waiting for a plan that stops
   * growing would never act. A step the person never saw, or a re-plan the policy forbids, replaces the plan and
   * needs its own approval.
   */
  async approve(id: string, digest: string, by: string): Promise<ApproveResult> {
    const stored = await this.#store.get(id);
    if (stored === undefined) return { outcome: 'not-found' };
    const { incident } = stored;
    const plan = incident.plan;
    if (incident.status !== 'open' || this.#busy.has(id)) {
      return {
        outcome: 'conflict',
        reason: `the incident is ${this.#busy.has(id) ? 'acting' : incident.status}`,
      };
    }
    if (plan === undefined)
      return { outcome: 'conflict', reason: 'there is no plan yet (diagnosis running)' };
    if (plan.digest !== digest) {
      return { outcome: 'conflict', reason: 'the plan has changed since it was shown', digest: plan.digest };
    }
    if (!plan.steps.some(isWriting)) {
      return { outcome: 'conflict', reason: 'the plan has nothing to run', digest: plan.digest };
    }
    const violations = judgePlan(this.#policy, plan).violations;
    if (violations.length > 0) {
      return { outcome: 'conflict', reason: `the policy forbids it: ${violations.join('; ')}`, digest };
    }
    this.#busy.add(id);
    let started = false;
    try {
      const fresh = await this.#mitigator.recheck(plan, this.#policy);
      const approval: IncidentApproval = { digest, by, at: this.#now().toISOString(), mode: 'manual' };
      let toRun = plan;
      let replanned = false;
      let leftOut = '';
      if (fresh.digest !== plan.digest) {
        let candidate = fresh;
        let growth = growthBeyondApproval(plan, fresh, this.#policy);
        if (growth.length > 0) {
          const cut = approvedPart(plan, fresh);
          const runnable = cut.plan.steps.some((step) => isWriting(step) && step.count > 0);
          if (runnable && growthBeyondApproval(plan, cut.plan, this.#policy).length === 0) {
            leftOut = `; grown since the approval (${growth.join('; ')}): ${cut.left} new target(s) left out, for a new plan`;
            candidate = cut.plan;
            growth = [];
          }
        }
        if (growth.length > 0) {
          await mutateIncident(this.#store, id, (current) => {
            current.plan = fresh;
            this.#audit(
              current,
              're-planned',
              `approval of ${digest} by ${by} not used: ${growth.join('; ')}; new plan ${describePlan(fresh)}`,
            );
            return current;
          });
          return { outcome: 'conflict', reason: `the plan grew: ${growth.join('; ')}`, digest: fresh.digest };
        }
        toRun = candidate;
        replanned = true;
      }
      const acting = await this.#begin(id, toRun, approval, replanned ? plan : undefined, leftOut);
      if (acting === undefined) return { outcome: 'conflict', reason: 'the incident changed meanwhile' };
      // Only the leader acts: on another replica the approval is recorded (acting) and the leader picks it up.
      if (this.leading) {
        started = true;
        this.#background(`acting on ${id}`, () => this.#act(id, toRun, undefined, 'started'));
      }
      return { outcome: 'started', incident: acting, replanned };
    } finally {
      if (!started) this.#release(id);
    }
  }

  /** Ends a run or an approval attempt; a resolved notification that came meanwhile is validated now. */
  #release(id: string): void {
    this.#busy.delete(id);
    const stored = this.#store.get(id);
    this.#background(`validating ${id}`, async () => {
      const incident = (await stored)?.incident;
      if (
        incident?.alert.state !== 'resolved' ||
        incident.status === 'closed' ||
        incident.status === 'acting'
      )
        return;
      await this.#validate(id);
    });
  }

  /** Marks the incident acting (open only), with its approval; undefined when it is not open any more. */
  async #begin(
    id: string,
    plan: Plan,
    approval: IncidentApproval,
    replaced: Plan | undefined,
    leftOut = '',
  ): Promise<Incident | undefined> {
    let begun = false;
    const stored = await mutateIncident(this.#store, id, (incident) => {
      if (incident.status !== 'open') return undefined;
      begun = true;
      incident.status = 'acting';
      incident.plan = plan;
      incident.approvals.push(approval);
      this.#audit(incident, 'approved', `${approval.digest} by ${approval.by} (${approval.mode})`);
      if (replaced !== undefined) {
        this.#audit(
          incident,
          're-planned',
          `re-checked before acting: ${describePlan(plan)} replaces ${replaced.digest}${leftOut}`,
        );
      }
      return incident;
    });
    return begun ? stored.incident : undefined;
  }

  /** Runs the plan (the incident is already `acting` unless `approval` is given); the caller reserved #busy. */
  async #act(
    id: string,
    plan: Plan,
    approval: IncidentApproval | undefined,
    how: 'started' | 'resumed',
  ): Promise<void> {
    try {
      if (approval !== undefined && (await this.#begin(id, plan, approval, undefined)) === undefined) return;
      const before = await this.#store.get(id);
      if (before === undefined) return;
      const settled = settledKeys(before.incident.actions);
      await mutateIncident(this.#store, id, (incident) => {
        this.#audit(
          incident,
          how === 'resumed' ? 'run resumed' : 'run started',
          `${describePlan(plan)}${settled.size > 0 ? `; ${settled.size} targets already settled` : ''}`,
        );
        return incident;
      });
      const journal = new IncidentJournal(this.#store, id, (entry) =>
        this.#metrics.actions.inc({ action: entry.action, outcome: entry.outcome }),
      );
      const started = performance.now();
      const signal = this.#actSignal();
      let result: Awaited<ReturnType<Mitigator['apply']>>;
      try {
        result = await this.#mitigator.apply(plan, {
          incidentId: id,
          journal,
          settled,
          signal,
          onProgress: (progress) => journal.progress(progress),
        });
      } catch (error) {
        await journal.flush().catch(() => undefined);
        if (signal.aborted) return;
        await mutateIncident(this.#store, id, (incident) => {
          incident.status = 'open';
          this.#audit(incident, 'run failed', `${(error as Error).message}; approve again to retry`);
          return incident;
        });
        return;
      }
      await journal.flush();
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (result.interrupted) {
        // Left `acting`: the next start, or the next leader, resumes from the journal.
        await mutateIncident(this.#store, id, (incident) => {
          this.#audit(
            incident,
            'run interrupted',
            `after ${seconds} s (${(signal.reason as Error | undefined)?.message ?? 'stopped'}); resumes from the journal on restart or on the next leader`,
          );
          return incident;
        });
        return;
      }
      const summary = result.steps
        .map((step) => {
          const counts = Object.entries(step.counts)
            .filter(([, count]) => count > 0)
            .map(([outcome, count]) => `${count} ${outcome}`);
          return `${step.step}: ${counts.join(', ') || 'nothing'}`;
        })
        .join('; ');
      await mutateIncident(this.#store, id, (incident) => {
        incident.status = 'validating';
        this.#audit(incident, 'run finished', `in ${seconds} s; ${summary || 'no step'}`);
        return incident;
      });
    } finally {
      this.#release(id);
    }
  }

  /** The resolved notification's work: validate, then close with the verdict. */
  async #validate(id: string): Promise<void> {
    if (!this.leading || this.#validating.has(id)) return;
    this.#validating.add(id);
    try {
      await this.#validateAndClose(id);
    } finally {
      this.#validating.delete(id);
    }
  }

  async #validateAndClose(id: string): Promise<void> {
    const startedAt = this.#now().toISOString();
    const marked = await mutateIncident(this.#store, id, (incident) => {
      if (incident.status === 'closed' || incident.status === 'acting') return undefined;
      incident.status = 'validating';
      incident.validation = { verdict: 'running', reason: 'the alert resolved; validating', startedAt };
      this.#audit(incident, 'validation started');
      return incident;
    });
    if (marked.incident.validation?.startedAt !== startedAt) return;
    const signal = this.#actSignal();
    let verdict: Awaited<ReturnType<Mitigator['validate']>>;
    try {
      verdict = await this.#mitigator.validate(signal);
    } catch (error) {
      if (signal.aborted) return;
      verdict = { verdict: 'not-cleared', reason: `validate failed: ${(error as Error).message}` };
    }
    const finishedAt = this.#now().toISOString();
    await mutateIncident(this.#store, id, (incident) => {
      incident.validation = { ...verdict, startedAt, finishedAt };
      incident.status = 'closed';
      incident.closedAt = finishedAt;
      this.#audit(incident, 'closed', `${verdict.verdict}: ${verdict.reason}`);
      return incident;
    });
  }
}
