/** The list of commands the CLI registers, in the order `dbsnap --help` shows them. */
import type { CommandFactory } from '../context.js';
import { commitCommand } from './commit.js';
import { diffCommand } from './diff.js';
import { initCommand } from './init.js';
import { logCommand } from './log.js';
import { showCommand } from './show.js';
import { statusCommand } from './status.js';
import { tagCommand } from './tag.js';
import { restoreCommand } from './restore.js';
import { verifyCommand } from './verify.js';
import { relationsCommand } from './relations.js';
import { configCommand } from './config.js';
import { rekeyCommand } from './rekey.js';
import { runCommand } from './run.js';
import { branchCommand } from './branch.js';
import { switchCommand } from './switch.js';
import { remoteCommand } from './remote.js';
import { pushCommand } from './push.js';
import { fetchCommand } from './fetch.js';
import { pullCommand } from './pull.js';
import { cloneCommand } from './clone.js';
import { gcCommand } from './gc.js';
import { importCommand } from './import.js';
import { exportCommand } from './export.js';
import { blameCommand } from './blame.js';
import { watchCommand } from './watch.js';
import { drillCommand } from './drill.js';
import { pruneCommand } from './prune.js';

/** Every command, in the order --help lists them. */
export const commands: CommandFactory[] = [
  initCommand,
  commitCommand,
  logCommand,
  showCommand,
  statusCommand,
  diffCommand,
  blameCommand,
  tagCommand,
  branchCommand,
  switchCommand,
  restoreCommand,
  runCommand,
  watchCommand,
  drillCommand,
  pruneCommand,
  verifyCommand,
  relationsCommand,
  configCommand,
  rekeyCommand,
  remoteCommand,
  pushCommand,
  fetchCommand,
  pullCommand,
  cloneCommand,
  gcCommand,
  importCommand,
  exportCommand,
];
