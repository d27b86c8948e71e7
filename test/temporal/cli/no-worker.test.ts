// `status` and `watch` when no worker serves the run (a fresh user's report: the worker stopped mid-run): status
// shows what the run last published, labelled, with the exit code of the run's state and a --json document that
// says so; watch keeps watching instead of exiting 1; "Failed to query Workflow" never reaches the user.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, childEnv, labPlanCopy, replup, scratchDir, startWorkerProcess, type Ran } from './replup.js';
import { createNamespace } from './namespace.js';
import type { LastPublished } from '../../../cli/lib/last-published.js';

const scratch = scratchDir('no-worker');
const tag = `${process.pid}-${Date.now().toString(36)}`;
// A namespace of its own: no other test's worker may answer on task queue replup.
const namespace = `no-worker-${tag}`;
const env = childEnv(scratch, { TEMPORAL_NAMESPACE: namespace });
// The lab's users keep a session open until the drain deadline: the run stays at drain-users.
const plan = labPlanCopy(scratch, `NO-WORKER-${tag}`.toUpperCase(), { drainTimeoutSeconds: 600 });
const label = 'as last published; no worker is serving task queue replup — start one: replup worker';
const run = (...args: string[]) => replup(args, env);
const say = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await createNamespace(inject('temporalAddress'), namespace);
  expect((await run('lab', 'init', plan.file)).code).toBe(0);
  const worker = await startWorkerProcess(env);
  try {
    const started = await run('start', plan.file);
    expect(started.code, say(started)).toBe(0);
    // expect.poll() runs inside tests only: wait for drain-users by hand.
    for (let deadline = Date.now() + 60_000; !/^running +drain-users /m.test((await run('list')).stdout);) {
      if (Date.now() > deadline) throw new Error('the run never reached drain-users');
      await sleep(500);
    }
  } finally {
    await worker.stop(); // as an operator stops it (Ctrl-C): the run stays open at drain-users
  }
}, 180_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('no worker serves an open run', () => {
  it('status prints the last-published state, labelled, and exits 0; --json says no worker answered', async () => {
    const [text, json] = await Promise.all([run('status', plan.workflowId), run('status', plan.workflowId, '--json')]);
    expect(text.code, say(text)).toBe(0);
    expect(text.stdout).toContain(`run ${plan.workflowId}: RUNNING at drain-users (${label})`);
    expect(text.stdout).toMatch(/^ {2}preflight +done$/m);
    expect(text.stdout).toMatch(/^ {2}drain-users +running$/m);
    expect(text.stdout).toMatch(/^ {2}restore-service +pending$/m);
    expect(text.stderr).toMatch(/^replup: warning: no worker answered for run \S+ within 10 s$/m);

    expect(json.code, say(json)).toBe(0);
    const doc = JSON.parse(json.stdout) as LastPublished;
    expect(doc).toMatchObject({
      workflowId: plan.workflowId,
      lastPublished: true,
      workerAnswered: false,
      notice: label,
      taskQueue: 'replup',
      status: 'running',
      current: 'drain-users',
    });
    expect(doc.steps?.find((s) => s.id === 'preflight')?.status).toBe('done');
    for (const r of [text, json]) expect(r.stdout + r.stderr).not.toContain('Failed to query Workflow');
  }, 60_000);

  it('watch says so once, shows the last-published state and keeps watching past failed queries', async () => {
    const child = spawn(process.execPath, [BIN, 'watch', plan.workflowId, '--interval', '200'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await expect.poll(() => stderr, { timeout: 30_000, interval: 200 }).toContain('still watching');
      const told = stderr;
      // A second query (10 s) fails too: still watching, nothing more said.
      await sleep(12_000);
      expect(child.exitCode, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBeNull();
      expect(stderr).toBe(told);
      expect(stderr).toMatch(/^replup: no worker answered for run \S+ within 10 s; still watching/m);
      expect(stdout).toContain(`RUNNING at drain-users (${label})`);
      expect(stdout + stderr).not.toContain('Failed to query Workflow');
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('once the run is terminated, status shows it as last published and exits 1', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      await new Client({ connection, namespace }).workflow.getHandle(plan.workflowId).terminate('test over');
    } finally {
      await connection.close();
    }
    const r = await run('status', plan.workflowId);
    expect(r.code, say(r)).toBe(1);
    expect(r.stdout).toContain(`run ${plan.workflowId}: TERMINATED at drain-users (${label})`);
    expect(r.stderr).toContain('(the run has ended: terminated)');
  }, 60_000);
});
