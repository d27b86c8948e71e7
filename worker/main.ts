// The replup worker: serves every runbook on the `replup` task queue. A thin composition root:
// connect, build the ports per plan target, register the activities and workflows.
import { createRequire } from 'node:module';
import { Runtime, Worker, DefaultLogger, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import { TASK_QUEUE } from '../workflows/messages.js';
import { createUpgradeActivities } from '../activities/personalization-upgrade/activities.js';
import { createPortsFor } from './ports.js';
import { connectClient, connectWorker } from './connection.js';
import { createReportActivities } from '../activities/report/index.js';
import { createFleetGuardActivities } from '../activities/personalization-upgrade/fleet-guard.js';
import { createBdbActivities } from '../activities/bdb-replicant/activities.js';
import { createOpenEdgeActivities } from '../activities/openedge-startup/activities.js';
import { createNotifyActivities } from '../activities/notify/index.js';
import { createSubscriberActivities } from '../activities/subscribers/activities.js';
import { createSubscriberPortsFor } from './subscriber-ports.js';
import { createSetupActivities } from '../activities/setup-replication/activities.js';
import type { ReplupMetrics } from './metrics.js';
import type { Client } from '@temporalio/client';

const require = createRequire(import.meta.url);

export interface WorkerOptions {
  concurrency?: number;
  taskQueue?: string;
  env?: NodeJS.ProcessEnv;
  logLevel?: LogLevel;
  /** replup's Prometheus metrics (worker/metrics.ts): the worker counts undelivered notifications there. */
  metrics?: Pick<ReplupMetrics, 'notificationFailed'>;
  /** The worker's identity on the server (pollers, history); default the SDK's `pid@host`. */
  identity?: string;
}

/** How the worker takes work, shared with the bench so that it measures what users run. */
export function workerTuning(concurrency = 100) {
  return {
    maxConcurrentActivityTaskExecutions: concurrency,
    // A killed worker's workflows resume on another within seconds: keep the sticky timeout short.
    stickyQueueScheduleToStartTimeout: '3s',
  } as const;
}

export async function createReplupWorker(opts: WorkerOptions = {}) {
  const env = opts.env ?? process.env;
  const { connection, namespace } = await connectWorker(env);
  const portsFor = createPortsFor({
    log: (line) => {
      Runtime.instance().logger.info(line);
    },
  });
  let client: Promise<Client> | undefined;
  const getClient = () => (client ??= connectClient(env));
  const subscriberPortsFor = createSubscriberPortsFor(portsFor);
  const activities = {
    ...createUpgradeActivities(portsFor),
    ...createSetupActivities(portsFor),
    ...createFleetGuardActivities(getClient, portsFor),
    ...createBdbActivities(),
    ...createOpenEdgeActivities({ env }),
    ...createSubscriberActivities(portsFor, subscriberPortsFor),
    ...createNotifyActivities({ env, ...(opts.metrics && { onFailure: opts.metrics.notificationFailed }) }),
    ...createReportActivities(getClient, {
      // A run's end lets go of its lab: `replup lab init` no longer needs this worker stopped.
      runEnded: async (target) => {
        if (target.kind === 'lab' && target.state) await portsFor.release({ kind: 'lab', state: target.state });
      },
    }),
  };
  const worker = await Worker.create({
    connection,
    namespace,
    taskQueue: opts.taskQueue ?? TASK_QUEUE,
    workflowsPath: require.resolve('../workflows/index.ts'),
    activities,
    ...workerTuning(opts.concurrency),
    ...(opts.identity && { identity: opts.identity }),
  });
  return {
    worker,
    connection,
    close: async () => {
      await subscriberPortsFor.close();
      await portsFor.close();
      await connection.close();
    },
  };
}

/**
 * Installs the SDK's runtime: its logger, and its Prometheus exporter when `telemetryOptions` says so
 * (worker/metrics.ts).
 */
export function installLogger(level: LogLevel = 'INFO', telemetryOptions?: RuntimeOptions['telemetryOptions']) {
  Runtime.install({ logger: new DefaultLogger(level), ...(telemetryOptions && { telemetryOptions }) });
}
