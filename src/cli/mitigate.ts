import { type Command, Option } from 'commander';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { DEFAULT_THRESHOLD, diagnose } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/types.js';
import { formatDuration } from '../duration.js';
import { StuckfailedError } from '../errors.js';
import { type CheckedExecutor, withAccess } from '../mitigation/access-check.js';
import { buildMitigationPlan, mitigationExecutors } from '../mitigation/mitigation-plan.js';
import type { PlanAction } from '../mitigation/plan.js';
import type { ValidationVerdict } from '../validation/validate-clearing.js';
import { DEFAULT_WINDOW_MS } from '../validation/validate-clearing.js';
import { parseDurationFlag } from './duration-flag.js';
import { addKubeFlags, parseCountAtLeastOne, parsePositiveInt, thresholdOption } from './flags.js';
import type { CommandContext } from './io.js';
import { progressPrinter, renderVerdict } from './validate.js';
import {
  addWritingFlags,
  archiveDirOf,
  type BuiltPlan,
  type PlanRequest,
  runWritingCommand,
  SERVER_DRY_RUN_ARCHIVE_NOTE,
  type WritingCommandSpec,
  type WritingFlags,
} from './writing-command.js';

export interface MitigateFlags extends WritingFlags {
  pauseMinFailed?: number;
  keepPerVmi: number;
  /** Milliseconds. */
  olderThan?: number;
  /** --archive DIR, or false for --no-archive. */
  archive?: string | false;
  window: number;
  timeout?: number;
  threshold: number;
}

export function registerMitigate(program: Command, context: CommandContext): void {
  const command = program
    .command('mitigate')
    .description(
      "Diagnose, then run the runbook's mitigation as one ordered plan: stop the " +
        'source (cancel the in-flight migrations of VMIs in a migration loop; halt ' +
        'VMs with --pause-min-failed), clean the Failed launchers (archived first), ' +
        'then validate that the alert clears. Each step names the cause it answers; ' +
        'causes no command can fix get their remediation and no action. A dry run ' +
        'unless --yes.',
    )
    .addOption(
      new Option(
        '--pause-min-failed <k>',
        'also halt the VMs with at least K Failed launchers (pause; off unless given)',
      ).argParser(parseCountAtLeastOne),
    )
    .addOption(
      new Option('--keep-per-vmi <k>', 'clean keeps the newest K Failed launchers of each VMI as evidence')
        .argParser(parsePositiveInt)
        .default(0),
    )
    .addOption(
      new Option(
        '--older-than <duration>',
        'clean only pods that ended at least this long ago (e.g. 30m, 2h)',
      ).argParser(parseDurationFlag),
    )
    .addOption(
      new Option(
        '--archive <dir>',
        'archive each pod deleted (and each launcher of a halted VM) with its events to <dir>/<namespace>/<pod>.yaml first (default: ./stuckfailed-archive-<UTC time>)',
      ),
    )
    .addOption(new Option('--no-archive', 'delete without archiving (the evidence goes with the pods)'))
    .addOption(
      new Option('--window <duration>', 'validate: how long the count must stay below the threshold')
        .argParser(parseDurationFlag)
        .default(DEFAULT_WINDOW_MS, '10m'),
    )
    .addOption(
      new Option('--timeout <duration>', 'validate gives up after this long (default: 3 windows)').argParser(
        parseDurationFlag,
      ),
    )
    .addOption(thresholdOption(DEFAULT_THRESHOLD));
  addKubeFlags(command);
  for (const option of command.options) {
    if (option.long === '--selector')
      option.description = 'label selector narrowing the launcher pods cleaned and validated';
  }
  addWritingFlags(command);
  command.action((flags: MitigateFlags) => runMitigate(flags, context));
}

export async function runMitigate(flags: MitigateFlags, context: CommandContext): Promise<void> {
  await runWritingCommand(mitigateCommand(flags, context));
}

export interface MitigateHooks {
  /** The diagnosis the plan was built from. */
  onDiagnosis?: (diagnosis: Diagnosis) => void;
  onVerdict?: (verdict: ValidationVerdict) => void;
  /** Runs after the writing steps, right before validate (the demo fixes the root cause here). */
  beforeValidate?: () => Promise<void> | void;
  signal?: AbortSignal;
}

