// `replup worker --metrics HOST:PORT`: one Prometheus endpoint with both sets of metrics.
//
// - The Temporal SDK's own (worker task slots, poll and task latencies, …): the SDK's Rust core
//   serves them from its own Prometheus exporter (Runtime.install({ telemetryOptions: { metrics:
//   { prometheus: { bindAddress } } } }), @temporalio/worker 1.24 runtime-options.d.ts), here bound
//   to a free port on 127.0.0.1 and read by this endpoint at each scrape.
// - replup's (prefix `replup_`), from a prom-client registry: runs by status and steps parked
//   (counted in Temporal's visibility by the ReplupStatus search attribute), and per open run the
//   seconds a person has been awaited, sync rounds, rows moved and pending, conflicts and
//   undelivered notifications (from each run's `progress` query); notification failures seen by
//   this worker (a counter). Visibility and queries are read at scrape time for the runs on this
//   worker's task queue, so every worker of a queue reports the same run gauges.
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Client } from '@temporalio/client';
import { progressQuery } from '../workflows/messages.js';
import { ENDED_BY_REPLUP, OPEN_STATUSES, waitingStep } from '../common/run-status.js';
import type { NotifyTarget } from '../plan/notify.js';
import type { NotifyEvent } from '../activities/notify/event.js';

export interface HostPort {
  host: string;
  port: number;
}

/** `HOST:PORT` (IPv6 as `[::1]:9464`); port 0 picks a free one. */
export function parseHostPort(text: string): HostPort {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port > 65535) {
    throw new Error(
      `--metrics "${text}" is not HOST:PORT: write e.g. --metrics 127.0.0.1:9464 (this machine only) or ` +
        `--metrics 0.0.0.0:9464 (every interface)`,
    );
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** A port free on 127.0.0.1 now, for the SDK's exporter (it takes an address, not a listener). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((done, fail) => server.once('error', fail).listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The telemetry options that make the SDK's runtime export Prometheus metrics at `bindAddress`. */
export function sdkPrometheus(bindAddress: string) {
  return { metrics: { prometheus: { bindAddress } } };
}

// Open runs are counted by replup's status (OPEN_STATUSES); ended ones too (ENDED_BY_REPLUP).
/** At most this many open runs are queried per scrape, each within QUERY_MS. */
const MAX_RUNS = 100;
const QUERY_MS = 2_000;

interface SyncRound {
  moved: number;
  conflicts: number;
  pending: number;
}

export interface ReplupMetrics {
  registry: Registry;
  /**
   * Reads the run gauges from Temporal; the endpoint calls it before each rendering (not a
   * prom-client collect hook: those run concurrently, and a reset in one would race the others).
   */
  refresh(): Promise<void>;
  /** For createNotifyActivities' onFailure. */
  notificationFailed(target: NotifyTarget, event: NotifyEvent, final: boolean): void;
}

/** replup's metrics over the runs of `taskQueue`, read from Temporal at each scrape. */
export function createReplupMetrics(
  client: () => Promise<Client>,
  taskQueue: string,
  onError: (err: unknown) => void = () => {},
): ReplupMetrics {
  const registry = new Registry();
  const q = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
  const inQueue = `TaskQueue = ${q(taskQueue)}`;

  const runs = new Gauge({
    name: 'replup_runs',
    help: 'replup runs by status (open runs by their current status; ended runs within the namespace retention)',
    labelNames: ['status'],
    registers: [registry],
  });
  const parked = new Gauge({
    name: 'replup_steps_parked',
    help: 'open runs with a step parked for an operator (awaiting-operator)',
    registers: [registry],
  });
  const perRun = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['workflow_id', 'runbook'], registers: [registry] });
  const awaiting = new Gauge({
    name: 'replup_awaiting_person_seconds',
    help: 'seconds an open run has waited for a person (parked step, gate, manual step)',
    labelNames: ['workflow_id', 'runbook', 'step', 'status'],
    registers: [registry],
  });
  const rounds = perRun('replup_sync_rounds', 'sync rounds of the run so far (sync-until-quiet)');
  const moved = perRun('replup_sync_rows_moved', "rows moved by the run's sync rounds, uploads and downloads");
  const pending = perRun('replup_sync_rows_pending', "rows pending after the run's last sync round");
  const conflicts = perRun('replup_sync_conflicts', "conflicts the run's sync rounds met");
  const runNotifyFailures = perRun(
    'replup_run_notification_failures',
    'notifications of the run not delivered after their retries',
  );
  const notifyFailures = new Counter({
    name: 'replup_notification_failures_total',
    help: 'notifications this worker could not deliver after their last attempt',
    labelNames: ['target', 'kind', 'event'],
    registers: [registry],
  });
  const notifyAttempts = new Counter({
    name: 'replup_notification_attempts_failed_total',
    help: 'failed delivery attempts of notifications on this worker (retried until the last)',
    labelNames: ['target', 'kind'],
    registers: [registry],
  });
  const scrapeErrors = new Counter({
    name: 'replup_metrics_errors_total',
    help: 'scrapes that could not read Temporal (the run gauges are then missing)',
    registers: [registry],
  });

  const count = async (c: Client, query: string) => Number((await c.workflow.count(query)).count);

  async function collectFromTemporal(): Promise<void> {
    for (const g of [runs, parked, awaiting, rounds, moved, pending, conflicts, runNotifyFailures]) g.reset();
    try {
      const c = await client();
      await Promise.all([
        ...OPEN_STATUSES.map(async (s) =>
          runs.set(
            { status: s },
            await count(c, `${inQueue} AND ExecutionStatus = "Running" AND ReplupStatus = ${q(s)}`),
          ),
        ),
        ...ENDED_BY_REPLUP.map(async (s) =>
          runs.set({ status: s }, await count(c, `${inQueue} AND ReplupStatus = ${q(s)}`)),
        ),
      ]);
      const open: { workflowId: string }[] = [];
      for await (const w of c.workflow.list({
        query: `${inQueue} AND ExecutionStatus = "Running" AND ReplupStatus IN (${OPEN_STATUSES.map(q).join(', ')})`,
      })) {
        open.push({ workflowId: w.workflowId });
        if (open.length >= MAX_RUNS) break;
      }
      const progresses = await Promise.all(
        open.map((w) =>
          c
            .withDeadline(Date.now() + QUERY_MS, () => c.workflow.getHandle(w.workflowId).query(progressQuery))
            .catch(() => undefined),
        ),
      );
      let parkedNow = 0;
      progresses.forEach((p, i) => {
        if (!p) return;
        const labels = { workflow_id: open[i]!.workflowId, runbook: p.runbook };
        const waiting = waitingStep(p.steps);
        if (waiting?.status === 'awaiting-operator') parkedNow += 1;
        const since = p.awaitingSince;
        if (waiting && since)
          awaiting.set(
            { ...labels, step: waiting.id, status: waiting.status },
            Math.max(0, (Date.now() - Date.parse(since)) / 1000),
          );
        const sync = (p.facts.syncRounds as SyncRound[] | undefined) ?? [];
        if (sync.length) {
          rounds.set(labels, sync.length);
          moved.set(
            labels,
            sync.reduce((n, r) => n + r.moved, 0),
          );
          pending.set(labels, sync[sync.length - 1]!.pending);
          conflicts.set(
            labels,
            sync.reduce((n, r) => n + r.conflicts, 0),
          );
        }
        runNotifyFailures.set(labels, ((p.facts.notificationFailures as unknown[] | undefined) ?? []).length);
      });
      parked.set(parkedNow);
    } catch (err) {
      scrapeErrors.inc();
      onError(err);
    }
  }

  return {
    registry,
    refresh: collectFromTemporal,
    notificationFailed(target, event, final) {
      notifyAttempts.inc({ target: target.name, kind: target.kind });
      if (final) notifyFailures.inc({ target: target.name, kind: target.kind, event: event.event });
    },
  };
}

