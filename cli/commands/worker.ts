// `replup worker`: serve every runbook on the `replup` task queue until interrupted.
import type { Register } from './index.js';
import { createReplupWorker, installLogger } from '../../worker/main.js';
import { wholeNumber } from '../lib/runs.js';

export const registerWorker: Register = (program) => {
  program
    .command('worker')
    .description('Run a worker that serves every replup runbook (lab and SQL Server targets)')
    .option('--concurrency <n>', 'activities at once', wholeNumber('--concurrency'), 100)
    .action(async (opts: { concurrency: number }) => {
      installLogger('INFO');
      const { worker, close } = await createReplupWorker({ concurrency: opts.concurrency });
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stderr.write(`replup worker serving task queue replup (pid ${process.pid})\n`);
      await worker.run();
      await close();
    });
};
