// Issue #20 §5 on the record of a real run, on a Temporal dev server against the lab: a fleet whose DBA
// moved every Data merge agent job to 02:00 (the vendor's is midnight). The run pauses the schedules,
// the vendor's scripts re-create the jobs with the vendor's schedules, restore-service puts the
// DBA's timing back with the enabled state; every invariant holds and the report shows before and after.
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { renderReportMarkdown, reportFromHistory } from '../../activities/report/index.js';
import { examplePlan, startLabUpgrade, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

describe("a DBA's Data schedule at 02:00", () => {
  it(
    'the run completes with the schedules as before (02:00, enabled) and every invariant; the report lists ' +
      'each job before and after',
    async () => {
      const plan = await examplePlan('lab-small.yaml');
      const { lab, worker, workflowId } = await startLabUpgrade(
        env,
        plan,
        { rows: 20, seed: 42, conditions: { customisedDataScheduleTime: 20000 } },
        'schedules',
        `schedules-${process.pid}`,
      );
      try {
        const done = await waitFor(env.client, workflowId, (p) =>
          ['completed', 'aborted', 'failed', 'awaiting-operator'].includes(p.status),
        );
        expect(done.status).toBe('completed');
        expect((await lab.admin.check()).filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
        const jobs = await lab.sql.mergeAgentJobs({ server: plan.publisher.server, database: plan.publisher.database });
        expect(
          jobs
            .filter((j) => j.publication === 'Data')
            .map((j) => j.schedules.map((s) => [s.timing?.activeStartTime, s.enabled])),
        ).toEqual([[[20000, true]], [[20000, true]]]);

        const report = await reportFromHistory(env.client, workflowId);
        // The DBA's timing went back at enable-replication (still paused), so restore-service only enabled them.
        expect(
          report.activities
            .filter((a) => a.type === 'retimeAgentSchedules' && a.outcome === 'completed')
            .map((a) => a.step),
        ).toEqual(['enable-replication']);
        const data = report.agentSchedules!.filter((s) => s.subscription.startsWith('Data'));
        expect(data).toHaveLength(2);
        for (const s of data) {
          expect(s.before).toMatch(/^Data .* schedule: at 02:00:00, enabled$/);
          expect(s.after).toBe(s.before);
        }
        const md = renderReportMarkdown(report);
        expect(md).toContain('## Merge agent schedules');
        expect(md).toMatch(
          /\| Config → LAB-SUB1\/PersonalizationServer \| Config .* schedule: every 5 minutes 00:00:00-23:59:59, enabled \| Config .* schedule: every 5 minutes 00:00:00-23:59:59, enabled \|/,
        );
      } finally {
        await worker.stop();
        lab.admin.close();
      }
    },
  );
});
