// `npm run bench [-- --quick]`: what durability costs and what parallelism pays, measured against
// the alternatives in the same run, each figure a median (min–max) over repeated runs. Starts its
// own dev server on free ports, writes bench/results.json, prints a table and, for a full run,
// rewrites the figures section of bench/RESULTS.md. The scenarios are in bench/scenarios/; this
// runner sets up the server and the worker, runs them in order and writes what they measured.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { runbookWorkerParts } from './runbook-worker.js';
import { workerTuning } from '../worker/main.js';
import { freePort, startDevServer, type DevServerHandle } from '../worker/dev-server.js';
import { attributedPortsFor } from './attribution.js';
import {
  BenchUsageError,
  commandLine,
  readConfig,
  runsScenario,
  WORKER_CONCURRENCY,
  type BenchConfig,
} from './config.js';
import { removeFleets } from './fleet.js';
import {
  renderTable,
  summarizeConvergence,
  targets,
  writeResultsMarkdown,
  type Machine,
  type Results,
} from './report.js';
import { fanOut } from './scenarios/fan-out.js';
import { history } from './scenarios/history.js';
import { overhead } from './scenarios/overhead.js';
import { resume } from './scenarios/resume.js';
import type { Scenario, ScenarioContext } from './scenarios/scenario.js';
import type { Convergence } from './workflow-run.js';

const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function machine(): Machine {
  const cpu = cpus();
  return {
    nproc: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGiBAtStart: Math.round((freemem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    shared: 'the machine was shared with other work during the run (see loadAverage)',
  };
}

/**
 * Runs one scenario when the command line asks for it (its progress line always), keeping its
 * figures in results.json as soon as it ends: a late failure keeps the rest.
 */
async function step<R, B>(
  ctx: ScenarioContext,
  s: Scenario<R, B>,
  before: B,
  keep: (key: string, value: unknown) => void,
) {
  log(s.title);
  if (!runsScenario(ctx.config, s.name)) return undefined;
  const result = await s.run(ctx, before);
  keep(s.key, result);
  return result;
}

async function main(config: BenchConfig) {
  const { quick } = config;
  const startedAt = new Date();
  const mach = machine();
  const dir = mkdtempSync(join(tmpdir(), 'replup-bench-'));
  process.env.REPLUP_REPORTS_DIR = join(dir, 'reports');
  const load = mach.loadAverageAtStart.join(' ');
  log(`${quick ? 'quick' : 'full'} run on ${mach.nproc} × ${mach.cpuModel}, load ${load}`);
  let dev: DevServerHandle | undefined;
  let ok = false;
  let stopWorker: (() => Promise<void>) | undefined;
  const onSignal = () =>
    void (async () => {
      await stopWorker?.().catch(() => {});
      await dev?.stop();
      removeFleets();
      process.exit(130);
    })();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // TEMPORAL_ADDRESS points the bench at a server of your own (as with npm test); else its own dev server.
    const external = process.env.TEMPORAL_ADDRESS;
    if (!external) {
      dev = await startDevServer({
        dbFile: join(dir, 'temporal.db'),
        port: await freePort(),
        uiPort: await freePort(),
        logFile: join(dir, 'temporal.log'),
        detached: false,
      });
    }
    const address = external ?? dev!.address;
    log(external ? `Temporal server at ${address} (TEMPORAL_ADDRESS)` : `dev server at ${address}`);
    Runtime.install({ logger: new DefaultLogger('WARN') });
    // A 1000-subscriber parent history comes in pages over gRPC's 4 MiB default receive limit.
    const channelArgs = { 'grpc.max_receive_message_length': 256 * 1024 * 1024 };
    const client = new Client({ connection: await Connection.connect({ address, channelArgs }) });
    const nativeConnection = await NativeConnection.connect({ address });
    const taskQueue = `bench-${process.pid}`;
    const portsFor = attributedPortsFor();
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      ...(await runbookWorkerParts(client, portsFor)),
      ...workerTuning(WORKER_CONCURRENCY),
    });
    const running = worker.run();
    stopWorker = async () => {
      worker.shutdown();
      await running;
      await portsFor.close();
      await nativeConnection.close();
    };

    const conv: Convergence[] = [];
    const ctx: ScenarioContext = { client, taskQueue, address, serverPid: dev?.pid, config, convergence: conv, log };
    const partial: Record<string, unknown> = {
      command: commandLine(config, address !== dev?.address ? address : undefined),
      startedAt: startedAt.toISOString(),
      machine: mach,
      partial: true,
    };
    const keep = (key: string, value: unknown) => {
      partial[key] = value;
      writeFileSync(resolve('bench/results.json'), `${JSON.stringify(partial, null, 2)}\n`);
    };
    const overheadResult = await step(ctx, overhead, undefined, keep);
    const fanOutResult = await step(ctx, fanOut, undefined, keep);
    const historyResult = await step(ctx, history, { fanOut: fanOutResult }, keep);
    const resumeResult = await step(ctx, resume, undefined, keep);
    log('5/5 convergence (from every run above)');
    const convergenceResult = summarizeConvergence(conv);
    await stopWorker();
    stopWorker = undefined;

    const measured = { overhead: overheadResult, fanOut: fanOutResult, history: historyResult, resume: resumeResult };
    const results: Results = {
      command: commandLine(config, external),
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
      machine: { ...mach, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      ...measured,
      convergence: convergenceResult,
      targets: targets({ ...measured, convergence: convergenceResult }),
    };
    writeFileSync(resolve('bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const table = renderTable(results);
    process.stdout.write(`${table}\n\nwritten: bench/results.json\n`);
    if (!quick && !config.only && !config.fanOutSizes) {
      writeResultsMarkdown(table, results);
      process.stdout.write('written: bench/RESULTS.md (figures section)\n');
    }
    ok = true;
  } finally {
    await stopWorker?.().catch(() => {});
    await dev?.stop();
    removeFleets();
    // The dev server's files stay after a failure: its log is in there.
    if (ok) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`the dev server's files and log: ${dir}\n`);
  }
}

let config: BenchConfig;
try {
  config = readConfig(process.argv);
} catch (err) {
  if (!(err instanceof BenchUsageError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
main(config).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
