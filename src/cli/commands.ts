import type { Command } from 'commander';
import type { CommandContext } from './io.js';

/** Each command lives in its own file and adds itself to the program here. */
export type RegisterCommand = (program: Command, context: CommandContext) => void;

export const COMMANDS: RegisterCommand[] = [];