/** What `mitigate` plans and executes, as runWritingCommand takes it (the demo runs it with its own hooks). */
export function mitigateCommand(
  flags: MitigateFlags,
  context: CommandContext,
  hooks: MitigateHooks = {},
): WritingCommandSpec {
  const { io } = context;
  if (flags.window <= 0) throw new StuckfailedError('USAGE', '--window must be longer than 0, e.g. 10m');
  const timeoutMs = flags.timeout ?? 3 * flags.window;
  if (timeoutMs < flags.window) {
    throw new StuckfailedError(
      'USAGE',
      `--timeout ${formatDuration(timeoutMs)} is shorter than --window ${formatDuration(flags.window)}: validate could never succeed; give a timeout of at least the window`,
    );
  }
  const archiveDir = archiveDirOf(
    flags,
    context,
    'the pods are deleted with no copy of their manifests and events; the evidence of what failed them goes with them.',
  );
  const plan = async (request: PlanRequest): Promise<BuiltPlan> => {
    const reader = new LiveClusterReader(request.api);
    const { diagnosis } = await diagnose(reader, {
      threshold: flags.threshold,
      ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
      ...(request.labelSelector === undefined ? {} : { labelSelector: request.labelSelector }),
    });
    hooks.onDiagnosis?.(diagnosis);
    const built = await buildMitigationPlan({
      reader,
      diagnosis,
      scope: request.scope,
      pauseMinFailed: flags.pauseMinFailed,
      keepPerVmi: flags.keepPerVmi,
      olderThanMs: flags.olderThan,
      windowMs: flags.window,
      timeoutMs,
      threshold: flags.threshold,
      now: request.now,
    });
    const causes = diagnosis.causes.map((cause) => `${cause.category} (${cause.pods})`).join(', ');
    const notes = [
      `diagnosis: ${diagnosis.failedLaunchers} Failed virt-launcher pods (threshold ${diagnosis.threshold}); causes: ${causes || 'none found'}`,
      ...built.notes,
    ];
    const writes = built.plan.steps.some((step) => step.action === 'clean' || step.action === 'pause');
    if (writes) {
      notes.push(
        flags.dryRun === 'server'
          ? SERVER_DRY_RUN_ARCHIVE_NOTE
          : archiveDir === undefined
            ? 'archive: none (--no-archive)'
            : `archive: each pod and its events go to ${archiveDir}/<namespace>/<pod>.yaml before it is deleted`,
      );
    }
    return { plan: built.plan, notes };
  };
  const text = flags.output === 'text';
  const progress = text ? progressPrinter(io, flags.window) : undefined;
  const executors: Record<PlanAction, CheckedExecutor> = mitigationExecutors({
    archiveDir,
    onVerdict: (verdict) => {
      progress?.stop();
      hooks.onVerdict?.(verdict);
      if (text) io.stdout.write(renderVerdict(verdict, io));
    },
    ...(progress === undefined ? {} : { onValidationProgress: progress.show }),
    onWarning: (message) => io.stderr.write(`warning: ${message}\n`),
  });
  const validate = executors.validate;
  executors.validate = withAccess(async (step, applyContext) => {
    await hooks.beforeValidate?.();
    if (text && applyContext.dryRun !== 'server') {
      io.stderr.write(
        `validating: fewer than ${step.caps.threshold} Failed launchers for ${formatDuration(flags.window)} (timeout ${formatDuration(timeoutMs)})\n`,
      );
    }
    return validate(step, applyContext);
  }, validate.access);
  const resumeFlags = [
    flags.allNamespaces ? '-A' : `-n ${flags.namespace ?? ''}`,
    ...(flags.selector ? [`-l '${flags.selector}'`] : []),
    ...(flags.pauseMinFailed === undefined ? [] : [`--pause-min-failed ${flags.pauseMinFailed}`]),
    ...(flags.keepPerVmi > 0 ? [`--keep-per-vmi ${flags.keepPerVmi}`] : []),
    ...(flags.olderThan === undefined ? [] : [`--older-than ${formatDuration(flags.olderThan)}`]),
    `--window ${formatDuration(flags.window)}`,
    `--timeout ${formatDuration(timeoutMs)}`,
    archiveDir === undefined ? '--no-archive' : `--archive ${archiveDir}`,
  ];
  return {
    name: 'mitigate',
    flags,
    context,
    scopeHint: 'choose -n NAMESPACE for one namespace, or -A for all of them',
    plan,
    executors,
    ...(archiveDir === undefined ? {} : { journalBeside: archiveDir }),
    resumeFlags,
    ...(hooks.signal === undefined ? {} : { signal: hooks.signal }),
  };
}
