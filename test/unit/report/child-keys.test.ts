// Batch child workflows in the report: runs of older replup started the same batch id twice in a
// step (drain, then disconnect); each start is its own batch and keeps its own key.
import { describe, expect, it } from 'vitest';
import { childKeys, type HistoryEvent } from '../../../activities/report/build.js';

const start = (eventId: number, workflowId: string) =>
  ({ eventId, startChildWorkflowExecutionInitiatedEventAttributes: { workflowId } }) as unknown as HistoryEvent;

describe('childKeys', () => {
  it('keys each child start by its id, and a repeated id by its occurrence', () => {
    const keys = childKeys([
      start(5, 'run/drain-users/batch-1'),
      start(6, 'run/drain-users/batch-2'),
      { eventId: 7 } as unknown as HistoryEvent,
      start(9, 'run/drain-users/batch-1'),
      start(12, 'run/drain-users/batch-1'),
    ]);
    expect([...keys]).toEqual([
      [5, 'run/drain-users/batch-1'],
      [6, 'run/drain-users/batch-2'],
      [9, 'run/drain-users/batch-1~2'],
      [12, 'run/drain-users/batch-1~3'],
    ]);
  });
});
