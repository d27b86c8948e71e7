// The replup worker as `replup worker` and `replup demo` run it: the SDK's runtime installed, the
// worker created, and with a metrics address the Prometheus endpoint (worker/metrics.ts) serving
// the SDK exporter's metrics and replup's. One place, so the demo serves what the worker serves.
import type { Client } from '@temporalio/client';
import type { LogLevel } from '@temporalio/worker';
import { createReplupWorker, installLogger } from '../../worker/main.js';
import { connectClient } from '../../worker/connection.js';
import {
  createReplupMetrics,
  freePort,
  parseHostPort,
  sdkPrometheus,
  serveMetrics,
  type HostPort,
} from '../../worker/metrics.js';
import { TASK_QUEUE } from '../../workflows/messages.js';
import { UserError, EXIT } from '../errors.js';
import { Reporter } from './reporter.js';

/** Commander's parser for `--metrics HOST:PORT`: a UserError (exit 2) with an example otherwise. */
export function hostPortOption(text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (err) {
    throw new UserError((err as Error).message, [], EXIT.usage);
  }
}

export interface ServeWorkerOptions {
  /** Names the caller in the metrics' error lines on stderr: `replup worker`, `replup demo`. */
  name: string;
  /** The environment the worker and the metrics' client connect with (TEMPORAL_ADDRESS, ...). */
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
  /** The SDK runtime's log level (INFO for `replup worker`, WARN under the demo's own output). */
  logLevel: LogLevel;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: a free one). */
  metrics?: HostPort;
  /** Where the metrics' errors are noted (stderr); default the process's streams. */
  report?: Reporter;
  /** The worker's identity on the server; default the SDK's `pid@host`. */
  identity?: string;
}

export interface ServedWorker {
  worker: Awaited<ReturnType<typeof createReplupWorker>>['worker'];
  /** The metrics URL as bound (port 0 resolved), when `metrics` was given. */
  metricsUrl?: string;
  /** After the worker has stopped running: closes the endpoint and every connection. */
  close(): Promise<void>;
}

/**
 * Installs the SDK runtime (once per process: Runtime.install refuses a second call), creates the
 * worker on task queue `replup`, and serves the metrics when asked. The caller runs the worker.
 * Errors: connection failures from connectWorker; a metrics address in use (EADDRINUSE).
 */
export async function serveWorker(opts: ServeWorkerOptions): Promise<ServedWorker> {
  const env = opts.env ?? process.env;
  // The SDK's exporter listens on a private port; the --metrics endpoint serves its text with replup's.
  const sdkAddress = opts.metrics ? `127.0.0.1:${await freePort()}` : undefined;
  installLogger(opts.logLevel, sdkAddress ? sdkPrometheus(sdkAddress) : undefined);
  let client: Promise<Client> | undefined;
  const report = opts.report ?? new Reporter();
  const onError = (err: unknown) =>
    report.note(`${opts.name}: metrics could not read Temporal: ${(err as Error).message}`);
  const metrics = opts.metrics
    ? createReplupMetrics(() => (client ??= connectClient(env)), TASK_QUEUE, onError)
    : undefined;
  const { worker, close } = await createReplupWorker({
    env,
    ...(opts.concurrency !== undefined && { concurrency: opts.concurrency }),
    ...(opts.identity && { identity: opts.identity }),
    ...(metrics && { metrics }),
  });
  const closeAll = async () => {
    await endpoint?.close();
    await (await client?.catch(() => undefined))?.connection.close();
    await close();
  };
  let endpoint: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  try {
    if (opts.metrics && metrics) endpoint = await serveMetrics(opts.metrics, metrics, `http://${sdkAddress}/metrics`);
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { worker, ...(endpoint && { metricsUrl: endpoint.url }), close: closeAll };
}
