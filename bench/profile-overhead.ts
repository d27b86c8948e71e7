// `npx tsx bench/profile-overhead.ts [server …]`: where the per-activity overhead of a sequential
// run goes. Runs the runbook (1 publisher, 4 subscribers, lab latency 0, maxParallel 1) and a
// workflow of no-op activities on dev servers started with different settings (default: `stock`,
// the CLI's dev server as it comes, and `replup`, as worker/dev-server.ts starts it; see SERVERS
// below, or `dc:KEY=VALUE,KEY=VALUE` for other dynamic config values), and splits each step from
// one activity to the next into: queue (scheduled → started), run (started → completed), and the
// workflow's reaction (completed → workflow task scheduled → started by the worker → completed →
// next activity).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { runbookWorkerParts } from './runbook-worker.js';
import type { HistoryEvent } from '../activities/report/build.js';
import { createPortsFor } from '../worker/ports.js';
import {
  DEV_SERVER_TUNING,
  SEARCH_ATTRIBUTES,
  answers,
  freePort,
  prepareNamespace,
  stopPid,
} from '../worker/dev-server.js';
import { resolveTemporalCli } from '../worker/temporal-cli.js';
import { startUpgrade } from '../cli/lib/runs.js';
import { createFleet, removeFleets } from './fleet.js';
import { summarize } from './stats.js';

const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

/** Median ms per phase over every activity → next activity step of one history. */
function phases(events: HistoryEvent[]) {
  const out = {
    queue: [] as number[],
    run: [] as number[],
    toTaskScheduled: [] as number[],
    toTaskStarted: [] as number[],
    taskRun: [] as number[],
    toNextActivity: [] as number[],
    step: [] as number[],
  };
  let lastCompleted: number | undefined;
  let wftScheduled: number | undefined;
  let wftStarted: number | undefined;
  let wftCompleted: number | undefined;
  const scheduledAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  for (const ev of events) {
    const t = tsMs(ev.eventTime);
    if (ev.workflowTaskScheduledEventAttributes) wftScheduled = t;
    if (ev.workflowTaskStartedEventAttributes) wftStarted = t;
    if (ev.workflowTaskCompletedEventAttributes) wftCompleted = t;
    if (ev.activityTaskScheduledEventAttributes) {
      scheduledAt.set(String(ev.eventId), t);
      if (
        lastCompleted !== undefined &&
        wftScheduled !== undefined &&
        wftStarted !== undefined &&
        wftCompleted !== undefined &&
        wftScheduled >= lastCompleted
      ) {
        out.toTaskScheduled.push(wftScheduled - lastCompleted);
        out.toTaskStarted.push(wftStarted - wftScheduled);
        out.taskRun.push(wftCompleted - wftStarted);
        out.toNextActivity.push(t - wftCompleted);
        out.step.push(t - lastCompleted);
      }
      lastCompleted = undefined;
    }
    const st = ev.activityTaskStartedEventAttributes;
    if (st) startedAt.set(String(st.scheduledEventId), t);
    const c = ev.activityTaskCompletedEventAttributes;
    if (c) {
      const s = scheduledAt.get(String(c.scheduledEventId))!;
      const started = startedAt.get(String(c.scheduledEventId)) ?? s;
      out.queue.push(started - s);
      out.run.push(t - started);
      lastCompleted = t;
    }
  }
  const med = (xs: number[]) => (xs.length ? Math.round(summarize(xs).median * 10) / 10 : NaN);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, med(v)]));
}

async function devServer(dir: string, extra: string[]) {
  const cli = resolveTemporalCli({});
  const port = await freePort();
  const out = openSync(join(dir, 'temporal.log'), 'a');
  const inMemory = extra.includes('--in-memory');
  extra = extra.filter((a) => a !== '--in-memory');
  const child = spawn(
    cli.path,
    [
      'server',
      'start-dev',
      ...(inMemory ? [] : ['--db-filename', join(dir, 'temporal.db')]),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--headless',
      '--log-level',
      'warn',
      ...SEARCH_ATTRIBUTES.flatMap((n) => ['--search-attribute', `${n}=Keyword`]),
      ...extra,
    ],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await answers(address))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`dev server did not start; see ${dir}/temporal.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  await prepareNamespace(address);
  return { address, stop: () => stopPid(child.pid) };
}

async function profile(label: string, extra: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'replup-profile-'));
  process.env.REPLUP_REPORTS_DIR = join(dir, 'reports');
  const server = await devServer(dir, extra);
  const connection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const portsFor = createPortsFor({ targets: ['lab'] });
  const workers = [
    await Worker.create({
      connection,
      taskQueue: 'profile-runbook',
      ...(await runbookWorkerParts(client, portsFor)),
      stickyQueueScheduleToStartTimeout: '3s',
    }),
    await Worker.create({
      connection,
      taskQueue: 'profile-noop',
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: resolve('bench/probe-workflow.ts'),
        logger: new DefaultLogger('WARN'),
      }),
      activities: { noop: async () => {} },
    }),
  ];
  const running = workers.map((w) => w.run());
  try {
    const rows: Record<string, unknown>[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const { plan } = await createFleet(`profile${rep}`, { subscribers: 4, maxParallel: 1, latencyMs: 0 });
      const id = `profile-runbook-${Date.now()}`;
      let t0 = Date.now();
      await startUpgrade(client, plan, 'profile', { taskQueue: 'profile-runbook', workflowId: id });
      await client.workflow.getHandle(id).result();
      const runbookMs = Date.now() - t0;
      const runbook = phases((await client.workflow.getHandle(id).fetchHistory()).events ?? []);
      const noopId = `profile-noop-${Date.now()}`;
      t0 = Date.now();
      await client.workflow.execute('sequentialNoops', { taskQueue: 'profile-noop', workflowId: noopId, args: [131] });
      const noopMs = Date.now() - t0;
      const noop = phases((await client.workflow.getHandle(noopId).fetchHistory()).events ?? []);
      rows.push({
        server: label,
        rep: rep + 1,
        runbookMs,
        runbookPerActivity: Math.round(runbookMs / 132),
        ...prefix('runbook', runbook),
        noopMs,
        noopPerActivity: Math.round(noopMs / 131),
        ...prefix('noop', noop),
      });
    }
    return rows;
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await portsFor.close();
    await connection.close();
    await server.stop();
    removeFleets();
  }
}

const prefix = (p: string, o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}.${k}`, v]));

Runtime.install({ logger: new DefaultLogger('WARN') });
const EAGER = ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];
const SERVERS: Record<string, string[]> = {
  // `temporal server start-dev` as it comes
  stock: [],
  // as `replup dev`, the tests and the bench start it (worker/dev-server.ts)
  replup: DEV_SERVER_TUNING,
  'stock + eager activities': EAGER,
  'replup + eager activities': [...DEV_SERVER_TUNING, ...EAGER],
  'stock in memory': ['--in-memory'],
  'stock + sqlite WAL': ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
};
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : ['stock', 'replup'];
for (const name of chosen) {
  if (name.startsWith('dc:'))
    SERVERS[name] = name
      .slice(3)
      .split(',')
      .flatMap((kv) => ['--dynamic-config-value', kv]);
}
const rows: Record<string, unknown>[] = [];
for (const name of chosen) {
  if (!SERVERS[name]) throw new Error(`unknown server "${name}"; one of: ${Object.keys(SERVERS).join(', ')}`);
  rows.push(...(await profile(name, SERVERS[name])));
}
console.log(JSON.stringify(rows, null, 1));
process.exit(0);
