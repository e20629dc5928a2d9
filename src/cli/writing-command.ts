import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { KubeApi } from '../cluster/kube-api.js';
import { openKubeApi } from '../cluster/open-reader.js';
import { StuckfailedError } from '../errors.js';
import { applyPlan, checkPlanAccess, type PlanOutcome } from '../mitigation/apply-plan.js';
import { openJournalFile } from '../mitigation/journal-file.js';
import type {
  ApplyContext,
  JournalEntry,
  JournalSink,
  Plan,
  PlanAction,
  PlanScope,
  StepExecutor,
  StepOutcome,
  StepProgress,
} from '../mitigation/plan.js';
import { type KubeFlags, kubeConfigOptions, outputOption } from './flags.js';
import type { CliIo, CommandContext } from './io.js';

// What every writing command (clean, cancel-migrations, pause, mitigate) shares, so that they all behave alike
// (DESIGN §4, "Writing commands"): a dry run by default that prints the exact plan; --yes to execute; a scope that
// must be chosen; a journal that makes a re-run resume; Ctrl-C that stops after the writes in flight; progress on
// a terminal; and the exit codes 0 done, 1 some planned actions not done, 2 usage, 3 unreachable or forbidden.

export const DRY_RUN_MODES = ['none', 'client', 'server'] as const;
export type DryRunMode = (typeof DRY_RUN_MODES)[number];
export const WRITING_FORMATS = ['text', 'json'] as const;
export type WritingFormat = (typeof WRITING_FORMATS)[number];

/**
 * Requests per second and at once. What keeps the API server safe is the in-flight cap: it bounds the work we hold
 * on the server at any moment and halves by itself whenever API Priority and Fairness answers 429
 * (src/cluster/concurrency-limit.ts). A rate cap on top only slows a cleanup down on a server with APF, so `auto`
 * drops it there (as SIG API Machinery advises and controller-runtime does), and keeps 200 requests per second on a
 * server without APF (kubectl's 5 would make a 20,000-pod cleanup take over an hour). A number always holds.
 */
export const DEFAULT_WRITE_QPS = 'auto';
/** The rate cap of `--qps auto` on a server without API Priority and Fairness. */
export const WRITE_QPS_WITHOUT_APF = 200;
export const DEFAULT_WRITE_MAX_IN_FLIGHT = 16;

export interface WritingFlags extends KubeFlags {
  yes?: boolean;
  dryRun?: DryRunMode;
  output: WritingFormat;
  qps: number | 'auto';
  maxInFlight: number;
  journal?: string;
}

function parseQps(value: string): number | 'auto' {
  if (value === 'auto') return value;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected auto, or requests per second >= 0 (0 turns the limit off)');
  }
  return parsed;
}

/** The API client's rate options for --qps. */
export function qpsOptions(qps: number | 'auto'): { qps: number; burst: number; qpsOnlyWithoutApf: boolean } {
  const rate = qps === 'auto' ? WRITE_QPS_WITHOUT_APF : qps;
  return { qps: rate, burst: Math.max(1, Math.ceil(rate)), qpsOnlyWithoutApf: qps === 'auto' };
}

function parseInFlight(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return parsed;
}

/**
 * Adds --yes, --dry-run, -o, --qps, --max-in-flight and --journal. Call addKubeFlags(command) first: the scope
 * flags (-n, -A, -l) come from there, and their help is reworded here, since a writing command has no default
 * scope.
 */
export function addWritingFlags(command: Command): Command {
  for (const option of command.options) {
    if (option.long === '--namespace') option.description = 'act in this namespace (-n or -A is required)';
    if (option.long === '--all-namespaces') option.description = 'act in every namespace';
  }
  return command
    .addOption(new Option('--yes', 'execute the plan (without it: print the plan and write nothing)'))
    .addOption(
      new Option(
        '--dry-run <mode>',
        'client: print the plan, write nothing (the default); server: send every write with dryRun=All; none: execute (as --yes)',
      ).choices(DRY_RUN_MODES),
    )
    .addOption(outputOption(WRITING_FORMATS, 'text'))
    .addOption(
      new Option(
        '--qps <n|auto>',
        `most write and read requests per second (0: no limit); auto: no limit when the API server has API Priority and Fairness (it throttles by itself), ${WRITE_QPS_WITHOUT_APF} otherwise`,
      )
        .argParser(parseQps)
        .default(DEFAULT_WRITE_QPS),
    )
    .addOption(
      new Option('--max-in-flight <n>', 'most requests at once (halves by itself when the server throttles)')
        .argParser(parseInFlight)
        .default(DEFAULT_WRITE_MAX_IN_FLIGHT),
    )
    .addOption(
      new Option(
        '--journal <file>',
        "journal of every action (JSON lines); give an earlier run's journal to resume it (default: beside the archive, else ./stuckfailed-<command>-<time>.journal.jsonl)",
      ),
    );
}

