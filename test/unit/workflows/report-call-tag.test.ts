// The report reads an activity's step and sync round from the tag its input carries
// (common/activity-call.ts), and from its UI summary only for runs recorded before the tag.
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { buildReport, type HistoryEvent } from '../../../activities/report/build.js';
import { tagged } from '../../../common/activity-call.js';

const payload = (v: unknown) =>
  defaultPayloadConverter.toPayload(v) as NonNullable<HistoryEvent['userMetadata']>['summary'];
const at = (n: number) => ({ seconds: 1_800_000_000 + n, nanos: 0 });
const merge = {
  session: {
    upload: { inserts: 1, updates: 0, deletes: 0, conflicts: 0 },
    download: { inserts: 0, updates: 2, deletes: 0, conflicts: 0 },
  },
  pending: { upload: 0, download: 0 },
};

function history(args: unknown[], summary: string): HistoryEvent[] {
  return [
    {
      eventId: 1,
      eventTime: at(0),
      workflowExecutionStartedEventAttributes: {
        workflowType: { name: 'personalizationUpgrade' },
        originalExecutionRunId: 'run-1',
      },
    },
    {
      eventId: 2,
      eventTime: at(1),
      workflowPropertiesModifiedEventAttributes: {
        upsertedMemo: {
          fields: {
            replup: payload({
              status: 'running',
              current: 'sync-until-quiet',
              outcome: null,
              steps: [['sync-until-quiet', 'running', 1, null]],
            }),
          },
        },
      },
    },
    {
      eventId: 3,
      eventTime: at(2),
      userMetadata: { summary: payload(summary) },
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'mergeSubscription' },
        input: { payloads: args.map(payload) },
      },
    },
    { eventId: 4, eventTime: at(3), activityTaskStartedEventAttributes: { scheduledEventId: 3, attempt: 1 } },
    {
      eventId: 5,
      eventTime: at(4),
      activityTaskCompletedEventAttributes: { scheduledEventId: 3, result: { payloads: [payload(merge)] } },
    },
  ] as unknown as HistoryEvent[];
}

const sub = {
  publication: 'Config',
  publisher: { server: 'PUB', database: 'db' },
  subscriber: { server: 'SUB', database: 'db' },
};

describe('the report and the activity call tag', () => {
  it('takes step and round from the tag, whatever the summary says', () => {
    const r = buildReport(
      'wf',
      history([tagged({ target: 'lab' }, { step: 'sync-until-quiet', round: 3 }), sub], 'a summary worded otherwise'),
      new Map(),
    );
    expect(r.activities.map((a) => [a.step, a.stepAttempt])).toEqual([['sync-until-quiet', 1]]);
    expect(r.syncRounds).toEqual([
      {
        step: 'sync-until-quiet',
        stepAttempt: 1,
        round: 3,
        merges: 1,
        moved: 3,
        conflicts: 0,
        pending: 0,
        conflictRows: 0,
        settledConflictRows: 0,
        quiet: false,
      },
    ]);
  });

  it('reads both from the summary for a run recorded before the tag', () => {
    const r = buildReport(
      'wf',
      history([{ target: 'lab' }, sub], 'sync-until-quiet: merge Config → SUB/db, round 2'),
      new Map(),
    );
    expect(r.activities.map((a) => a.step)).toEqual(['sync-until-quiet']);
    expect(r.syncRounds.map((x) => [x.step, x.round, x.moved])).toEqual([['sync-until-quiet', 2, 3]]);
  });
});
