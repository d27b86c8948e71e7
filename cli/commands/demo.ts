// `replup demo` (`npm run demo`): the whole product on a simulated fleet, unattended. Starts the
// dev server if none answers, creates a fresh lab from examples/lab-small.yaml (or --plan, another
// lab upgrade plan), runs a worker in this process (with --metrics, serving Prometheus metrics as
// `replup worker --metrics` does), launches the upgrade, watches it, checks the lab's invariants,
// and says where the Web UI and the report are. Exit 0 only when the run completed and every
// invariant holds. `--runbook NAME` runs another runbook's example plan on its own fresh lab instead
// (cli/lib/demo-runbooks.ts), approving its gates as the demo's operator.
import { fileURLToPath } from 'node:url';
import { relative, resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { ensureDevServer } from '../../worker/dev-server.js';
import { initLab, LabStateError } from '../../activities/lab/index.js';
import { planTarget } from '../../activities/report/index.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import { TASK_QUEUE, type RunResult } from '../../workflows/messages.js';
import { otherWorkers } from '../lib/other-workers.js';
import { count } from '../../common/count.js';
import { defaultActor, startUpgrade, uiUrl, wholeNumber } from '../lib/runs.js';
import { readPlanOrFail } from '../lib/plan-input.js';
import { hostPortOption, serveWorker } from '../lib/serve-worker.js';
import type { HostPort } from '../../worker/metrics.js';
import type { AnyPlan } from '../../plan/registry.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { followRun } from '../lib/follow.js';
import { labCheck } from './lab.js';
import { EXIT, UserError } from '../errors.js';
import { Reporter, type Streams } from '../lib/reporter.js';
import { DEMO_NAMES, demoCheck, demoRunbook, demoRunbookPlan, followApproving } from '../lib/demo-runbooks.js';

export const DEMO_PLAN = fileURLToPath(new URL('../../examples/lab-small.yaml', import.meta.url));

export interface DemoOptions {
  actor?: string;
  /** Where it writes (default the process's stdout and stderr). */
  io?: Streams;
  /** The dev server's gRPC and Web UI ports (default 7233, and gRPC + 1000), as `replup dev --port/--ui-port`. */
  port?: number;
  uiPort?: number;
  /** The plan to run instead of examples/lab-small.yaml: a Personalization Server upgrade on the lab. */
  plan?: string;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics from the demo's worker (port 0: a free one). */
  metrics?: HostPort;
  /** `upgrade` (the default) or another runbook (DEMO_NAMES), run with its example plan. */
  runbook?: string;
}

/** The demo re-creates the plan's lab and runs it unattended: only a lab upgrade plan will do. */
function demoPlan(plan: AnyPlan, shown: string): UpgradePlan & { target: { kind: 'lab' } } {
  const fix =
    `make one with replup plan new demo.yaml (examples/lab-small.yaml for this folder; set options.approvals: ` +
    `[] to run it unattended), then replup demo --plan demo.yaml`;
  if (plan.runbook !== 'em-personalization-upgrade') {
    throw new UserError(
      `${shown} is a plan of runbook ${plan.runbook}: replup demo runs the Personalization Server upgrade ` +
        `(runbook: em-personalization-upgrade) on a lab; nothing was started`,
      [fix],
    );
  }
  if (plan.target.kind !== 'lab') {
    throw new UserError(
      `${shown} targets ${plan.target.kind}, not a lab: replup demo re-creates the plan's lab (target: { ` +
        `kind: lab, state: FILE }) and never runs against real servers; nothing was started`,
      [fix],
    );
  }
  return plan as UpgradePlan & { target: { kind: 'lab' } };
}

/** A previous demo's run of the same fleet that is still open would refuse the new one: end it. */
/**
 * A run with the demo's workflow id still open on this server: ended when it runs on the lab the demo is about
 * to re-create (a previous demo, interrupted), since that lab is gone anyway; refused otherwise (a run someone
 * started by hand on another lab of the same fleet: the demo must not end it, nor leave its lab drained).
 */
async function endPreviousRun(
  client: Client,
  workflowId: string,
  statePath: string,
  say: (line: string) => void,
): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch {
    return; // never ran on this server
  }
  if (status !== 'RUNNING') return;
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const target = planTarget(history?.events ?? []);
  if (target?.kind !== 'lab' || !target.state || resolve(target.state) !== resolve(statePath)) {
    const where = target?.kind === 'lab' ? `on the lab ${target.state}` : `on ${target?.kind ?? 'another target'}`;
    throw new UserError(
      `a run with the demo's workflow id ${workflowId} is already running ${where}, not on the demo's lab ` +
        `${statePath}: the demo does not end a run it did not start; nothing was started`,
      [
        `let it finish, or abort it (its abort cleans up): replup abort '${workflowId}' --reason "…"`,
        'or run the demo on a server of its own: replup demo --port 7234',
      ],
    );
  }
  await handle.terminate('replaced by a new `replup demo` run (the demo re-creates its lab)');
  say(`Ended the previous demo run ${workflowId} (terminated; its history stays in the Web UI).`);
}

