// The report builder on a recorded history (test/fixtures/report/upgrade-retry.*): lab-small
// upgraded with 3 conflicts present (the sync parked; dba-anna resolved them and retried), an
// approval gate on remove-replication (dba-carl approved), transient faults (Temporal retried),
// and a child-workflow threshold of 3, so the fan-outs over the 4 personalization servers ran as
// batch child workflows. Recorded by test/temporal/report.test.ts (REPLUP_SAVE_REPORT_FIXTURE=1).
import { describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import {
  buildReport,
  recordedPart,
  renderReportMarkdown,
  REPORT_ACTIVITY,
  type HistoryEvent,
  type RunReport,
} from '../../../activities/report/build.js';
import { EXPECTED_UPGRADE_STEPS } from '../../support/expected-steps.js';
import { loadRecordedRun } from './fixture.js';

const run = loadRecordedRun('upgrade-retry');
const report = buildReport(run.workflowId, run.parent, run.children);
const ms = (iso: string | undefined) => Date.parse(iso!);
const scheduledIn = (events: HistoryEvent[]) =>
  events.filter(
    (e) =>
      e.activityTaskScheduledEventAttributes &&
      e.activityTaskScheduledEventAttributes.activityType?.name !== REPORT_ACTIVITY,
  ).length;

describe('the report of a recorded run', () => {
  it('names the run, its plan and who started it; it completed', () => {
    expect(report).toMatchObject({
      workflowId: run.workflowId,
      workflowType: 'personalizationUpgrade',
      planName: 'lab-small',
      fleet: 'LAB-PUB/PersonalizationServer',
      from: '8.2.0.0',
      to: '10.4.0.0',
      requestedBy: 'test-operator',
      status: 'completed',
      outcome: 'completed: every step done or not applicable',
    });
    expect(report.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(report.durationSeconds).toBe(Math.round((ms(report.endedAt) - ms(report.startedAt)) / 100) / 10);
  });

  it('every operator decision with actor, reason and time, in order', () => {
    expect(report.decisions.map(({ at: _, identity: __, ...d }) => d)).toEqual([
      {
        kind: 'retry',
        step: 'sync-until-quiet',
        actor: 'dba-anna',
        reason: 'resolved 3 PK conflicts in the conflict viewer',
      },
      { kind: 'approve', step: 'remove-replication', actor: 'dba-carl', reason: 'change 4711 approved by the CAB' },
    ]);
    const [retry, approval] = report.decisions;
    const sync = report.steps.find((s) => s.id === 'sync-until-quiet')!;
    const removal = report.steps.find((s) => s.id === 'remove-replication')!;
    // The retry came after the parked attempt's error, while the step was still open.
    expect(ms(retry!.at)).toBeGreaterThanOrEqual(ms(sync.errors[0]!.at));
    expect(ms(retry!.at)).toBeLessThanOrEqual(ms(sync.endedAt));
    // The approval came while the gate waited, before the removal ended.
    expect(ms(approval!.at)).toBeGreaterThanOrEqual(ms(removal.startedAt));
    expect(ms(approval!.at)).toBeLessThanOrEqual(ms(removal.endedAt));
    for (const d of report.decisions) expect(d.identity).toMatch(/^\d+@/);
  });

  it('each step: status, attempts, its time line and the error that parked it', () => {
    // The recorded run went from 8.2, so every step of the upgrade ran; only the parked sync took a second
    // attempt. The steps are a fact of the recording, so the list is the written-out one, not the plan's.
    expect(report.steps.map((s) => [s.id, s.status, s.attempts])).toEqual(
      EXPECTED_UPGRADE_STEPS.map((id) => [id, 'done', id === 'sync-until-quiet' ? 2 : 1]),
    );
    const sync = report.steps.find((s) => s.id === 'sync-until-quiet')!;
    expect(sync.errors).toHaveLength(1);
    expect(sync.errors[0]).toMatchObject({ attempt: 1 });
    expect(sync.errors[0]!.message).toBe(
      'ConflictsFound: conflicting rows need a decision (deliver a new snapshot or restore a publisher ' +
        'backup): 3 conflicts (2× Config.PersonalizationGroup reason 2627, 1× Data.ProfileData reason 2627)',
    );
    expect(report.steps.filter((s) => s.errors.length).map((s) => s.id)).toEqual(['sync-until-quiet']);
    // Steps run one after the other, inside the run; waiting for a person is part of a step's time.
    for (const [i, s] of report.steps.entries()) {
      expect(ms(s.startedAt)).toBeLessThanOrEqual(ms(s.endedAt));
      expect(s.durationSeconds).toBe(Math.round((ms(s.endedAt) - ms(s.startedAt)) / 100) / 10);
      expect(s.waitingSeconds).toBeLessThanOrEqual(s.durationSeconds!);
      if (i > 0) expect(ms(s.startedAt)).toBeGreaterThanOrEqual(ms(report.steps[i - 1]!.endedAt));
    }
    expect(ms(report.steps[0]!.startedAt)).toBeGreaterThanOrEqual(ms(report.startedAt));
    expect(ms(report.steps.at(-1)!.endedAt)).toBeLessThanOrEqual(ms(report.endedAt));
    expect(report.steps.filter((s) => s.waitingSeconds > 0).map((s) => s.id)).toEqual([
      'sync-until-quiet',
      'remove-replication',
    ]);
  });

  it('every activity of the run and of its batch child workflows, with its summary', () => {
    const inChildren = [...run.children.values()].reduce((n, events) => n + scheduledIn(events), 0);
    expect(report.activities).toHaveLength(scheduledIn(run.parent) + inChildren);
    expect(report.childWorkflows).toHaveLength(run.children.size);
    expect(report.childWorkflows.every((id) => id.startsWith(`${run.workflowId}/`))).toBe(true);
    expect(report.activities.filter((a) => a.workflowId !== run.workflowId)).toHaveLength(inChildren);
    for (const a of report.activities) {
      expect(a.summary.startsWith(`${a.step}: `)).toBe(true);
      expect(a.outcome).toBe('completed');
      expect(a.attempts).toBeGreaterThanOrEqual(1);
      expect(ms(a.endedAt)).toBeGreaterThanOrEqual(ms(a.scheduledAt));
    }
    expect(report.steps.reduce((n, s) => n + s.activities, 0)).toBe(report.activities.length);
    // The drains ran in batches of at most 3 (the plan's threshold) over the 4 servers.
    const drains = report.activities.filter((a) => a.type === 'drainHost');
    expect(drains.map((a) => a.summary).sort()).toEqual([
      'drain-users: drain ps-pub-1',
      'drain-users: drain ps-pub-2',
      'drain-users: drain ps-sub1-1',
      'drain-users: drain ps-sub2-1',
    ]);
    expect(new Set(drains.map((a) => a.workflowId))).toEqual(
      new Set([`${run.workflowId}/drain-users/batch-1`, `${run.workflowId}/drain-users/batch-2`]),
    );
    // In time order.
    expect(report.activities.map((a) => a.scheduledAt)).toEqual(report.activities.map((a) => a.scheduledAt).sort());
  });

  it('activities Temporal retried: their attempts and the transient error that caused it', () => {
    const retried = report.activities.filter((a) => a.attempts > 1);
    expect(retried.length).toBeGreaterThan(0);
    for (const a of retried)
      expect(a.lastRetriedError).toMatch(
        /^SqlTransient: SQL Server error (1205|-2|10054): .* \(lab: injected fault\)$/,
      );
    expect(report.activities.filter((a) => a.attempts === 1).every((a) => a.lastRetriedError === undefined)).toBe(true);
  });

  it('sync rounds by step attempt: the conflicts of attempt 1, then rounds until quiet', () => {
    const rounds = report.syncRounds.map(({ step, stepAttempt, round, merges, conflictRows, quiet }) => [
      step,
      stepAttempt,
      round,
      merges,
      conflictRows,
      quiet,
    ]);
    expect(rounds).toEqual([
      ['sync-until-quiet', 1, 1, 4, 3, false],
      ['sync-until-quiet', 2, 1, 4, 0, true],
      ['sync-until-quiet', 2, 2, 4, 0, true],
      // The verification's own round carries the canary row.
      ['verify-replication', 1, 1, 4, 0, false],
    ]);
    expect(report.syncRounds[0]!.moved).toBeGreaterThan(0);
    expect(report.syncRounds[3]).toMatchObject({ moved: 2, conflicts: 0, pending: 0 });
    const merges = report.activities.filter((a) => a.type === 'mergeSubscription' && a.step === 'sync-until-quiet');
    expect(merges.map((a) => `${a.stepAttempt}/${/round (\d+)/.exec(a.summary)![1]}`)).toEqual([
      '1/1',
      '1/1',
      '1/1',
      '1/1',
      '2/1',
      '2/1',
      '2/1',
      '2/1',
      '2/2',
      '2/2',
      '2/2',
      '2/2',
    ]);
  });

  it('the verification: canary written at the publisher, arrived at both subscribers', () => {
    expect(report.verification).toEqual({
      status: 'done',
      stepAttempt: 1,
      canary: `replup-canary-${run.workflowId}-${report.runId}`,
      publishers: ['LAB-PUB/PersonalizationServer'],
      subscribersChecked: 2,
      arrived: ['LAB-SUB1/PersonalizationServer', 'LAB-SUB2\\PERSONALIZATION/PersonalizationServer'],
      missing: [],
      conflicts: 0,
    });
  });
});

describe('the record ends where the report is written', () => {
  it('the events after the report activity (its own run, completion) change nothing', () => {
    const cut = recordedPart(run.parent);
    const at = run.parent.findIndex(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === REPORT_ACTIVITY,
    );
    expect(at).toBeGreaterThan(0);
    expect(cut).toHaveLength(at);
    expect(report.events).toBe(at);
    expect(buildReport(run.workflowId, cut, run.children)).toEqual(report);
  });
});

/** The recorded history as it stood when the sync had parked and nobody had decided yet. */
function parkedPart(): HistoryEvent[] {
  const parkedAt = run.parent.findIndex(
    (e) =>
      e.upsertWorkflowSearchAttributesEventAttributes &&
      JSON.stringify(e).includes(Buffer.from('"awaiting-operator"').toString('base64')),
  );
  expect(parkedAt).toBeGreaterThan(0);
  // Up to the end of that workflow task.
  const end = run.parent.findIndex((e, i) => i > parkedAt && e.workflowTaskScheduledEventAttributes);
  return run.parent.slice(0, end);
}

describe('a run that has not ended', () => {
  it('parked: the step waits with its error, nothing after it started, no decision yet', () => {
    const r = buildReport(run.workflowId, parkedPart(), run.children);
    expect(r.status).toBe('awaiting-operator');
    expect(r.endedAt).toBeUndefined();
    expect(r.durationSeconds).toBeUndefined();
    expect(r.decisions).toEqual([]);
    const sync = r.steps.find((s) => s.id === 'sync-until-quiet')!;
    expect(sync).toMatchObject({ status: 'awaiting-operator', attempts: 1 });
    expect(sync.endedAt).toBeUndefined();
    expect(sync.durationSeconds).toBeUndefined();
    expect(sync.errors.map((e) => e.attempt)).toEqual([1]);
    expect(r.steps.slice(3).every((s) => s.status === 'pending' && s.startedAt === undefined)).toBe(true);
    expect(r.verification).toBeUndefined();
    expect(r.syncRounds.map((x) => [x.stepAttempt, x.round, x.conflictRows])).toEqual([[1, 1, 3]]);
  });

  it('terminated from the UI while parked: the report says so, by whom and why', () => {
    const part = parkedPart();
    const last = part.at(-1)!;
    const terminated = proto.temporal.api.history.v1.HistoryEvent.fromObject({
      eventId: Number(last.eventId) + 1,
      eventTime: { seconds: Number(last.eventTime!.seconds) + 60, nanos: 0 },
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED',
      workflowExecutionTerminatedEventAttributes: {
        reason: 'maintenance window closed',
        identity: 'ops-dana@jumphost',
      },
    });
    const r = buildReport(run.workflowId, [...part, terminated], run.children);
    expect(r.status).toBe('terminated');
    expect(r.outcome).toBe('terminated by ops-dana@jumphost: maintenance window closed');
    expect(r.endedAt).toBe(new Date((Number(last.eventTime!.seconds) + 60) * 1000).toISOString());
    expect(r.steps.find((s) => s.id === 'sync-until-quiet')!.status).toBe('awaiting-operator');
  });
});

describe('the Markdown report', () => {
  const md = renderReportMarkdown(report);

  it('a header, then steps, decisions, sync rounds, verification and activities', () => {
    const lines = md.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      '# Run report: lab-small',
      '',
      `- workflow: \`${run.workflowId}\` (run \`${report.runId}\`), personalizationUpgrade`,
      '- fleet: LAB-PUB/PersonalizationServer, 8.2.0.0 → 10.4.0.0',
      '- started by: test-operator',
      `- started: ${report.startedAt}, ended: ${report.endedAt} (${report.durationSeconds} s)`,
      '- status: **completed** — completed: every step done or not applicable',
      `- history: ${report.events} events in the run, 8 batch child workflows, ${report.activities.length} ` +
        `activities (${report.activities.filter((a) => a.attempts > 1).length} retried by Temporal)`,
    ]);
    expect(lines.filter((l) => l.startsWith('## '))).toEqual([
      '## Steps',
      '## Operator decisions',
      '## Sync rounds',
      '## Verification',
      '## Activities',
    ]);
    expect(md).toContain(
      `| ${report.decisions[0]!.at} | retry | sync-until-quiet | dba-anna | resolved 3 PK conflicts in the ` +
        `conflict viewer |`,
    );
    expect(md).toContain(
      `| ${report.decisions[1]!.at} | approve | remove-replication | dba-carl | change 4711 approved by the CAB |`,
    );
    expect(md).toContain('| sync-until-quiet | 1 | 1 | 4 | ');
    expect(md).toContain('attempt 1: ConflictsFound: conflicting rows need a decision');
    expect(md).toContain('arrived at 2 of 2 subscribers; missing: none; conflicts: 0');
    // Batch activities name their batch; retried ones their transient error.
    expect(lines.find((l) => l.includes('| drain-users: drain ps-sub2-1 |'))).toMatch(/\| drain-users\/batch-\d \|$/);
    expect(lines.filter((l) => l.includes('retried after: SqlTransient: SQL Server error'))).toHaveLength(
      report.activities.filter((a) => a.attempts > 1).length,
    );
    expect(md.endsWith('\n')).toBe(true);
    expect(md).not.toMatch(/\n\n\n/);
  });

  it(
    'a reason with a pipe or a line break stays inside its table cell; a run without a plan has no empty ' +
      'header lines',
    () => {
      const odd: RunReport = {
        ...report,
        planName: undefined,
        fleet: undefined,
        requestedBy: undefined,
        decisions: [
          {
            kind: 'skip',
            step: 'backup',
            actor: 'dba|x',
            reason: 'disk full | backup\nby hand',
            at: '2026-01-01T00:00:00.000Z',
          },
        ],
      };
      const text = renderReportMarkdown(odd);
      expect(text).toContain('| 2026-01-01T00:00:00.000Z | skip | backup | dba\\|x | disk full \\| backup by hand |');
      expect(text.split('\n').slice(0, 4)).toEqual([
        `# Run report: ${run.workflowId}`,
        '',
        `- workflow: \`${run.workflowId}\` (run \`${report.runId}\`), personalizationUpgrade`,
        `- started: ${report.startedAt}, ended: ${report.endedAt} (${report.durationSeconds} s)`,
      ]);
    },
  );
});
