import { type Command, Option } from 'commander';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { StuckfailedError } from '../errors.js';
import {
  archiveLaunchersTo,
  describeRunField,
  makePauseExecutor,
  planPause,
  planUnpause,
  unpauseVms,
} from '../mitigation/pause.js';
import { makePlan } from '../mitigation/plan.js';
import { addKubeFlags, parseCountAtLeastOne } from './flags.js';
import type { CommandContext } from './io.js';
import {
  addWritingFlags,
  archiveDirOf,
  type BuiltPlan,
  type PlanRequest,
  runWritingCommand,
  SERVER_DRY_RUN_ARCHIVE_NOTE,
  type WritingFlags,
} from './writing-command.js';

export interface PauseFlags extends WritingFlags {
  vm?: string;
  minFailed?: number;
  undo?: boolean;
  /** --archive DIR, or false for --no-archive. */
  archive?: string | false;
}

export function registerPause(program: Command, context: CommandContext): void {
  const command = program
    .command('pause')
    .description(
      'Halt the chosen VMs (spec.runStrategy: Halted, or running: false for VMs that use it) so they stop ' +
        "leaving Failed launchers behind (the runbook's Mitigation 1); what was there is kept in the annotation " +
        'stuckfailed.io/paused-from, and --undo puts it back on exactly the VMs pause halted. Halting deletes a ' +
        "VM's VMI and its Failed launchers, so those are archived first. A dry run unless --yes.",
    )
    .addOption(new Option('--vm <name>', 'only this VM'))
    .addOption(
      new Option('--min-failed <k>', 'only VMs with at least K Failed virt-launcher pods').argParser(
        parseCountAtLeastOne,
      ),
    )
    .addOption(new Option('--undo', 'restore the VMs in scope that pause halted, and only those'))
    .addOption(
      new Option(
        '--archive <dir>',
        "archive each halted VM's Failed launchers and their events to <dir>/<namespace>/<pod>.yaml first (default: ./stuckfailed-archive-<UTC time>)",
      ),
    )
    .addOption(
      new Option('--no-archive', "halt without archiving (the VMs' Failed launchers go unrecorded)"),
    );
  addKubeFlags(command);
  for (const option of command.options) {
    if (option.long === '--selector') option.description = 'label selector for the VMs (e.g. app=web)';
  }
  addWritingFlags(command);
  command.action((flags: PauseFlags) => runPause(flags, context));
}

