// The plan contract of DESIGN §4 ("Plans"): what `mitigate -o json` prints, what each writing command executes,
// and what `serve` shows and approves. A plan is pure data; applying it is the only code that writes.
import { createHash } from 'node:crypto';
import type { RbacRule } from '../cluster/api-error.js';
import type { KubeApi } from '../cluster/kube-api.js';
import type { CauseCategory } from '../diagnosis/types.js';

export const PLAN_ACTIONS = ['cancel-migrations', 'pause', 'clean', 'validate'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

/** One object a step writes to (or, for validate, watches). The uid makes every write a precondition. */
export interface PlanTarget {
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface PlanStep {
  /** Unique within the plan, stable across re-plans of the same step (e.g. `clean`, `cancel-migrations`). */
  id: string;
  action: PlanAction;
  /** The cause the step answers; `operator` when a person asked for it directly (clean -n ..., pause --vm ...). */
  reason: { cause: CauseCategory | 'operator'; summary: string };
  targets: PlanTarget[];
  /** targets.length, kept for readers that do not load the targets. */
  count: number;
  /** The limits the step was planned under (e.g. keepPerVmi, olderThanSeconds, maxPods). */
  caps: Record<string, number | string | boolean>;
}

export interface PlanScope {
  namespaces: string[] | 'all';
  selector?: string;
}

export interface UntouchedCause {
  cause: CauseCategory;
  remediation: string[];
}

export interface Plan {
  schemaVersion: 1;
  /** `sha256:<hex>` of the steps and their targets: an approval names it; a plan that changes gets a new one. */
  digest: string;
  createdAt: string;
  scope: PlanScope;
  steps: PlanStep[];
  /** Causes no command can fix (an image tag, a CNI outage): their remediation, and no action. */
  untouched: UntouchedCause[];
}

/**
 * The digest covers what would be written (each step's action and targets, in order), not when the plan was made
 * nor the prose: re-planning an unchanged cluster gives the same digest, so an approval stays valid.
 */
export function planDigest(steps: readonly PlanStep[]): string {
  const hash = createHash('sha256');
  for (const step of steps) {
    hash.update(JSON.stringify([step.id, step.action, step.caps]));
    for (const target of step.targets) {
      hash.update(JSON.stringify([target.kind, target.namespace, target.name, target.uid]));
    }
    hash.update('\n');
  }
  return `sha256:${hash.digest('hex')}`;
}

export function makePlan(fields: Omit<Plan, 'schemaVersion' | 'digest'>): Plan {
  return { schemaVersion: 1, digest: planDigest(fields.steps), ...fields };
}

export const JOURNAL_OUTCOMES = ['done', 'skipped', 'gone', 'conflict', 'failed'] as const;
/**
 * done: written; skipped: not written on purpose (already done by an earlier run, kept, out of scope now);
 * gone: the object no longer existed (404 counts as done for a delete); conflict: the object changed since the
 * plan (uid precondition failed, 409); failed: could not be done (detail says why).
 */
export type JournalOutcome = (typeof JOURNAL_OUTCOMES)[number];

/** One line of the journal (JSON lines): one per action and its outcome. */
export interface JournalEntry {
  time: string;
  step: string;
  action: PlanAction;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  outcome: JournalOutcome;
  detail?: string;
}

/** Where the outcome of each action goes: a file for the CLI (--journal), the incident for `serve`. */
export interface JournalSink {
  append(entry: JournalEntry): Promise<void>;
}

/** The key of one target in a journal, to find on a re-run what an earlier run already settled. */
export function targetKey(
  step: string,
  target: Pick<PlanTarget, 'kind' | 'namespace' | 'name' | 'uid'>,
): string {
  return `${step}\u0000${target.kind}\u0000${target.namespace}\u0000${target.name}\u0000${target.uid}`;
}

/** How far a step has got, for progress bars and the service's live view. */
export interface StepProgress {
  step: string;
  action: PlanAction;
  /** Targets settled so far (any outcome), this run and earlier runs. */
  settled: number;
  total: number;
}

/** What one step's apply did, by outcome; `failures` lists every target not done, with why. */
export interface StepOutcome {
  step: string;
  action: PlanAction;
  counts: Record<JournalOutcome, number>;
  failures: JournalEntry[];
  /** Targets an earlier run had settled (read back from its journal), not written again nor counted above. */
  alreadyDone?: number;
}

/** Everything an executor needs to write: the one cluster writer, the journal, and what is already settled. */
export interface ApplyContext {
  api: KubeApi;
  journal: JournalSink;
  /** targetKey()s that an earlier run settled (read back from its journal): not written again. */
  settled: ReadonlySet<string>;
  /** 'server' sends every write with dryRun=All. */
  dryRun: 'none' | 'server';
  /** Aborting stops after the writes in flight; what was not started is left for a re-run. */
  signal?: AbortSignal;
  onProgress?: (progress: StepProgress) => void;
  now: () => Date;
}

/** Applies one step of a given action: the only code that writes to the cluster. */
export interface StepExecutor {
  (step: PlanStep, context: ApplyContext): Promise<StepOutcome>;
  /**
   * The RBAC rules of the requests the step sends, asked about before a plan's first write (access-check.ts). Every
   * executor of the writing commands and serve declares them.
   */
  access?: (step: PlanStep, context: Pick<ApplyContext, 'dryRun'>) => RbacRule[];
}
