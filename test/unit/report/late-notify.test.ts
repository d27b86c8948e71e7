// The run's last notification is scheduled before the report activity but settles after it: the report
// (written by the run, or rebuilt by `replup report`) follows it to its end in the history, so a failed
// `notify:` delivery is on the record instead of an `open` row with 0 attempts (README, "Notifications").
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  buildReport,
  renderReportMarkdown,
  REPORT_ACTIVITY,
  type HistoryEvent,
} from '../../../activities/report/build.js';
import { SEND_NOTIFICATION } from '../../../activities/notify/event.js';
import { loadRecordedRun } from './fixture.js';

const run = loadRecordedRun('upgrade-retry');
const SUMMARY = 'notify: completed to me (webhook)';
const ERROR = 'environment variable SOME_VAR is not set for the replup worker';

/** The recorded run with an end notification scheduled just before the report activity, closed after it. */
function withLateNotification(close: 'failed' | 'completed'): HistoryEvent[] {
  const cut = run.parent.findIndex(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === REPORT_ACTIVITY,
  );
  const when = run.parent[cut]!.eventTime;
  const id = 900_001;
  const scheduled: HistoryEvent = {
    eventId: id,
    eventTime: when,
    userMetadata: { summary: defaultPayloadConverter.toPayload(SUMMARY) },
    activityTaskScheduledEventAttributes: { activityType: { name: SEND_NOTIFICATION }, input: { payloads: [] } },
  } as unknown as HistoryEvent;
  const started = {
    eventId: id + 1,
    eventTime: when,
    activityTaskStartedEventAttributes: { scheduledEventId: id, attempt: 4 },
  };
  const closed =
    close === 'failed'
      ? {
          eventId: id + 2,
          eventTime: when,
          activityTaskFailedEventAttributes: {
            scheduledEventId: id,
            failure: { message: ERROR, applicationFailureInfo: { type: 'Error' } },
          },
        }
      : { eventId: id + 2, eventTime: when, activityTaskCompletedEventAttributes: { scheduledEventId: id } };
  return [
    ...run.parent.slice(0, cut),
    scheduled,
    ...run.parent.slice(cut),
    started as unknown as HistoryEvent,
    closed as unknown as HistoryEvent,
  ];
}

const notification = (events: HistoryEvent[]) => {
  const report = buildReport(run.workflowId, events, run.children);
  return { report, activity: report.activities.find((a) => a.summary === SUMMARY) };
};

describe('a notification that settles after the report activity', () => {
  it('a failed one shows failed, with its attempts and error, in the report and its Markdown', () => {
    const { report, activity } = notification(withLateNotification('failed'));
    expect(activity).toMatchObject({ type: SEND_NOTIFICATION, outcome: 'failed', attempts: 4 });
    expect(activity!.error).toContain(ERROR);
    expect(renderReportMarkdown(report)).toContain(ERROR);
  });

  it('a delivered one shows completed, not open with 0 attempts', () => {
    expect(notification(withLateNotification('completed')).activity).toMatchObject({
      outcome: 'completed',
      attempts: 4,
    });
  });

  it('activities scheduled after the report activity stay off the record', () => {
    const { report } = notification(withLateNotification('completed'));
    expect(report.activities.some((a) => a.type === REPORT_ACTIVITY)).toBe(false);
  });
});