export async function runPause(
  flags: PauseFlags,
  context: CommandContext,
  signal?: AbortSignal,
): Promise<void> {
  if (flags.undo && flags.minFailed !== undefined) {
    throw new StuckfailedError(
      'USAGE',
      '--min-failed chooses VMs to halt; --undo restores every VM in scope that pause halted (choose them with -n, --vm or -l)',
    );
  }
  const scopeFlags = [
    flags.allNamespaces ? '-A' : flags.namespace ? `-n ${flags.namespace}` : '',
    ...(flags.selector ? [`-l '${flags.selector}'`] : []),
    ...(flags.vm ? [`--vm ${flags.vm}`] : []),
  ].filter(Boolean);
  const common = {
    name: 'pause',
    flags,
    context,
    ownScope: flags.vm !== undefined || flags.minFailed !== undefined || Boolean(flags.selector),
    scopeHint: flags.undo
      ? 'choose -n NAMESPACE or -A, --vm NAME, or -l SELECTOR'
      : 'choose -n NAMESPACE or -A, --vm NAME, -l SELECTOR, or --min-failed K',
    ...(signal === undefined ? {} : { signal }),
  };
  if (flags.undo) {
    let refusals = 0;
    const plan = async (request: PlanRequest): Promise<BuiltPlan> => {
      const undo = await planUnpause(new LiveClusterReader(request.api), {
        namespace: request.namespace,
        vm: flags.vm,
        labelSelector: request.labelSelector,
      });
      const notes = undo.restores
        .slice(0, 20)
        .map((restore) => `restores ${restore.namespace}/${restore.name} to ${describeRunField(restore.to)}`);
      if (undo.named !== undefined) {
        notes.push(
          `refused: ${undo.named.namespace}/${undo.named.name} was not paused by stuckfailed; left as is`,
        );
      } else if (undo.notPaused > 0) {
        notes.push(`left ${undo.notPaused} VM(s) in scope that stuckfailed did not pause`);
      }
      for (const refused of undo.refused)
        notes.push(`refused: ${refused.namespace}/${refused.name}: ${refused.reason}`);
      const missing =
        flags.vm !== undefined &&
        undo.named === undefined &&
        undo.restores.length + undo.refused.length === 0;
      if (missing) notes.push(`no VM named ${flags.vm} in scope`);
      refusals = undo.refused.length + (undo.named === undefined ? 0 : 1) + (missing ? 1 : 0);
      return {
        plan: makePlan({
          createdAt: request.now.toISOString(),
          scope: request.scope,
          steps: [undo.step],
          untouched: [],
        }),
        notes,
      };
    };
    const outcome = await runWritingCommand({
      ...common,
      plan,
      executors: { pause: unpauseVms },
      resumeFlags: [...scopeFlags, '--undo'],
    });
    // Asked to restore a VM and it was not: the run did not do what it was asked.
    if (outcome !== undefined && refusals > 0) context.setExitCode(1);
    return;
  }

  const archiveDir = archiveDirOf(
    flags,
    context,
    'halting a VM deletes its VMI and its Failed launchers, with no copy of them or of their events.',
  );
  const plan = async (request: PlanRequest): Promise<BuiltPlan> => {
    const pause = await planPause(new LiveClusterReader(request.api), {
      namespace: request.namespace,
      vm: flags.vm,
      labelSelector: request.labelSelector,
      minFailed: flags.minFailed,
    });
    const notes = pause.pauses
      .slice(0, 20)
      .map(
        (vm) =>
          `halts ${vm.namespace}/${vm.name} (now ${describeRunField(vm.from)}, ${vm.failedLaunchers} Failed launcher(s))`,
      );
    if (flags.vm !== undefined && pause.step.count + pause.alreadyHalted + pause.alreadyPaused === 0) {
      notes.push(
        `no VM named ${flags.vm} in scope${flags.minFailed === undefined ? '' : ' with that many Failed launchers'}`,
      );
    }
    if (pause.alreadyHalted > 0) notes.push(`left ${pause.alreadyHalted} VM(s) already halted`);
    if (pause.alreadyPaused > 0) {
      notes.push(
        `left ${pause.alreadyPaused} VM(s) already paused by stuckfailed (pause --undo restores them)`,
      );
    }
    const launchers = pause.pauses.reduce((sum, vm) => sum + vm.failedLaunchers, 0);
    if (pause.step.count > 0) {
      notes.push(
        flags.dryRun === 'server'
          ? SERVER_DRY_RUN_ARCHIVE_NOTE
          : archiveDir === undefined
            ? `archive: none (--no-archive): the ${launchers} Failed launcher(s) of these VMs go with their VMIs`
            : `archive: the ${launchers} Failed launcher(s) of these VMs and their events go to ${archiveDir}/<namespace>/<pod>.yaml before each halt`,
      );
      notes.push(`undo: stuckfailed pause --undo ${scopeFlags.join(' ')} --yes`.replace(/ +/g, ' '));
    }
    return {
      plan: makePlan({
        createdAt: request.now.toISOString(),
        scope: request.scope,
        steps: [pause.step],
        untouched: [],
      }),
      notes,
    };
  };
  await runWritingCommand({
    ...common,
    plan,
    executors: {
      pause: makePauseExecutor({
        archive: archiveDir === undefined ? undefined : archiveLaunchersTo(archiveDir),
      }),
    },
    ...(archiveDir === undefined ? {} : { journalBeside: archiveDir }),
    resumeFlags: [
      ...scopeFlags,
      ...(flags.minFailed === undefined ? [] : [`--min-failed ${flags.minFailed}`]),
      archiveDir === undefined ? '--no-archive' : `--archive ${archiveDir}`,
    ],
  });
}
