// `replup worker`: serve every runbook on the `replup` task queue until interrupted; with
// --metrics HOST:PORT, Prometheus metrics (the Temporal SDK's and replup's) at /metrics.
import type { Register } from './index.js';
import { createReplupWorker, installLogger } from '../../worker/main.js';
import { connectClient } from '../../worker/connection.js';
import { createReplupMetrics, freePort, parseHostPort, sdkPrometheus, serveMetrics, type HostPort } from '../../worker/metrics.js';
import { TASK_QUEUE } from '../../workflows/messages.js';
import { UserError, EXIT } from '../errors.js';
import { wholeNumber } from '../lib/runs.js';
import type { Client } from '@temporalio/client';

function hostPort(text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (err) {
    throw new UserError((err as Error).message, [], EXIT.usage);
  }
}

export const registerWorker: Register = (program) => {
  program
    .command('worker')
    .description('Run a worker that serves every replup runbook (lab and SQL Server targets)')
    .option('--concurrency <n>', 'activities at once', wholeNumber('--concurrency'), 100)
    .option('--metrics <host:port>', "serve Prometheus metrics at http://HOST:PORT/metrics: the Temporal SDK's (temporal_*) and replup's (replup_*)", hostPort)
    .action(async (opts: { concurrency: number; metrics?: HostPort }) => {
      // The SDK's exporter listens on a private port; the --metrics endpoint serves its text with replup's.
      const sdkAddress = opts.metrics ? `127.0.0.1:${await freePort()}` : undefined;
      installLogger('INFO', sdkAddress ? sdkPrometheus(sdkAddress) : undefined);
      let client: Promise<Client> | undefined;
      const metrics = opts.metrics ? createReplupMetrics(() => (client ??= connectClient()), TASK_QUEUE, (err) => process.stderr.write(`replup worker: metrics could not read Temporal: ${(err as Error).message}\n`)) : undefined;
      const { worker, close } = await createReplupWorker({ concurrency: opts.concurrency, ...(metrics && { metrics }) });
      const endpoint = opts.metrics && metrics ? await serveMetrics(opts.metrics, metrics, `http://${sdkAddress}/metrics`) : undefined;
      const stop = () => worker.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      process.stderr.write(`replup worker serving task queue replup (pid ${process.pid})${endpoint ? `; metrics at ${endpoint.url}` : ''}\n`);
      await worker.run();
      await endpoint?.close();
      await (await client?.catch(() => undefined))?.connection.close();
      await close();
    });
};
