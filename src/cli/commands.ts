import type { Command } from 'commander';
import type { CommandContext } from './io.js';

/** Each command lives in its own file and adds itself to the program here. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

/**
 * In the order --help lists them: the daily commands first. Each file is imported only when its command is
 * registered: a run registers just the command it runs, so that `clean` does not load the web server, the report
 * renderers and the simulator (start-up is most of a small cleanup's time).
 */
export const COMMANDS: Record<string, () => Promise<RegisterCommand>> = {
  diagnose: async () => (await import('./diagnose.js')).registerDiagnose,
  mitigate: async () => (await import('./mitigate.js')).registerMitigate,
  clean: async () => (await import('./clean.js')).registerClean,
  'cancel-migrations': async () => (await import('./cancel-migrations.js')).registerCancelMigrations,
  pause: async () => (await import('./pause.js')).registerPause,
  validate: async () => (await import('./validate.js')).registerValidateCommand,
  watch: async () => (await import('./watch.js')).registerWatchCommand,
  rules: async () => (await import('./rules.js')).registerRulesCommand,
  serve: async () => (await import('./serve.js')).registerServeCommand,
  sim: async () => (await import('./sim.js')).registerSimCommand,
  demo: async () => (await import('./demo.js')).registerDemoCommand,
};
