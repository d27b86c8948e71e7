// Issue #20 §5 on the record of a real run, on a Temporal dev server against the lab: a fleet whose DBA
// moved every Data merge agent job to 02:00 (the vendor's is midnight). The run pauses the schedules,
// the vendor's scripts re-create the jobs with the vendor's schedules, restore-service puts the
// DBA's timing back with the enabled state; every invariant holds and the report shows before and after.
import { describe, expect } from 'vitest';
import { renderReportMarkdown, reportFromHistory } from '../../activities/report/index.js';
import { brokenInvariants, labUpgradeTests, waitFor } from './harness.js';

const labs = labUpgradeTests();

describe("a DBA's Data schedule at 02:00", () => {
  labs.it(
    'the run completes with the schedules as before (02:00, enabled) and every invariant; the report lists ' +
      'each job before and after',
    {
      lab: { rows: 20, seed: 42, conditions: { customisedDataScheduleTime: 20000 } },
      queue: 'schedules',
      id: `schedules-${process.pid}`,
    },
    async ({ env, plan, lab, workflowId }) => {
      const done = await waitFor(env.client, workflowId, (p) =>
        ['completed', 'aborted', 'failed', 'awaiting-operator'].includes(p.status),
      );
      expect(done.status).toBe('completed');
      expect(await brokenInvariants(lab)).toEqual([]);
      const jobs = await lab.sql.mergeAgentJobs({
        server: plan.publisher.server,
        database: plan.publisher.database,
      });
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
    },
  );
});
