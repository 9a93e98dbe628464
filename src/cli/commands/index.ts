import type { CommandFactory } from '../context.js';
import { commitCommand } from './commit.js';
import { initCommand } from './init.js';
import { logCommand } from './log.js';
import { showCommand } from './show.js';

/** Every command, in the order --help lists them. */
export const commands: CommandFactory[] = [initCommand, commitCommand, logCommand, showCommand];
