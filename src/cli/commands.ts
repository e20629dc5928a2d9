import type { Command } from 'commander';
import { registerDemoCommand } from './demo.js';
import { registerDiagnose } from './diagnose.js';
import type { CommandContext } from './io.js';
import { registerRulesCommand } from './rules.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';

/** Each command lives in its own file and adds itself to the program here. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

/** In the order --help lists them: the daily commands first. */
export const COMMANDS: RegisterCommand[] = [
  registerDiagnose,
  registerRulesCommand,
  registerServeCommand,
  registerSimCommand,
  registerDemoCommand,
];
