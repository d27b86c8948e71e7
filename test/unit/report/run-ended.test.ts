// The report activity runs last in every run: it writes this run's own files (named by run id) and
// tells the worker which target the run was on, so the worker lets go of a lab's lock (issue #21).
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { createReportActivities } from '../../../activities/report/index.js';
import { loadRecordedRun } from './fixture.js';

const saved = process.env.REPLUP_REPORTS_DIR;
afterEach(() => {
  if (saved === undefined) delete process.env.REPLUP_REPORTS_DIR;
  else process.env.REPLUP_REPORTS_DIR = saved;
});

/** A client that answers history fetches from the recorded run. */
function recordedClient() {
  const run = loadRecordedRun('upgrade-retry');
  const client = {
    workflow: {
      getHandle: (id: string) => ({
        fetchHistory: async () => ({ events: id === run.workflowId ? run.parent : (run.children.get(id) ?? []) }),
      }),
    },
  } as unknown as Client;
  return { run, client };
}

describe('writeRunReport', () => {
  it("writes <workflow id>.<run id>.md and .json, and hands the run's lab target to the worker", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replup-report-'));
    process.env.REPLUP_REPORTS_DIR = dir;
    const { run, client } = recordedClient();
    const ended: unknown[] = [];
    const acts = createReportActivities(async () => client, { runEnded: async (t) => void ended.push(t) });
    const runId = run.parent[0]!.workflowExecutionStartedEventAttributes!.originalExecutionRunId!;
    const files = await new MockActivityEnvironment().run(acts.writeRunReport, { workflowId: run.workflowId, runId });
    const base = `${run.workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${runId}`;
    expect(files).toEqual({ markdown: join(dir, `${base}.md`), json: join(dir, `${base}.json`) });
    expect(readdirSync(dir).sort()).toEqual([`${base}.json`, `${base}.md`]);
    // The recorded run's plan targets a lab: the worker is told which one.
    expect(ended).toEqual([{ kind: 'lab', state: expect.stringMatching(/lab\.json$/) }]);
  });
});
