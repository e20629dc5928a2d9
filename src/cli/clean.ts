import { type Command, Option } from 'commander';
import type { Pod } from '../kube/types.js';
import { FAILED_LAUNCHER_FIELD_SELECTOR, FAILED_LAUNCHER_LABEL_SELECTOR } from '../launcher/launcher-pod.js';
import { createCleanExecutor, HeldPods, planCleanStep } from '../mitigation/clean.js';
import { makePlan } from '../mitigation/plan.js';
import { parseDurationFlag } from './duration-flag.js';
import { addKubeFlags, parsePositiveInt } from './flags.js';
import type { CommandContext } from './io.js';
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

export interface CleanFlags extends WritingFlags {
  keepPerVmi: number;
  /** Seconds, as the plan's olderThanSeconds cap records it. */
  olderThan?: number;
  /** --archive DIR, or false for --no-archive. */
  archive?: string | false;
}

export function registerClean(program: Command, context: CommandContext): void {
  const command = program
    .command('clean')
    .description(
      "Delete the Failed virt-launcher pods in scope (the runbook's Mitigation 2), and nothing else: each pod is\n" +
        'archived with its events first, then deleted with its uid and resourceVersion as preconditions. A dry run\n' +
        'unless --yes.',
    )
    .addOption(
      new Option('--keep-per-vmi <k>', 'keep the newest K Failed launchers of each VMI as evidence')
        .argParser(parsePositiveInt)
        .default(0),
    )
    .addOption(
      new Option(
        '--older-than <duration>',
        'only pods that ended at least this long ago (e.g. 30m, 2h, 48h)',
      ).argParser((value: string) => parseDurationFlag(value) / 1000),
    )
    .addOption(
      new Option(
        '--archive <dir>',
        'archive each pod and its events to <dir>/<namespace>/<pod>.yaml before deleting it (default: ./stuckfailed-archive-<UTC time>)',
      ),
    )
    .addOption(new Option('--no-archive', 'delete without archiving (the evidence goes with the pods)'));
  addKubeFlags(command);
  addWritingFlags(command);
  command.action((flags: CleanFlags) => runClean(flags, context));
}

export async function runClean(flags: CleanFlags, context: CommandContext): Promise<void> {
  await runWritingCommand(cleanCommand(flags, context));
}

export interface CleanCommandOptions {
  /** How many of the pods it read the plan holds for the executor (HeldPods' budget); the safety tests vary it. */
  heldPods?: number;
}

/** What `clean` plans and executes, as runWritingCommand takes it (the demo and tests run it with their own signal). */
export function cleanCommand(
  flags: CleanFlags,
  context: CommandContext,
  options: CleanCommandOptions = {},
): WritingCommandSpec {
  const archiveDir = archiveDirOf(
    flags,
    context,
    'the pods are deleted with no copy of their manifests and events; the evidence of what failed them goes with them.',
  );
  // The command plans once, then executes that plan: the executor takes the pods the plan read (HeldPods).
  const held = new HeldPods(options.heldPods);
  const plan = async (request: PlanRequest): Promise<BuiltPlan> => {
    const labelSelector = [FAILED_LAUNCHER_LABEL_SELECTOR, request.labelSelector].filter(Boolean).join(',');
    const pods = held.pass(
      request.api.list<Pod>('pods', {
        ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
        labelSelector,
        fieldSelector: FAILED_LAUNCHER_FIELD_SELECTOR,
      }),
    );
    const selection = await planCleanStep(pods, {
      keepPerVmi: flags.keepPerVmi,
      olderThanSeconds: flags.olderThan,
      now: request.now,
    });
    const notes: string[] = [];
    notes.push(`found ${selection.failedLaunchers} Failed virt-launcher pod(s) in scope`);
    if (selection.kept > 0) {
      notes.push(
        `kept ${selection.kept} as evidence: the newest ${flags.keepPerVmi} of each of ${selection.keptVmis} VMI(s) (--keep-per-vmi)`,
      );
    }
    if (selection.tooRecent > 0) {
      notes.push(`left ${selection.tooRecent} that ended less than --older-than ago`);
    }
    if (selection.notLaunchers > 0) {
      notes.push(
        `ignored ${selection.notLaunchers} pod(s) the server's selectors returned that are not Failed virt-launcher pods`,
      );
    }
    if (selection.step.count > 0) {
      notes.push(
        flags.dryRun === 'server'
          ? SERVER_DRY_RUN_ARCHIVE_NOTE
          : archiveDir === undefined
            ? 'archive: none (--no-archive)'
            : `archive: each pod and its events go to ${archiveDir}/<namespace>/<pod>.yaml before its DELETE`,
      );
    }
    return {
      plan: makePlan({
        createdAt: request.now.toISOString(),
        scope: request.scope,
        steps: [selection.step],
        untouched: [],
      }),
      notes,
    };
  };
  const resumeFlags = [
    flags.allNamespaces ? '-A' : `-n ${flags.namespace ?? ''}`,
    ...(flags.selector ? [`-l '${flags.selector}'`] : []),
    ...(flags.keepPerVmi > 0 ? [`--keep-per-vmi ${flags.keepPerVmi}`] : []),
    ...(flags.olderThan === undefined ? [] : [`--older-than ${flags.olderThan}s`]),
    archiveDir === undefined ? '--no-archive' : `--archive ${archiveDir}`,
  ];
  return {
    name: 'clean',
    flags,
    context,
    scopeHint: 'choose -n NAMESPACE for one namespace, or -A for all of them (narrow either with -l)',
    plan,
    executors: { clean: createCleanExecutor({ archiveDir, held }) },
    ...(archiveDir === undefined ? {} : { journalBeside: archiveDir }),
    resumeFlags,
  };
}
