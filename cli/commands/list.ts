// `replup list [--status S]`: runs found through the replup search attributes.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { LIST_STATUSES, listRuns } from '../lib/runs.js';
import { Reporter } from '../lib/reporter.js';

export const registerList: Register = (program, _setExit, io) => {
  program
    .command('list')
    .description('List replup runs (e.g. --status awaiting-operator finds stuck ones)')
    .option(
      '--status <status>',
      `one of ${Object.keys(LIST_STATUSES).join(', ')} (awaiting-operator: every run that needs a person, at ` +
        `a parked step, a gate, a manual step or paused)`,
    )
    .option('--json', 'print as JSON')
    .action(async (opts: { status?: string; json?: boolean }) => {
      const client = await connectClient();
      const runs = await listRuns(client, opts.status);
      // The run id tells runs of the same fleet apart: `replup report <id> --run <run id>`.
      const line = (r: (typeof runs)[number]) =>
        `${r.status.padEnd(22)} ${(r.step || '-').padEnd(26)} ${r.startTime}  ${r.workflowId}  run ${r.runId}\n`;
      new Reporter(opts.json, io).result(runs, () => (runs.length ? runs.map(line).join('') : 'no runs\n'));
    });
};
