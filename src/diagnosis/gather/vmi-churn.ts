// Runbook step 3, migration churn: Failed launchers per VMI, counted in bounded memory.

/**
 * Failed launchers per VMI, for the VMIs that can be churning: those with migrations, and those with two Failed
 * launchers or more. A VMI's launchers are named `virt-launcher-<vmi>-<5 chars>` and so lie next to each other in
 * the list's key order, which lets a bounded structure count them exactly: a VMI seen once waits in a bounded
 * first-in-first-out set of singles, and only its second launcher makes it a counted entry. Counted entries past
 * the bound are cut to the half with the most failures (only the top 20 are reported); VMIs with migrations are
 * never cut. A VMI whose launchers sort thousands of other launchers apart (its name a prefix of thousands of
 * other VMIs' names) may be undercounted: the price of memory that does not grow with the pods.
 */
export class VmiChurn {
  readonly #capacity: number;
  readonly #migrating: ReadonlySet<string>;
  readonly #singles = new Map<string, { targets: number }>();
  readonly #counted = new Map<string, { failed: number; targets: number }>();

  constructor(options: { capacity: number; migrating: ReadonlySet<string> }) {
    this.#capacity = options.capacity;
    this.#migrating = options.migrating;
  }

  add(vmiKey: string, target: boolean): void {
    const entry = this.#counted.get(vmiKey);
    if (entry !== undefined) {
      entry.failed += 1;
      if (target) entry.targets += 1;
      return;
    }
    const single = this.#singles.get(vmiKey);
    if (single === undefined && !this.#migrating.has(vmiKey)) {
      this.#singles.set(vmiKey, { targets: target ? 1 : 0 });
      if (this.#singles.size > this.#capacity) {
        const oldest = this.#singles.keys().next().value;
        if (oldest !== undefined) this.#singles.delete(oldest);
      }
      return;
    }
    this.#singles.delete(vmiKey);
    this.#counted.set(vmiKey, {
      failed: (single ? 1 : 0) + 1,
      targets: (single?.targets ?? 0) + (target ? 1 : 0),
    });
    if (this.#counted.size > this.#capacity) this.#cut(vmiKey);
  }

  /** `namespace/vmi` -> counts, for every VMI with migrations or at least two Failed launchers. */
  entries(): ReadonlyMap<string, { failed: number; targets: number }> {
    return this.#counted;
  }

  /** Drops the lighter half of the counted VMIs, but never `keep` (the VMI being counted) nor migrating ones. */
  #cut(keep: string): void {
    const cuttable = [...this.#counted]
      .filter(([key]) => key !== keep && !this.#migrating.has(key))
      .sort(([, a], [, b]) => a.failed + a.targets - (b.failed + b.targets));
    for (const [key] of cuttable.slice(0, Math.ceil(cuttable.length / 2))) this.#counted.delete(key);
  }
}