/** What the command's planner gets: the API to read from, and the scope the user chose. */
export interface PlanRequest {
  api: KubeApi;
  scope: PlanScope;
  /** -n; undefined means every namespace (-A, or the command's own filters alone). */
  namespace: string | undefined;
  /** -l, as given. */
  labelSelector: string | undefined;
  now: Date;
  /** A line for stderr: what the user should know that is not an error. */
  warn(message: string): void;
}

export interface BuiltPlan {
  plan: Plan;
  /** Lines printed under the plan in text output (what was kept and why, where the archive goes). */
  notes?: string[];
}

export interface WritingCommandSpec {
  /** The command's name, as typed (`clean`). */
  name: string;
  flags: WritingFlags;
  context: CommandContext;
  /** True when the command's own filters were given (e.g. --vmi): they count as a scope without -n or -A. */
  ownScope?: boolean;
  /** How to choose a scope, for the usage error (e.g. `-n NAMESPACE or -A`). */
  scopeHint: string;
  plan(request: PlanRequest): Promise<BuiltPlan>;
  executors: Partial<Record<PlanAction, StepExecutor>>;
  /** A folder the run writes into (the archive): the journal defaults to `<folder>.journal.jsonl` beside it. */
  journalBeside?: string;
  /** The flags a re-run needs besides --journal and --yes (scope, filters, `--archive DIR`), for the message after Ctrl-C. */
  resumeFlags?: string[];
  /** Aborts like Ctrl-C (for the demo and tests); the process's SIGINT/SIGTERM always does. */
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * The archive folder of --archive DIR / --no-archive (default: `./stuckfailed-archive-<UTC time>`), or undefined
 * when the user opted out; an opted-out run that writes says so loudly, since the evidence goes with the objects.
 */
export function archiveDirOf(
  flags: Pick<WritingFlags, 'dryRun' | 'yes'> & { archive?: string | false },
  context: CommandContext,
  lost: string,
): string | undefined {
  if (flags.archive !== false) {
    return resolve(flags.archive ?? join(process.cwd(), `stuckfailed-archive-${fileTimestamp(new Date())}`));
  }
  const executing = flags.dryRun === 'none' || (flags.dryRun === undefined && flags.yes === true);
  if (executing) context.io.stderr.write(`WARNING: --no-archive: ${lost}\n`);
  return undefined;
}

/** The plan's archive note under --dry-run=server, where the executors archive nothing since nothing is deleted. */
export const SERVER_DRY_RUN_ARCHIVE_NOTE = 'archive: none: under --dry-run=server the server deletes nothing';

/** `20261129T101502Z`: sortable, no colons (valid in file names everywhere). */
export function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/** The whole life of a writing command: scope, plan, print, and with --yes apply with a journal. */
export async function runWritingCommand(spec: WritingCommandSpec): Promise<PlanOutcome | undefined> {
  const { flags, context } = spec;
  const { io } = context;
  const now = spec.now ?? (() => new Date());
  const all = flags.allNamespaces === true;
  const namespace = all ? undefined : flags.namespace || undefined;
  if (!all && namespace === undefined && spec.ownScope !== true) {
    throw new StuckfailedError(
      'USAGE',
      `${spec.name} needs a scope: ${spec.scopeHint}. It never acts on the whole cluster unless asked to (-A).`,
    );
  }
  const dryRun: DryRunMode = flags.dryRun ?? (flags.yes ? 'none' : 'client');
  const scope: PlanScope = {
    namespaces: namespace === undefined ? 'all' : [namespace],
    ...(flags.selector ? { selector: flags.selector } : {}),
  };
  const warn = (message: string) => io.stderr.write(`warning: ${message}\n`);
  const { api } = openKubeApi({
    ...kubeConfigOptions(flags, io.env),
    ...qpsOptions(flags.qps),
    maxInFlight: flags.maxInFlight,
    onWarning: warn,
  });
  const controller = new AbortController();
  const abortWith = (reason: string) => {
    if (controller.signal.aborted) return;
    controller.abort(new Error(reason));
    io.stderr.write(
      `\n${reason}: stopping after the writes in flight (press Ctrl-C again to quit at once; the journal knows what was done)\n`,
    );
  };
  if (spec.signal?.aborted) abortWith('asked to stop');
  else spec.signal?.addEventListener('abort', () => abortWith('asked to stop'), { once: true });
  try {
    const built = await spec.plan({
      api,
      scope,
      namespace,
      labelSelector: flags.selector || undefined,
      now: now(),
      warn,
    });
    const { plan } = built;
    if (dryRun === 'client') {
      io.stdout.write(
        flags.output === 'json'
          ? `${JSON.stringify(plan, null, 2)}\n`
          : renderPlanText(plan, built.notes, dryRun),
      );
      return undefined;
    }
    if (flags.output === 'text') io.stdout.write(renderPlanText(plan, built.notes, dryRun));
    const journalPath =
      flags.journal ??
      (spec.journalBeside === undefined
        ? join(process.cwd(), `stuckfailed-${spec.name}-${fileTimestamp(now())}.journal.jsonl`)
        : `${spec.journalBeside}.journal.jsonl`);
    const resuming = (previousEntries: number, settled: number) =>
      io.stderr.write(
        `resuming from the journal ${journalPath}: an earlier run recorded ${previousEntries} action(s), ${settled} of them settled\n`,
      );
    const total = plan.steps.reduce((sum, step) => sum + step.count, 0);
    if (total === 0 && plan.steps.every((step) => step.action !== 'validate')) {
      // Nothing left: when an earlier run did it all, say so rather than leave the user wondering.
      if (dryRun === 'none' && existsSync(journalPath)) {
        const earlier = await openJournalFile(journalPath);
        await earlier.close();
        if (earlier.previousEntries > 0) resuming(earlier.previousEntries, earlier.settled.size);
      }
      if (flags.output === 'json') {
        io.stdout.write(`${JSON.stringify({ plan, outcome: { steps: [], interrupted: false } }, null, 2)}\n`);
      }
      return { steps: [], interrupted: false };
    }
    await checkPlanAccess(plan, spec.executors, { api, dryRun, signal: controller.signal, onWarning: warn });
    // Ctrl-C is ours from here on; before this point nothing was written and the default (exit at once) is right.
    void io.waitForInterrupt().then(() => abortWith('interrupted'));
    // A server-side dry run writes nothing, so it must not journal anything a real run would take as done.
    const journal =
      dryRun === 'server'
        ? {
            sink: { append: async () => undefined } as JournalSink,
            settled: new Set<string>(),
            previousEntries: 0,
            close: async () => undefined,
          }
        : await openJournalFile(journalPath);
    if (journal.previousEntries > 0) resuming(journal.previousEntries, journal.settled.size);
    const progress = await createApplyProgress(io);
    let outcome: PlanOutcome;
    try {
      const applyContext: ApplyContext = {
        api,
        journal: journal.sink,
        settled: journal.settled,
        dryRun,
        signal: controller.signal,
        onProgress: progress.update,
        now,
      };
      outcome = await applyPlan(plan, spec.executors, applyContext);
    } catch (error) {
      progress.stop();
      if (dryRun !== 'server')
        io.stderr.write(`what was done before the error is in the journal ${journalPath}\n`);
      throw error;
    } finally {
      progress.stop();
      await journal.close();
    }
    const notDone = outcome.steps.flatMap((step) => step.failures);
    if (flags.output === 'json') {
      io.stdout.write(`${JSON.stringify({ plan, outcome }, null, 2)}\n`);
    } else {
      io.stdout.write(renderOutcomeText(outcome, dryRun));
      if (dryRun !== 'server') io.stdout.write(`journal: ${journalPath}\n`);
    }
    if (outcome.interrupted) {
      const resume = [
        `stuckfailed ${spec.name}`,
        ...(spec.resumeFlags ?? []),
        `--journal ${journalPath}`,
        '--yes',
      ];
      io.stderr.write(
        `stopped before the end: run the same command again to finish, it skips what is done:\n  ${resume.join(' ')}\n`,
      );
    }
    if (notDone.length > 0 || outcome.interrupted) context.setExitCode(1);
    return outcome;
  } finally {
    api.close();
  }
}

/** The plan as a person reads it: for each step what, where, how many and why; then what is left alone. */
export function renderPlanText(plan: Plan, notes: readonly string[] | undefined, dryRun: DryRunMode): string {
  const lines: string[] = [];
  const scope =
    plan.scope.namespaces === 'all' ? 'all namespaces' : `namespace ${plan.scope.namespaces.join(', ')}`;
  lines.push(
    `plan ${plan.digest.slice(0, 19)} for ${scope}${plan.scope.selector ? ` (-l ${plan.scope.selector})` : ''}`,
  );
  if (plan.steps.length === 0) lines.push('  nothing to do');
  for (const [index, step] of plan.steps.entries()) {
    const what =
      step.action === 'validate'
        ? 'wait for the alert to clear (watches the launchers and VMIs; writes nothing)'
        : step.count === 0
          ? 'nothing to do'
          : `${step.count} ${plural(step.count, step.targets[0]?.kind ?? 'object')}`;
    lines.push(`${index + 1}. ${step.action}: ${what}`);
    lines.push(
      `   why: ${step.reason.summary}${step.reason.cause === 'operator' ? '' : ` (cause: ${step.reason.cause})`}`,
    );
    const byNamespace = new Map<string, number>();
    for (const target of step.targets)
      byNamespace.set(target.namespace, (byNamespace.get(target.namespace) ?? 0) + 1);
    if (byNamespace.size > 0) {
      // Code-unit order (names are ASCII): localeCompare's first call loads ICU's collator, 10 ms of a run's start.
      const ranked = [...byNamespace].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const shown = ranked.slice(0, 10).map(([name, count]) => `${name} (${count})`);
      const more = ranked.length > 10 ? `, and ${ranked.length - 10} more namespaces` : '';
      lines.push(`   where: ${shown.join(', ')}${more}`);
    }
    const caps = Object.entries(step.caps);
    if (caps.length > 0) lines.push(`   limits: ${caps.map(([key, value]) => `${key}=${value}`).join(', ')}`);
    for (const target of step.targets.slice(0, 20)) {
      lines.push(`   - ${target.kind.toLowerCase()}/${target.name} -n ${target.namespace}`);
    }
    if (step.targets.length > 20)
      lines.push(`   … and ${step.targets.length - 20} more (-o json lists every one)`);
  }
  for (const untouched of plan.untouched) {
    lines.push(`not fixable by a command (${untouched.cause}):`);
    for (const step of untouched.remediation) lines.push(`   - ${step}`);
  }
  for (const note of notes ?? []) lines.push(note);
  if (dryRun === 'client') lines.push('dry run: nothing was written. Run again with --yes to do it.');
  if (dryRun === 'server')
    lines.push('server dry run: every write is sent with dryRun=All; nothing changes.');
  return `${lines.join('\n')}\n`;
}

/** Per step: the counts by outcome, then every target not done with why. */
export function renderOutcomeText(outcome: PlanOutcome, dryRun: DryRunMode): string {
  const lines: string[] = [];
  for (const step of outcome.steps) lines.push(describeStep(step, dryRun));
  const failures: JournalEntry[] = outcome.steps.flatMap((step) => step.failures);
  if (failures.length > 0) {
    lines.push(`not done (${failures.length}):`);
    for (const entry of failures) {
      lines.push(
        `  ${entry.outcome}: ${entry.kind.toLowerCase()}/${entry.name} -n ${entry.namespace}: ${entry.detail ?? ''}`.trimEnd(),
      );
    }
  }
  if (outcome.interrupted) lines.push('interrupted: the rest of the plan was not started.');
  return `${lines.join('\n')}\n`;
}

function describeStep(step: StepOutcome, dryRun: DryRunMode): string {
  const { counts } = step;
  if (step.action === 'validate') {
    const verdict = counts.done > 0 ? 'cleared' : counts.failed > 0 ? 'not cleared' : 'not run';
    return `validate: ${verdict}`;
  }
  const parts = [`${counts.done} ${dryRun === 'server' ? 'accepted (dry run)' : 'done'}`];
  if (counts.gone > 0) parts.push(`${counts.gone} already gone`);
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if (counts.conflict > 0) parts.push(`${counts.conflict} changed since the plan (left alone)`);
  if (counts.failed > 0) parts.push(`${counts.failed} failed`);
  const earlier = step.alreadyDone ? `; found ${step.alreadyDone} already done by an earlier run` : '';
  return `${step.action}: ${parts.join(', ')}${earlier}`;
}

function plural(count: number, kind: string): string {
  const noun = kind.toLowerCase();
  return count === 1 ? noun : `${noun}s`;
}

interface ApplyProgress {
  update(progress: StepProgress): void;
  stop(): void;
}

/** A bar with rate and ETA on a terminal (stderr), nothing otherwise: in logs a redrawn line is noise. */
async function createApplyProgress(io: CliIo): Promise<ApplyProgress> {
  if (!io.stderrIsTTY) return { update: () => undefined, stop: () => undefined };
  // Loaded only for a terminal: a scripted run does not pay for the bar's modules at start-up.
  const { default: progressBars } = await import('cli-progress');
  let bar: cliProgress.SingleBar | undefined;
  let step: string | undefined;
  let startedAt = 0;
  let startValue = 0;
  return {
    update(progress) {
      if (progress.step !== step) {
        bar?.stop();
        step = progress.step;
        startedAt = Date.now();
        startValue = progress.settled;
        bar = new progressBars.SingleBar(
          {
            stream: io.stderr,
            format: `${progress.step} {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
          },
          progressBars.Presets.shades_classic,
        );
        bar.start(progress.total, progress.settled, { rate: '0' });
      }
      const seconds = (Date.now() - startedAt) / 1000;
      const rate = seconds > 0 ? ((progress.settled - startValue) / seconds).toFixed(0) : '0';
      bar?.update(progress.settled, { rate });
    },
    stop() {
      bar?.stop();
      bar = undefined;
      step = undefined;
    },
  };
}
