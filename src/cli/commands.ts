import type { Command } from 'commander';
import { registerDiagnose } from './diagnose.js';
import type { CommandContext } from './io.js';
import { registerRulesCommand } from './rules.js';
import { registerSimCommand } from './sim.js';

/** Each command lives in its own file and adds itself to the program here. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

export const COMMANDS: RegisterCommand[] = [registerRulesCommand, registerDiagnose, registerSimCommand];
