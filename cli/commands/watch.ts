// `replup watch [id]`: a live view until the run completes or needs a person (cli/lib/follow.ts; with no worker to
// answer, the run's last-published state until one does).
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { resolveRunId, wholeNumber } from '../lib/runs.js';
import { followRun } from '../lib/follow.js';

export const registerWatch: Register = (program, setExit, io) => {
  program
    .command('watch [id]')
    .description(
      'Follow a run live; exits 0 when it completes, 1 if aborted, 3 when it waits for an operator; ' +
        'while no worker answers, shows what the run last published and keeps watching',
    )
    .option('--interval <ms>', 'refresh interval in milliseconds', wholeNumber('--interval', 100), 1000)
    .action(async (id: string | undefined, opts: { interval: number }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      setExit(
        await followRun(client, runId, {
          render: true,
          intervalMs: opts.interval,
          ...(io && { out: io.stdout, err: io.stderr }),
        }),
      );
    });
};
