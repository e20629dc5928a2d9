import type { Writable } from 'node:stream';
import { Command, CommanderError } from 'commander';
import { EXIT, StuckfailedError } from '../errors.js';
import { VERSION } from '../version.js';
import { COMMANDS, type RegisterCommand } from './commands.js';
import type { CliIo, CommandContext } from './io.js';

/**
 * The program with every command, or with only `commandName` when it names one (a run of one command need not
 * load the others), or with none for `--version`; help, a typo or no command at all get them all.
 */
export async function buildProgram(context: CommandContext, commandName?: string): Promise<Command> {
  const { io } = context;
  const program = new Command('stuckfailed')
    .description(
      "Diagnose and mitigate KubeVirt's VirtLauncherPodsStuckFailed alert: the runbook as software.\n" +
        'Also runs as a kubectl plugin: kubectl stuckfailed <command>.\n' +
        'As with kubectl, --kubeconfig, --context and -n may also come before the command.',
    )
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  const only = commandName !== undefined && Object.hasOwn(COMMANDS, commandName) ? commandName : undefined;
  const names = only !== undefined ? [only] : commandName === '--version' ? [] : Object.keys(COMMANDS);
  const registers = await Promise.all(
    names.map((name) => (COMMANDS[name] as () => Promise<RegisterCommand>)()),
  );
  for (const register of registers) register(program, context);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  }
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit, so output flushes. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  ignoreBrokenPipe(io.stdout);
  let exitCode: number = EXIT.ok;
  try {
    const args = commandFirst(argv);
    const program = await buildProgram({ io, setExitCode: (code) => (exitCode = code) }, args[0]);
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (error) {
    return exitCodeFor(error, io);
  }
}

/** kubectl's global flags that take a value, as they may come before the command (`kubectl -n vms get pods`). */
const GLOBAL_FLAGS_WITH_VALUE = new Set(['--kubeconfig', '--context', '-n', '--namespace']);

/**
 * kubectl takes its global flags before the command too (`stuckfailed -n vms clean`, `--context prod diagnose`);
 * commander takes a command's flags only after its name. So the global flags given before the command name move
 * to just after it, in their order. Anything else before the command leaves the arguments as they are, for
 * commander to report.
 */
export function commandFirst(argv: readonly string[]): string[] {
  let index = 0;
  while (index < argv.length) {
    const token = argv[index] as string;
    if (Object.hasOwn(COMMANDS, token)) {
      return [token, ...argv.slice(0, index), ...argv.slice(index + 1)];
    }
    if (GLOBAL_FLAGS_WITH_VALUE.has(token)) index += 2;
    else if (GLOBAL_FLAGS_WITH_VALUE.has(token.split('=')[0] as string) || /^-n./.test(token)) index += 1;
    else break;
  }
  return [...argv];
}

/**
 * A reader that stops early (`stuckfailed diagnose --help | head`) closes the pipe: what is left to print is
 * dropped, as CLIs do, instead of crashing on EPIPE. The listener stays on, since the error of the last write
 * arrives after it returns. Any other write error is thrown as before.
 */
function ignoreBrokenPipe(stdout: Writable): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Help and version are successes; commander already printed its own message otherwise.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help') return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof StuckfailedError) {
    io.stderr.write(`error: ${error.message}\n  hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`internal error: ${message}\n`);
  return 70;
}
