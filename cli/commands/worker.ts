// `replup worker`: serve every runbook on the `replup` task queue until interrupted; with
// --metrics HOST:PORT, Prometheus metrics (the Temporal SDK's and replup's) at /metrics.
import type { Register } from './index.js';
import type { HostPort } from '../../worker/metrics.js';
import { wholeNumber } from '../lib/runs.js';
import { hostPortOption, serveWorker } from '../lib/serve-worker.js';
import { Reporter } from '../lib/reporter.js';
import { temporalConfig } from '../../worker/connection.js';

export const registerWorker: Register = (program, _setExit, io) => {
  program
    .command('worker')
    .description('Run a worker that serves every replup runbook (lab and SQL Server targets)')
    .option('--concurrency <n>', 'activities at once', wholeNumber('--concurrency'), 100)
    .option(
      '--metrics <host:port>',
      "serve Prometheus metrics at http://HOST:PORT/metrics: the Temporal SDK's (temporal_*) and replup's (replup_*)",
      hostPortOption,
    )
    .action(async (opts: { concurrency: number; metrics?: HostPort }) => {
      const report = new Reporter(false, io);
      const served = await serveWorker({
        name: 'replup worker',
        report,
        logLevel: 'INFO',
        concurrency: opts.concurrency,
        ...(opts.metrics && { metrics: opts.metrics }),
      });
      // Where it serves, as the other commands find it (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE or a profile).
      const { connectionOptions, namespace } = temporalConfig(process.env);
      const server = `${connectionOptions.address}, namespace ${namespace}`;
      const stop = () => served.worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      report.note(
        `replup worker serving task queue replup (pid ${process.pid}) on ${server}` +
          (served.metricsUrl ? `; metrics at ${served.metricsUrl}` : ''),
      );
      await served.worker.run();
      await served.close();
    });
};
