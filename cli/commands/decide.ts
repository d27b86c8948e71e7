// `replup retry|skip|abort <id> --step S --reason R`: an operator's decision on a parked step.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { decide, defaultActor, resolveRunId } from '../lib/runs.js';

export const registerDecide: Register = (program) => {
  const blurb = {
    retry: 'Run a parked step again',
    skip: 'Skip a parked step (only steps that allow it; recorded with your reason)',
    abort: 'Abort the run at a waiting step; runs the cleanup that is safe there',
  } as const;
  for (const action of ['retry', 'skip', 'abort'] as const) {
    program
      .command(`${action} [id]`)
      .description(blurb[action])
      .requiredOption('--step <step>', 'the step that waits')
      .requiredOption('--reason <text>', 'why (recorded in the audit)')
      .option('--actor <name>', 'who decides (recorded)', defaultActor())
      .option('--json', 'print the new progress state as JSON')
      .action(async (id: string | undefined, opts: { step: string; reason: string; actor: string; json?: boolean }) => {
        const client = await connectClient();
        const runId = await resolveRunId(client, id);
        const p = await decide(client, runId, opts.step, action, opts.reason, opts.actor);
        if (opts.json) process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
        else process.stdout.write(`${action} of ${opts.step} recorded for ${runId} (by ${opts.actor}: ${opts.reason})\n`);
      });
  }
};
