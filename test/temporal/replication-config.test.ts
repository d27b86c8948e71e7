// Issue #20 §3-5 on the record of a real run, on a Temporal dev server against the lab: a fleet whose
// DBA changed the publications since set-up (retention 30 days, conflict retention 7), whose Data
// publication script fails half-way the first time, and whose first ConvertRowGuids reply is lost
// (the script swaps GUIDs, so a second run would undo the first). The (primary key, rowguid) sample
// settles the conversion without a person (#20 §4), the run rebuilds the half-built publication, puts
// the configuration back, and completes with every invariant; the report shows before and after.
import { describe, expect } from 'vitest';
import type { RunResult } from '../../workflows/messages.js';
import { decide } from '../../cli/lib/runs.js';
import { renderReportMarkdown, reportFromHistory } from '../../activities/report/index.js';
import { brokenInvariants, labUpgradeTests, waitFor } from './harness.js';

const labs = labUpgradeTests();

describe('configuration, half-built publication and a lost ConvertRowGuids reply', () => {
  labs.it(
    'settles the lost conversion reply from the data (not run again, no operator), then completes with the ' +
      'configuration as before and every invariant; the report shows before and after',
    {
      lab: {
        rows: 20,
        seed: 42,
        conditions: {
          customisedPublications: { retentionDays: 30, conflictRetentionDays: 7 },
          halfBuiltScripts: { match: 'CreateDataPublication', times: 1 },
          rowGuidScriptToggles: true,
          lostReplies: { op: 'runScript', match: 'ConvertRowGuids', times: 1 },
        },
      },
      queue: 'config',
      id: `config-${process.pid}`,
    },
    async ({ env, lab, workflowId }) => {
      const done = await waitFor(
        env.client,
        workflowId,
        (p) => p.status === 'awaiting-operator' || ['completed', 'aborted', 'failed'].includes(p.status),
      );
      expect(
        done.status === 'awaiting-operator'
          ? done.steps.find((s) => s.status === 'awaiting-operator')?.lastError
          : done.status,
      ).toBe('completed');
      const r = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
      expect(r.progress.decisions).toEqual([]);
      // One subscriber had its reply lost: the retry found the rows recorded as legacy converted.
      expect(r.progress.steps.find((s) => s.id === 'convert-row-guids')!.note).toMatch(
        /^ConvertRowGuids\.sql ran on 1 subscriber; already converted \(marked done\): \S+; after a lost reply: \S+ found converted \(of the rows legacy before the script, [1-9]\d* rows with the publisher's GUID, 0 in the legacy byte order, 0 with another GUID .*\), marked done$/,
      );
      expect(r.progress.steps.find((s) => s.id === 'enable-replication')!.note).toMatch(
        /; configuration as before removal \(4 properties put back\)$/,
      );
      expect(await brokenInvariants(lab)).toEqual([]);
      // Each subscriber converted once: 2 tables per run of the script.
      const counters = await lab.admin.counters();
      const conversions = Object.values(counters)
        .map((c) => c.rowGuidConversions)
        .filter((n) => n > 0);
      expect(conversions.every((n) => n === 2)).toBe(true);

      const report = await reportFromHistory(env.client, workflowId);
      expect(report.replicationConfig).toHaveLength(1);
      const config = report.replicationConfig![0]!;
      expect(config.before.map((p) => [p.name, p.retention, p.conflictRetentionDays])).toEqual([
        ['Config', 30, 7],
        ['Data', 30, 7],
      ]);
      expect(
        config.after!.map((p) => [p.name, p.retention, p.conflictRetentionDays, p.articles.map((a) => a.name)]),
      ).toEqual([
        ['Config', 30, 7, ['PersonalizationGroup']],
        ['Data', 30, 7, ['ProfileData']],
      ]);
      expect(config.reapplied.map((d) => `${d.publication} ${d.what} ${d.after} → ${d.before}`)).toEqual([
        'Config retention 14 → 30',
        'Config conflict_retention 14 → 7',
        'Data retention 14 → 30',
        'Data conflict_retention 14 → 7',
      ]);
      expect(config.left).toEqual([]);
      const md = renderReportMarkdown(report);
      expect(md).toContain('## Replication configuration');
      expect(md).toContain(
        '| Data | retention 30 days, conflict retention 7 days, level 100, conflicts logged at the ' +
          'publisher; articles ProfileData | retention 30 days',
      );
      expect(md).toContain('- put back on');
    },
  );

  labs.it(
    'an article option the DBA changed (column tracking) is not put back without a reinitialization: ' +
      'enable-replication parks naming it, the report lists it as left for a person',
    {
      lab: {
        rows: 20,
        seed: 43,
        conditions: { customisedPublications: { retentionDays: 30, columnTracking: true } },
      },
      queue: 'config-park',
      id: `config-park-${process.pid}`,
    },
    async ({ env, workflowId }) => {
      const parked = await waitFor(
        env.client,
        workflowId,
        (p) => p.status === 'awaiting-operator' || ['completed', 'aborted', 'failed'].includes(p.status),
      );
      const step = parked.steps.find((s) => s.id === 'enable-replication')!;
      expect(step.status).toBe('awaiting-operator');
      expect(step.lastError).toMatch(
        /^ConfigurationNotRestored: the replication configuration of \S+ differs from before removal where replup does not put it back itself: Config: article PersonalizationGroup column_tracking was true, is false; Data: article ProfileData column_tracking was true, is false\. /,
      );
      const report = await reportFromHistory(env.client, workflowId);
      const config = report.replicationConfig![0]!;
      // The retention was put back before the step parked on what it cannot put back.
      expect(config.reapplied.map((d) => `${d.publication} ${d.what}`)).toEqual(['Config retention', 'Data retention']);
      expect(config.left.map((d) => `${d.publication} ${d.what}`)).toEqual([
        'Config article PersonalizationGroup column_tracking',
        'Data article ProfileData column_tracking',
      ]);
      expect(renderReportMarkdown(report)).toContain('- left for a person on');
      await decide(
        env.client,
        workflowId,
        'enable-replication',
        'abort',
        'column tracking to be set again with a reinitialization window',
        'dba-anna',
      );
      await waitFor(env.client, workflowId, (p) => ['aborted', 'completed', 'failed'].includes(p.status));
    },
  );
});
