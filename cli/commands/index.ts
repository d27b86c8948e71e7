import type { Command } from 'commander';

/** A command file exports one of these; `setExit` sets the process exit code without throwing. */
export type Register = (program: Command, setExit: (code: number) => void) => void;

import { registerDev } from './dev.js';

export const commands: Register[] = [registerDev];
