// `replup demo` on a server where something else already uses its names, refused before it starts anything:
// another `replup worker` polling task queue `replup` (a tester's second terminal: it took the demo's tasks and
// held its lab), and a run of the same fleet started by hand on another lab (the demo used to end it).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { BIN, childEnv, labPlanCopy, replup, scratchDir, startWorkerProcess } from './replup.js';
import { createNamespace } from './namespace.js';

const scratch = scratchDir('demo-other-worker');
const tag = `${process.pid}-${Date.now().toString(36)}`;
// One namespace each: a stopped worker is still listed as a poller for about a minute.
const withWorker = `other-worker-${tag}`;
const withRun = `other-run-${tag}`;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(async () => {
  await createNamespace(inject('temporalAddress'), withWorker);
  await createNamespace(inject('temporalAddress'), withRun);
}, 120_000);

/** `replup demo` in the scratch folder, to its end (a refusal ends it within seconds). */
function demo(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, 'demo'], { env, cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGINT'), 90_000); // not refused: stop the demo it started
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

describe('replup demo refuses what would take its tasks or end a run not its own', () => {
  it('another worker on task queue replup: refused, naming the worker and the way out', async () => {
    const env = childEnv(scratch, { TEMPORAL_NAMESPACE: withWorker });
    const worker = await startWorkerProcess(env);
    try {
      const r = await demo(env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^replup: 1 other worker already polls task queue replup at \\S+, namespace ${withWorker} ` +
            `\\(${worker.child.pid}@[^)]+\\): it would take some of the demo's tasks and hold its lab; ` +
            'nothing was started',
          'm',
        ),
      );
      expect(r.stderr).toContain('replup demo --port 7234');
      expect(r.stdout).not.toContain('Lab:'); // no lab re-created, no worker, no run
    } finally {
      await worker.stop();
    }
  });

  it("a run of the demo's fleet started by hand on another lab: refused, and that run goes on", async () => {
    const env = childEnv(scratch, { TEMPORAL_NAMESPACE: withRun });
    const plan = labPlanCopy(scratch, 'LAB-PUB'); // the demo's fleet (LAB-PUB), on a lab of its own
    expect((await replup(['lab', 'init', plan.file], env)).code).toBe(0);
    const started = await replup(['start', plan.file], env);
    expect(started.code, started.stderr).toBe(0);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const handle = new Client({ connection, namespace: withRun }).workflow.getHandle(plan.workflowId);
    try {
      const r = await demo(env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `a run with the demo's workflow id ${plan.workflowId} is already running on the lab ${plan.state}`,
      );
      expect(r.stderr).toContain('the demo does not end a run it did not start; nothing was started');
      expect(r.stderr).toContain(`replup abort '${plan.workflowId}'`);
      expect((await handle.describe()).status.name).toBe('RUNNING');
    } finally {
      await handle.terminate('test over').catch(() => undefined);
      await connection.close();
    }
  });
});
