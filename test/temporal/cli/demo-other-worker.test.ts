// `replup demo` while another `replup worker` already polls task queue `replup` (a tester's second terminal):
// Temporal hands tasks to whichever worker asks first, so the demo says so before it starts anything.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, childEnv, scratchDir, startWorkerProcess } from './replup.js';
import { createNamespace } from './namespace.js';

const scratch = scratchDir('demo-other-worker');
const namespace = `other-worker-${process.pid}-${Date.now().toString(36)}`;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
beforeAll(() => createNamespace(inject('temporalAddress'), namespace), 120_000);

/** Runs `replup demo` until its stderr matches `until` (then interrupts it) or it exits; returns its stderr. */
function demoUntil(env: NodeJS.ProcessEnv, until: RegExp): Promise<string> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, 'demo'], { env, cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      // The warning comes before the lab is made or a run started: interrupting here changes nothing.
      if (until.test(stderr)) child.kill('SIGINT');
    });
    child.on('close', () => {
      clearTimeout(timer);
      res(stderr);
    });
  });
}

describe('replup demo with another worker on task queue replup', () => {
  it('warns before anything starts, naming the worker and the way out', async () => {
    const env = childEnv(scratch, { TEMPORAL_NAMESPACE: namespace });
    const worker = await startWorkerProcess(env);
    try {
      const stderr = await demoUntil(env, /warning: .*\n/);
      expect(stderr).toMatch(
        new RegExp(
          `^replup demo: warning: 1 other worker already polls task queue replup in namespace ${namespace} ` +
            `\\(${worker.child.pid}@[^)]+\\): each takes some of this demo's tasks`,
          'm',
        ),
      );
      expect(stderr).toContain('replup demo --port 7234');
    } finally {
      await worker.stop();
    }
  });
});