export interface MetricsEndpoint {
  /** http://HOST:PORT/metrics as bound (port 0 resolved). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves GET /metrics: replup's registry, then the SDK exporter's text (fetched from `sdkUrl`).
 * The two never share a metric name (`replup_` and `temporal_`), so one exposition holds both.
 */
export async function serveMetrics(
  at: HostPort,
  metrics: ReplupMetrics,
  sdkUrl: string | undefined,
): Promise<MetricsEndpoint> {
  let scrapes: Promise<void> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('replup serves Prometheus metrics at /metrics\n');
      return;
    }
    // One scrape at a time: a refresh resets the run gauges another scrape may be rendering.
    const render = async () => {
      await metrics.refresh();
      const own = await metrics.registry.metrics();
      let sdk = '';
      if (sdkUrl) {
        sdk = await fetch(sdkUrl, { signal: AbortSignal.timeout(5_000) })
          .then((r) => r.text())
          .catch(
            (err: unknown) =>
              `# the Temporal SDK's metrics could not be read from ${sdkUrl}: ${(err as Error).message}\n`,
          );
      }
      res
        .writeHead(200, { 'content-type': metrics.registry.contentType })
        .end(`${own.endsWith('\n') ? own : `${own}\n`}${sdk}`);
    };
    scrapes = scrapes.then(render).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`replup metrics failed: ${(err as Error).message}\n`);
    });
  });
  await new Promise<void>((done, fail) => server.once('error', fail).listen(at.port, at.host, done));
  const { port } = server.address() as AddressInfo;
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  return { url: `http://${host}:${port}/metrics`, close: () => new Promise((done) => server.close(() => done())) };
}
