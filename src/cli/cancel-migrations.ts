import { type Command, Option } from 'commander';
import { LiveClusterReader } from '../cluster/live-cluster-reader.js';
import { findLoopingVmis } from '../diagnosis/find-looping-vmis.js';
import { cancelMigrations, planCancelMigrations } from '../mitigation/cancel-migrations.js';
import { makePlan } from '../mitigation/plan.js';
import { addKubeFlags } from './flags.js';
import type { CommandContext } from './io.js';
import {
  addWritingFlags,
  type BuiltPlan,
  type PlanRequest,
  runWritingCommand,
  type WritingFlags,
} from './writing-command.js';

export interface CancelMigrationsFlags extends WritingFlags {
  vmi?: string;
  looping?: boolean;
}

export function registerCancelMigrations(program: Command, context: CommandContext): void {
  const command = program
    .command('cancel-migrations')
    .description(
      "Cancel the in-flight migrations in scope (the runbook's Mitigation 1) by deleting their vmims, one by one\n" +
        'with preconditions; finished migrations are history and are never touched. A dry run unless --yes.',
    )
    .addOption(new Option('--vmi <name>', 'only the migrations of this VMI'))
    .addOption(
      new Option('--looping', 'only the migrations of the VMIs that diagnose finds in a migration loop'),
    );
  addKubeFlags(command);
  for (const option of command.options) {
    if (option.long === '--selector')
      option.description = 'label selector for the vmims (e.g. kubevirt.io/vmi-name=db)';
  }
  addWritingFlags(command);
  command.action((flags: CancelMigrationsFlags) => runCancelMigrations(flags, context));
}

export async function runCancelMigrations(
  flags: CancelMigrationsFlags,
  context: CommandContext,
  signal?: AbortSignal,
): Promise<void> {
  const plan = async (request: PlanRequest): Promise<BuiltPlan> => {
    const reader = new LiveClusterReader(request.api);
    const notes: string[] = [];
    let vmis: Array<{ namespace: string; vmi: string }> | undefined;
    if (flags.looping) {
      const looping = await findLoopingVmis(reader, {
        ...(request.namespace === undefined ? {} : { namespace: request.namespace }),
      });
      vmis = looping.map((vmi) => ({ namespace: vmi.namespace, vmi: vmi.vmi }));
      notes.push(
        looping.length === 0
          ? 'no VMI is in a migration loop in scope (diagnose finds none): nothing to cancel'
          : `${looping.length} VMI(s) in a migration loop: ${looping
              .slice(0, 10)
              .map((vmi) => `${vmi.namespace}/${vmi.vmi} (${vmi.failed} failed migrations)`)
              .join(', ')}${looping.length > 10 ? `, and ${looping.length - 10} more` : ''}`,
      );
    }
    const cancel = await planCancelMigrations(reader, {
      namespace: request.namespace,
      vmi: flags.vmi,
      labelSelector: request.labelSelector,
      vmis,
    });
    if (vmis !== undefined && vmis.length > 0 && cancel.step.count === 0) {
      notes.push(
        'none of them has a migration in flight right now; the next one fails the same way until the cause is fixed (stuckfailed diagnose names it)',
      );
    }
    const { finished } = cancel;
    if (flags.vmi !== undefined && cancel.step.count + finished.succeeded + finished.failed === 0) {
      notes.push(`no migration of a VMI named ${flags.vmi} in scope`);
    }
    const left = finished.succeeded + finished.failed;
    notes.push(
      left === 0
        ? 'no finished migration in scope'
        : `left ${left} finished migration(s) alone (${finished.succeeded} Succeeded, ${finished.failed} Failed): they are history, and deleting them cancels nothing`,
    );
    if (cancel.alreadyCancelling > 0) {
      notes.push(
        `${cancel.alreadyCancelling} in-flight migration(s) already being cancelled (deleted, finalizing)`,
      );
    }
    for (const wave of cancel.returningWaves) notes.push(`note: ${wave.count} ${wave.fix}`);
    return {
      plan: makePlan({
        createdAt: request.now.toISOString(),
        scope: request.scope,
        steps: [cancel.step],
        untouched: [],
      }),
      notes,
    };
  };
  const resumeFlags = [
    flags.allNamespaces ? '-A' : flags.namespace ? `-n ${flags.namespace}` : '',
    ...(flags.selector ? [`-l '${flags.selector}'`] : []),
    ...(flags.vmi ? [`--vmi ${flags.vmi}`] : []),
    ...(flags.looping ? ['--looping'] : []),
  ].filter(Boolean);
  await runWritingCommand({
    name: 'cancel-migrations',
    flags,
    context,
    ownScope: flags.vmi !== undefined || flags.looping === true || Boolean(flags.selector),
    scopeHint: 'choose -n NAMESPACE or -A, --vmi NAME, -l SELECTOR, or --looping',
    plan,
    executors: { 'cancel-migrations': cancelMigrations },
    resumeFlags,
    ...(signal === undefined ? {} : { signal }),
  });
}
