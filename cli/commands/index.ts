import type { Command } from 'commander';
import type { Streams } from '../lib/reporter.js';

/**
 * A command file exports one of these; `setExit` sets the process exit code without throwing;
 * `io` the streams its Reporter writes to (default the process's).
 */
export type Register = (program: Command, setExit: (code: number) => void, io?: Streams) => void;

import { registerDev } from './dev.js';
import { registerStart } from './start.js';
import { registerStatus } from './status.js';
import { registerWatch } from './watch.js';
import { registerDecide } from './decide.js';
import { registerApprove } from './approve.js';
import { registerPause } from './pause.js';
import { registerList } from './list.js';
import { registerWorker } from './worker.js';
import { registerPlan } from './plan.js';
import { registerLab } from './lab.js';
import { registerReport } from './report.js';
import { registerDemo } from './demo.js';
import { registerConnectAgent } from './connect-agent.js';

export const commands: Register[] = [
  registerPlan,
  registerStart,
  registerStatus,
  registerWatch,
  registerDecide,
  registerApprove,
  registerConnectAgent,
  registerPause,
  registerList,
  registerReport,
  registerWorker,
  registerLab,
  registerDev,
  registerDemo,
];