export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const out = new Reporter(false, opts.io);
  const say = (line: string) => out.line(line);
  // Refused before anything starts: an unknown runbook, or --plan with another runbook.
  const other = demoRunbook(opts.runbook, opts.plan !== undefined);
  const planFile = opts.plan ?? other?.plan ?? DEMO_PLAN;
  const shown = relative(process.cwd(), planFile) || planFile;

  const ports = opts.port !== undefined || opts.uiPort !== undefined;
  if (ports && process.env.TEMPORAL_ADDRESS) {
    throw new UserError(
      `--port/--ui-port pick the dev server the demo starts, but TEMPORAL_ADDRESS=` +
        `${process.env.TEMPORAL_ADDRESS} names a server already`,
      [
        'use that server: replup demo (without --port)',
        "or a dev server of the demo's own: unset TEMPORAL_ADDRESS, then replup demo --port 7234 --ui-port 8234",
      ],
      EXIT.usage,
    );
  }
  // Before anything starts: a plan the demo cannot run is refused with nothing changed.
  const read = await readPlanOrFail(planFile);
  const otherPlan = other && demoRunbookPlan(other, read, shown);
  const plan = otherPlan ? undefined : demoPlan(read, shown);
  const statePath = (otherPlan ?? plan!).target.state;
  let env = process.env;
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = opts.port ?? 7233;
    const dev = await ensureDevServer({
      port,
      uiPort: opts.uiPort,
      log: (line) => out.note(line),
    });
    say(
      dev.status === 'reused'
        ? `Temporal server: reusing the one at ${dev.address}`
        : `Temporal server: started the dev server at ${dev.address}, Web UI ${dev.uiUrl} (pid ${dev.pid}; ` +
            `stop it with replup dev stop)`,
    );
    // The client and the in-process worker both talk to the server just chosen.
    env = { ...process.env, TEMPORAL_ADDRESS: dev.address };
  }
  const client = await connectClient(env);
  await refuseOtherWorkers(client, env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233');
  const workflowId = other ? other.workflowId(otherPlan as never) : upgradeWorkflowId(plan!);
  await endPreviousRun(client, workflowId, statePath, say);

  try {
    if (other) say(`Lab: ${await other.prepare(otherPlan as never)} at ${relative(process.cwd(), statePath)}`);
    else {
      const { state } = await initLab(plan!, { force: true });
      say(
        `Lab: ${state.name} at ${relative(process.cwd(), statePath)} (${Object.keys(state.databases).length} ` +
          `databases, ${Object.keys(state.hosts).length} personalization servers, from ${plan!.from} to ` +
          `${plan!.to})`,
      );
    }
  } catch (err) {
    if (err instanceof LabStateError) throw new UserError(err.message);
    throw err;
  }

  say('Worker: starting in this process (bundling the workflows takes a few seconds)...');
  // Its notifications resolve their env:/file: webhook references in this process's environment.
  const served = await serveWorker({
    name: 'replup demo',
    identity: DEMO_IDENTITY,
    report: out,
    env,
    logLevel: 'WARN',
    ...(opts.metrics && { metrics: opts.metrics }),
  });
  const { worker } = served;
  const running = worker.run();
  let stopped = false;
  const stopWorker = async () => {
    if (stopped) return;
    stopped = true;
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await served.close();
  };
  // Ctrl-C: the run lives on in Temporal; a worker started later resumes it.
  const interrupt = () => {
    out.note(`\nreplup demo: interrupted; the run ${workflowId} goes on once a worker serves it (replup worker)`);
    void stopWorker().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);

  try {
    if (served.metricsUrl) say(`Metrics: ${served.metricsUrl}`);
    const actor = opts.actor ?? defaultActor();
    const started = other
      ? await other.start(client, otherPlan as never, actor)
      : await startUpgrade(client, plan!, actor);
    say(`Run: ${started.workflowId}\n  Web UI: ${started.url}\n`);
    // Another runbook's gates are the point of its demo: the demo approves them, saying so.
    const code = other
      ? await followApproving(client, started.workflowId, actor, out)
      : await followRun(client, started.workflowId, {
          render: true,
          out: out.streams.stdout,
          err: out.streams.stderr,
        });
    if (code === EXIT.waiting) {
      say(`\nThe demo stops here: the run waits for an operator. Keep a worker running (replup worker) and answer it.`);
      return code;
    }
    // `completed` is set before the workflow writes its report: its result carries the paths.
    const result = (await client.workflow.getHandle(started.workflowId).result()) as RunResult;
    await stopWorker();

    say('\nLab check:');
    const check = other
      ? ((c) => ({ text: c.text, exitCode: c.ok ? EXIT.ok : EXIT.failed }))(demoCheck(other, otherPlan!, statePath))
      : await labCheck({ state: statePath });
    out.text(check.text.replace(/^(?=.)/gm, '  '));

    const report = result.progress.facts.report as { markdown: string; json: string } | undefined;
    const reportError = result.progress.facts.reportError;
    const whyNot = typeof reportError === 'string' ? reportError : 'unknown reason';
    say('');
    say(`Web UI:  ${uiUrl(client, started.workflowId)}`);
    say(
      report
        ? `Report:  ${relative(process.cwd(), report.markdown)}`
        : `Report:  not written (${whyNot}); rebuild it ` + `with replup report '${started.workflowId}'`,
    );
    if (result.status !== 'completed') {
      say(`The run ended ${result.status}: ${result.outcome}`);
      return EXIT.failed;
    }
    return check.exitCode === EXIT.ok ? EXIT.ok : EXIT.failed;
  } finally {
    process.removeListener('SIGINT', interrupt);
    await stopWorker();
    await client.connection.close();
  }
}

