// Scenario 4, resume after SIGKILL: a `replup worker` process killed in the middle of a sync round
// (the lab kills it right after a merge took effect), and a new one started at once as a
// supervisor would; measured from the kill to the next lab operation.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { readLabState } from '../../activities/lab/index.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import { subscriptions } from '../../plan/personalization-upgrade/fleet.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { TASK_QUEUE, type RunResult } from '../../workflows/messages.js';
import { FANOUT_LATENCY_MS } from '../config.js';
import { createFleet } from '../fleet.js';
import { summarize, type Summary } from '../stats.js';
import { convergence } from '../workflow-run.js';
import { scenario, type ScenarioContext } from './scenario.js';

export interface ResumeResult {
  fleet: string;
  /** SIGKILL → the next lab operation. */
  resumeMs: Summary;
  /** Start of the new worker process → it serves. */
  workerRestartMs: Summary;
  runWallMs: Summary;
}

/** Subscribers of the resume fleet. */
const SUBSCRIBERS = 4;

/**
 * Where the worker is killed: the 2nd Data merge of sync round 1 (`runMergeAgent:<n>`, REPLUP_LAB_CRASH_AT),
 * counted from the plan: a round merges every Config subscription first (plan/personalization-upgrade/fleet.ts).
 */
export function resumeCrashPoint(plan: UpgradePlan): string {
  return `runMergeAgent:${subscriptions(plan, 'Config').length + 2}`;
}

interface WorkerProcess {
  child: ChildProcess;
  /** ms until it serves its task queue. */
  ready: Promise<number>;
  exited: Promise<NodeJS.Signals | number | null>;
}

function startWorkerProcess(address: string, env: Record<string, string>): WorkerProcess {
  const t0 = Date.now();
  const child = spawn(process.execPath, [resolve('cli/bin.mjs'), 'worker'], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const ready = new Promise<number>((res, rej) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/serving task queue/.test(stderr)) res(Date.now() - t0);
    });
    child.once('exit', (code, signal) =>
      rej(new Error(`the worker exited (${signal ?? code}) before serving: ${stderr.slice(-2000)}`)),
    );
  });
  ready.catch(() => {});
  const exited = new Promise<NodeJS.Signals | number | null>((res) =>
    child.once('exit', (code, signal) => res(signal ?? code)),
  );
  return { child, ready, exited };
}

async function stopWorkerProcess(w: { child: ChildProcess; exited: Promise<unknown> }): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 20_000, 'timeout'));
  if ((await Promise.race([w.exited, timeout])) === 'timeout') w.child.kill('SIGKILL');
}

export const resume = scenario('resume', 'resume', '4/5 resume after SIGKILL', measureResume);

async function measureResume(ctx: ScenarioContext): Promise<ResumeResult> {
  const { client, address } = ctx;
  const samples: { resumeMs: number; restartMs: number; wallMs: number }[] = [];
  let crashAt = '';
  for (let rep = 0; rep < ctx.config.sizes.resumeReps; rep++) {
    // The product's retry policy (2 s first retry), not the tests' fast one.
    const fleet = { subscribers: SUBSCRIBERS, maxParallel: 4, latencyMs: FANOUT_LATENCY_MS };
    const { plan, statePath } = await createFleet(`resume${rep}`, fleet);
    crashAt = resumeCrashPoint(plan);
    const [op, nth] = crashAt.split(':') as [string, string];
    const first = startWorkerProcess(address, { REPLUP_LAB_CRASH_AT: crashAt });
    let second: WorkerProcess | undefined;
    try {
      await first.ready;
      const workflowId = `bench-resume-${process.pid}-${rep}`;
      const t0 = Date.now();
      const started = await startUpgrade(client, plan, 'bench', { taskQueue: TASK_QUEUE, workflowId });
      const how = await first.exited;
      if (how !== 'SIGKILL') throw new Error(`the worker was to be killed at ${crashAt} but exited with ${how}`);
      // A supervisor (systemd, a container restart policy) starts the worker again at once.
      second = startWorkerProcess(address, {});
      const restartMs = await second.ready;
      const result = (await client.workflow.getHandle(workflowId, started.runId).result()) as RunResult;
      const wallMs = Date.now() - t0;
      if (result.status !== 'completed') throw new Error(`resume run ended ${result.status}: ${result.outcome}`);
      const lab = readLabState(statePath);
      ctx.convergence.push(convergence({ result, lab, plan }));
      const killedAt = lab.accounting.filter((e) => e.op === op)[Number(nth) - 1];
      if (!killedAt) throw new Error(`the lab's accounting has no ${crashAt}`);
      const next = lab.accounting.find((e) => e.start > killedAt.end);
      if (!next) throw new Error('no lab operation after the kill');
      samples.push({ resumeMs: next.start - killedAt.end, restartMs, wallMs });
      ctx.log(
        `resume rep ${rep + 1}: next lab operation ${next.op} ${next.start - killedAt.end} ms after the kill ` +
          `(worker ready after ${restartMs} ms)`,
      );
    } finally {
      await stopWorkerProcess(first);
      if (second) await stopWorkerProcess(second);
    }
  }
  return {
    fleet:
      `1 publisher, ${SUBSCRIBERS} subscribers, lab latency ${FANOUT_LATENCY_MS} ms, the product's retry policy, ` +
      `worker killed with SIGKILL at ${crashAt} (sync-until-quiet)`,
    resumeMs: summarize(samples.map((s) => s.resumeMs)),
    workerRestartMs: summarize(samples.map((s) => s.restartMs)),
    runWallMs: summarize(samples.map((s) => s.wallMs)),
  };
}
