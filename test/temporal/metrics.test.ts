// `replup worker --metrics HOST:PORT` as an operator runs it: a real worker process on the
// suite's dev server, a lab run it serves, and the endpoint scraped while the run waits at its
// approval gate and after it completed: the Temporal SDK's own metrics and replup's, in one text.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab } from '../../activities/lab/index.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import { TASK_QUEUE, type RunResult } from '../../workflows/messages.js';
import { approve, startUpgrade } from '../../cli/lib/runs.js';
import { connect, examplePlan, waitFor } from './harness.js';
import { BIN, childEnv, replup, scratchDir } from './cli/replup.js';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  await env?.teardown();
});

/** The value of one sample line `name{labels} value`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('replup worker --metrics', () => {
  it('an address that is not HOST:PORT is refused before anything starts, with an example', async () => {
    const r = await replup(['worker', '--metrics', '9464'], childEnv(scratchDir('metrics-bad')), 60_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--metrics "9464" is not HOST:PORT: write e.g. --metrics 127.0.0.1:9464 (this machine only) or ' +
        '--metrics 0.0.0.0:9464 (every interface)',
    );
  });

  it(
    "serves the SDK's and replup's metrics during a lab run: runs by status, seconds awaiting a person, sync " +
      'rounds and rows',
    async () => {
      const scratch = scratchDir('metrics');
      const child = spawn(process.execPath, [BIN, 'worker', '--metrics', '127.0.0.1:0'], {
        env: childEnv(scratch),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout.on('data', (d) => (log += d));
      child.stderr.on('data', (d) => (log += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const url = await new Promise<string>((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`the worker did not start within 90 s:\n${log}`)), 90_000);
          const look = () => {
            const m = /metrics at (http:\/\/\S+)/.exec(log);
            if (m) {
              clearTimeout(timer);
              res(m[1]!);
            } else setTimeout(look, 100);
          };
          look();
        });
        const scrape = async () => {
          const r = await fetch(url);
          expect(r.status).toBe(200);
          expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
          return r.text();
        };
        expect((await fetch(url.replace('/metrics', '/'))).status).toBe(404);

        const plan = await examplePlan('lab-small.yaml', (p) => {
          p.options.approvals = ['remove-replication'];
        });
        await initLab(plan, { rows: 20, seed: 42 });
        const workflowId = `${upgradeWorkflowId(plan)}#metrics-${process.pid}`;
        await startUpgrade(env.client, plan, 'test-operator', { taskQueue: TASK_QUEUE, workflowId });
        const waiting = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-approval');
        const syncRounds = waiting.facts.syncRounds as { moved: number; pending: number; conflicts: number }[];
        await new Promise((r) => setTimeout(r, 1_500));

        const during = await scrape();
        // Every status has its line (0 when no run has it), so a dashboard sees zeros, not gaps.
        for (const status of [
          'running',
          'paused',
          'awaiting-operator',
          'awaiting-approval',
          'awaiting-confirmation',
          'completed',
          'aborted',
          'failed',
        ]) {
          expect(sample(during, 'replup_runs', { status }), status).toBeGreaterThanOrEqual(0);
        }
        expect(sample(during, 'replup_metrics_errors_total')).toBe(0);
        const run = { workflow_id: workflowId, runbook: 'em-personalization-upgrade' };
        // The SDK's own, from its exporter (prefix temporal_).
        expect(during).toMatch(/^temporal_\w+/m);
        expect(
          sample(during, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' }),
        ).toBeGreaterThan(0);
        // replup's: this run waits at its gate, for at least the 1.5 s slept.
        expect(sample(during, 'replup_runs', { status: 'awaiting-approval' })).toBeGreaterThanOrEqual(1);
        expect(
          sample(during, 'replup_awaiting_person_seconds', {
            ...run,
            step: 'remove-replication',
            status: 'awaiting-approval',
          }),
        ).toBeGreaterThanOrEqual(1.5);
        expect(sample(during, 'replup_sync_rounds', run)).toBe(syncRounds.length);
        expect(sample(during, 'replup_sync_rows_moved', run)).toBe(syncRounds.reduce((n, r) => n + r.moved, 0));
        expect(sample(during, 'replup_sync_rows_pending', run)).toBe(0);
        expect(sample(during, 'replup_sync_conflicts', run)).toBe(0);
        expect(sample(during, 'replup_run_notification_failures', run)).toBe(0);
        expect(sample(during, 'replup_steps_parked')).toBeGreaterThanOrEqual(0);
        expect(during).toContain('# TYPE replup_notification_failures_total counter');
        const completedBefore = sample(during, 'replup_runs', { status: 'completed' }) ?? 0;

        await approve(env.client, workflowId, 'remove-replication', 'change 4711', 'dba-carl');
        const r = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
        expect(r.status).toBe('completed');
        // Visibility catches up within a moment of the run's end.
        let after = '';
        for (let i = 0; i < 50; i++) {
          after = await scrape();
          if ((sample(after, 'replup_runs', { status: 'completed' }) ?? 0) > completedBefore) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        expect(sample(after, 'replup_runs', { status: 'completed' })).toBe(completedBefore + 1);
        expect(
          sample(after, 'replup_awaiting_person_seconds', {
            ...run,
            step: 'remove-replication',
            status: 'awaiting-approval',
          }),
        ).toBeUndefined();
      } finally {
        if (child.exitCode === null) child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    },
  );
});
