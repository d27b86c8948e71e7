// Replays recorded histories of real runs against the current workflow code: a change that would
// break upgrades already running (non-determinism) fails here, not at 2 a.m. on a parked run.
// Re-record with scripts/record-histories.ts when a change is deliberately incompatible.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import proto from '@temporalio/proto';

const { temporal } = proto;

const dir = resolve('test/fixtures/histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.history.pb'));

describe('recorded histories replay against the current workflow code', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: resolve('workflows/index.ts'),
    logger: new DefaultLogger('WARN'),
  });

  it('has recorded histories to replay', () => {
    const scenarios = ['happy-path-8.2', 'conflict-retry', 'approved-gate'];
    // Current recordings, and those made before restore-service restarted services all at once
    // (a `patched` marker): runs that started on the older code must still replay.
    expect(files).toEqual(
      expect.arrayContaining([
        ...scenarios.map((s) => `${s}.history.pb`),
        ...scenarios.map((s) => `${s}.before-restore-at-once.history.pb`),
      ]),
    );
  });

  it("has the agent-schedules runbook's recorded history (#24)", () => {
    expect(files).toContain('agent-schedules.history.pb');
  });

  it("has the setup-replication runbook's recorded history (#24)", () => {
    expect(files).toContain('setup-replication.history.pb');
  });

  it("has the subscriber runbooks' recorded histories (#24)", () => {
    expect(files).toEqual(expect.arrayContaining(['add-subscriber.history.pb', 'remove-subscriber.history.pb']));
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(dir, file)));
      await expect(Worker.runReplayHistory({ workflowBundle }, history, file)).resolves.toBeUndefined();
    }, 60_000);
  }
});
