// `replup list [--status S]`: runs found through the replup search attributes.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { LIST_STATUSES, listRuns } from '../lib/runs.js';

export const registerList: Register = (program) => {
  program
    .command('list')
    .description('List replup runs (e.g. --status awaiting-operator finds stuck ones)')
    .option('--status <status>', `one of ${Object.keys(LIST_STATUSES).join(', ')} (awaiting-operator: every run that needs a person, at a parked step, a gate, a manual step or paused)`)
    .option('--json', 'print as JSON')
    .action(async (opts: { status?: string; json?: boolean }) => {
      const client = await connectClient();
      const runs = await listRuns(client, opts.status);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        return;
      }
      if (!runs.length) process.stdout.write('no runs\n');
      // The run id tells runs of the same fleet apart: `replup report <id> --run <run id>`.
      for (const r of runs) process.stdout.write(`${r.status.padEnd(22)} ${(r.step || '-').padEnd(26)} ${r.startTime}  ${r.workflowId}  run ${r.runId}\n`);
    });
};