export const registerDemo: Register = (program, setExit, io) => {
  program
    .command('demo')
    .description('Upgrade a simulated fleet end to end: dev server, lab, worker, run, watch, lab check')
    .option('--actor <name>', 'who starts the run (recorded)', defaultActor())
    .option(
      '--port <port>',
      "the dev server's frontend gRPC port (default 7233; started there, or reused if one answers)",
      wholeNumber('--port', 1),
    )
    .option('--ui-port <port>', "the dev server's Web UI port (default: --port + 1000)", wholeNumber('--ui-port', 1))
    .option(
      '--plan <file>',
      'run another lab upgrade plan (runbook em-personalization-upgrade, target kind lab) instead of ' +
        "examples/lab-small.yaml; the demo re-creates that plan's lab state (as lab init --force)",
    )
    .option(
      '--metrics <host:port>',
      "serve Prometheus metrics from the demo's worker at http://HOST:PORT/metrics, as replup worker --metrics does",
      hostPortOption,
    )
    .option(
      '--runbook <name>',
      `run another runbook on a fresh lab with its example plan, approving its gates: ${DEMO_NAMES.join(', ')} ` +
        '(default upgrade)',
    )
    .action(
      async (opts: {
        actor: string;
        port?: number;
        uiPort?: number;
        plan?: string;
        metrics?: HostPort;
        runbook?: string;
      }) =>
        setExit(
          await runDemo({
            actor: opts.actor,
            port: opts.port,
            uiPort: opts.uiPort,
            plan: opts.plan,
            metrics: opts.metrics,
            runbook: opts.runbook,
            io,
          }),
        ),
    );
};

/** The demo's own worker says so on the server: a demo that ended a moment ago is no other worker. */
const DEMO_IDENTITY = `replup-demo-${process.pid}@${hostname()}`;
const isDemoWorker = (identity: string) => identity.startsWith('replup-demo-');

/**
 * Refused, before anything starts, when other workers already poll task queue `replup` here: Temporal gives each
 * task to whichever worker asks first, so they would run part of the demo, holding its lab while the demo's own
 * worker waits, and one started in another folder runs with that folder's files. The workers of earlier demos
 * (stopped when they ended) do not count. Nothing is said when the server cannot be asked.
 */
async function refuseOtherWorkers(client: Client, address: string): Promise<void> {
  const others = (await otherWorkers(client, TASK_QUEUE).catch(() => [])).filter((id) => !isDemoWorker(id));
  if (!others.length) return;
  throw new UserError(
    `${count(others.length, 'other worker')} already ${others.length === 1 ? 'polls' : 'poll'} task queue ` +
      `${TASK_QUEUE} at ${address}, namespace ${client.options.namespace} (${others.join(', ')}): ` +
      `${others.length === 1 ? 'it' : 'they'} would take some of the demo's tasks and hold its lab; ` +
      'nothing was started',
    [
      `stop ${others.length === 1 ? 'it' : 'them'}, then run the demo again (a worker stopped less than a minute ` +
        'ago still shows here: try again in a minute)',
      'or give the demo a server of its own: replup demo --port 7234',
    ],
  );
}
