// `replup start <plan> [--wait]`: validate the plan, launch its runbook, print the id and UI link.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { defaultActor, retentionWarning, startUpgrade, type Started } from '../lib/runs.js';
import { startBdbReplicant } from '../lib/start-bdb.js';
import { startOpenEdge } from '../lib/start-openedge.js';
import type { AnyPlan } from '../../plan/registry.js';
import type { Client } from '@temporalio/client';
import { readPlanOrFail } from '../lib/plan-input.js';
import { followRun } from '../lib/follow.js';
import { EXIT } from '../errors.js';

export const registerStart: Register = (program, setExit) => {
  program
    .command('start <plan>')
    .description('Validate a plan and launch its runbook as a durable workflow')
    .option('--wait', 'wait until the run completes or needs an operator (exit 0, 1 or 3)')
    .option('--actor <name>', 'who starts the run (recorded)', defaultActor())
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { wait?: boolean; actor: string; json?: boolean }) => {
      const plan = await readPlanOrFail(file);
      const client = await connectClient();
      const started = await startRunbook(client, plan, opts.actor);
      // After the start: a warning must not stop a run, but the operator must read it.
      const short = await retentionWarning(client);
      if (short) process.stderr.write(`replup: warning: ${short}\n`);
      if (opts.json && !opts.wait) {
        process.stdout.write(`${JSON.stringify(started, null, 2)}\n`);
        return;
      }
      if (!opts.json) process.stdout.write(`Started ${started.workflowId}\n  Web UI: ${started.url}\n  watch:  replup watch '${started.workflowId}'\n`);
      if (opts.wait) {
        const code = await followRun(client, started.workflowId, { render: false, json: opts.json });
        setExit(code);
      } else {
        setExit(EXIT.ok);
      }
    });
};

/** Each runbook's plan starts its own workflow; the plan's `runbook` field says which. */
export function startRunbook(client: Client, plan: AnyPlan, actor: string): Promise<Started> {
  switch (plan.runbook) {
    case 'em-personalization-upgrade':
      return startUpgrade(client, plan, actor);
    case 'bdb-replicant':
      return startBdbReplicant(client, plan, actor);
    case 'openedge-replication-startup':
      return startOpenEdge(client, plan, actor);
  }
}
