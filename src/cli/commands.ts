import type { Command } from 'commander';
import { registerCancelMigrations } from './cancel-migrations.js';
import { registerClean } from './clean.js';
import { registerDemoCommand } from './demo.js';
import { registerDiagnose } from './diagnose.js';
import type { CommandContext } from './io.js';
import { registerPause } from './pause.js';
import { registerRulesCommand } from './rules.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';
import { registerValidateCommand } from './validate.js';
import { registerWatchCommand } from './watch.js';

/** Each command lives in its own file and adds itself to the program here. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

/** In the order --help lists them: the daily commands first. */
export const COMMANDS: RegisterCommand[] = [
  registerDiagnose,
  registerClean,
  registerCancelMigrations,
  registerPause,
  registerValidateCommand,
  registerWatchCommand,
  registerRulesCommand,
  registerServeCommand,
  registerSimCommand,
  registerDemoCommand,
];
