import { formatDuration } from '../duration.js';
import type { NewLauncherSummary } from './launcher-tracker.js';

// validate's question, as a pure function of what was observed and when (DESIGN §1, Mitigation 4): the alert has
// cleared when the Failed launcher count is below the threshold and has stayed there for the window (the alert's
// `for`), no launcher went Failed in that window, and the launchers that appeared since the start run on Running
// VMIs. A launcher going Failed restarts the window: the cause is still at work even while the count is low.

export interface ClearingConditionOptions {
  threshold: number;
  windowMs: number;
}

export interface VmiCheck {
  /** VMIs of Running new launchers whose VMI is not Running (missing counts as not Running). */
  notRunning: number;
  /** A few, as `namespace/name (phase)`. */
  examples: string[];
}

export interface ClearingStatus {
  cleared: boolean;
  count: number | undefined;
  threshold: number;
  windowMs: number;
  /** How long the condition has held so far (0 when it does not). */
  clearForMs: number;
  newLaunchers: Omit<NewLauncherSummary, 'pendingExamples' | 'runningVmis'>;
  vmisNotRunning: number;
  /** What is still missing, in words, most important first; empty when cleared. */
  waitingFor: string[];
}

export class ClearingCondition {
  readonly #options: ClearingConditionOptions;
  #count: number | undefined;
  #belowSince: number | undefined;
  #lastFailureAt: number | undefined;
  #failures = 0;

  constructor(options: ClearingConditionOptions) {
    this.#options = options;
  }

  /** The count at time `at` (milliseconds); call on every change, so that a brief rise is not missed. */
  observeCount(count: number, at: number): void {
    this.#count = count;
    if (count >= this.#options.threshold) this.#belowSince = undefined;
    else this.#belowSince ??= at;
  }

  /** A launcher went Failed at `at`. */
  observeFailure(at: number): void {
    this.#failures += 1;
    this.#lastFailureAt = Math.max(at, this.#lastFailureAt ?? at);
  }

  evaluate(at: number, launchers: NewLauncherSummary, vmis: VmiCheck): ClearingStatus {
    const { threshold, windowMs } = this.#options;
    const waitingFor: string[] = [];
    const clearSince =
      this.#belowSince === undefined ? undefined : Math.max(this.#belowSince, this.#lastFailureAt ?? 0);
    const clearForMs = clearSince === undefined ? 0 : Math.max(0, at - clearSince);
    if (this.#count === undefined) {
      waitingFor.push('the first count of Failed launchers');
    } else if (this.#belowSince === undefined) {
      waitingFor.push(`the Failed launcher count to drop below ${threshold} (now ${this.#count})`);
    } else if (clearForMs < windowMs) {
      const restarted =
        this.#lastFailureAt !== undefined && this.#lastFailureAt > this.#belowSince
          ? `; the window restarted ${formatDuration(at - this.#lastFailureAt)} ago when a launcher went Failed` +
            ` (${this.#failures} since the start)`
          : '';
      waitingFor.push(
        `the count (${this.#count}) to stay below ${threshold} for ${formatDuration(windowMs)}: ` +
          `${formatDuration(clearForMs)} so far${restarted}`,
      );
    }
    if (launchers.pending > 0) {
      waitingFor.push(
        `${launchers.pending} of the ${launchers.total} launchers created since the start to reach Running ` +
          `(e.g. ${launchers.pendingExamples.join(', ')})`,
      );
    }
    if (vmis.notRunning > 0) {
      waitingFor.push(
        `${vmis.notRunning} VMIs of new launchers to be Running (e.g. ${vmis.examples.join(', ')})`,
      );
    }
    const { pendingExamples: _examples, runningVmis: _vmis, ...counts } = launchers;
    return {
      cleared: waitingFor.length === 0,
      count: this.#count,
      threshold,
      windowMs,
      clearForMs,
      newLaunchers: counts,
      vmisNotRunning: vmis.notRunning,
      waitingFor,
    };
  }

  /** Launchers seen going Failed since the start. */
  get failures(): number {
    return this.#failures;
  }
}
