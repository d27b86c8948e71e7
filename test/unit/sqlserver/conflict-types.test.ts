// What each MSmerge_conflicts_info.conflict_type asks of the run (issue #18 §2), as Microsoft's
// page lists the types: https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/msmerge-conflicts-info-transact-sql
import { describe, expect, it } from 'vitest';
import {
  conflictStopMessage,
  conflictTypeName,
  judgeConflict,
  summarizeConflicts,
} from '../../../activities/sqlserver/conflict-types.js';

describe('judgeConflict', () => {
  it.each([
    { type: 1, verdict: 'settled', name: 'update conflict (row level)' },
    { type: 2, verdict: 'settled', name: 'column update conflict' },
    { type: 3, verdict: 'settled', name: 'update/delete conflict, the delete won' },
    { type: 4, verdict: 'settled', name: 'update/delete conflict, the update won' },
    { type: 5, verdict: 'needs-person', name: 'upload insert failed' },
    { type: 6, verdict: 'needs-person', name: 'download insert failed' },
    { type: 7, verdict: 'needs-person', name: 'upload delete failed' },
    { type: 8, verdict: 'needs-person', name: 'download delete failed' },
    { type: 9, verdict: 'needs-person', name: 'upload update failed' },
    { type: 10, verdict: 'needs-person', name: 'download update failed' },
    { type: 11, verdict: 'settled', name: 'resolution' },
    { type: 12, verdict: 'needs-person', name: 'logical record: the update won over a delete' },
    { type: 13, verdict: 'needs-person', name: 'logical record: an insert conflicts with an update' },
    { type: 14, verdict: 'needs-person', name: 'logical record: the delete won over an update' },
    { type: 99, verdict: 'needs-person', name: 'conflict type 99' },
  ])('conflict_type $type: $verdict ($name)', ({ type, verdict, name }) => {
    expect(judgeConflict(type).verdict).toBe(verdict);
    expect(conflictTypeName(type)).toBe(name);
  });

  it('marks a row recorded before the run began, only when both times are known', () => {
    const since = '2026-11-29T10:00:00.000Z';
    expect(judgeConflict(6, '2026-11-28T23:59:59.000Z', since)).toEqual({ verdict: 'needs-person', beforeRun: true });
    expect(judgeConflict(6, '2026-11-29T10:00:00.000Z', since)).toEqual({ verdict: 'needs-person', beforeRun: false });
    expect(judgeConflict(1, undefined, since)).toEqual({ verdict: 'settled', beforeRun: false });
    expect(judgeConflict(1, '2026-11-20T00:00:00.000Z')).toEqual({ verdict: 'settled', beforeRun: false });
  });
});

describe('summarizeConflicts', () => {
  const row = (
    conflictType: number,
    verdict: 'needs-person' | 'settled' | undefined,
    beforeRun = false,
    table = 'ProfileData',
  ) => ({
    publication: 'Data',
    table,
    conflictType,
    reasonCode: conflictType <= 4 ? conflictType : 2627,
    ...(verdict && { verdict }),
    beforeRun,
  });

  it('stops on failed changes, new or from before the run, and only reports settled ones', () => {
    expect(
      summarizeConflicts([
        row(6, 'needs-person'),
        row(6, 'needs-person', true),
        row(1, 'settled', true),
        row(3, 'settled', true, 'PersonalizationGroup'),
      ]),
    ).toEqual({
      stop: '2 conflicts (2× Data.ProfileData reason 2627; 1 recorded before the run began)',
      settled:
        '2 conflicts the resolver settled, kept for the conflict retention period; nothing to do (1× ' +
        'Data.ProfileData update conflict (row level), 1× Data.PersonalizationGroup update/delete conflict, ' +
        'the delete won; 2 recorded before the run began)',
    });
  });

  it('nothing to say when there are no conflicts, and nothing stops the run when all are settled', () => {
    expect(summarizeConflicts([])).toEqual({ stop: '', settled: '' });
    expect(summarizeConflicts([row(1, 'settled')]).stop).toBe('');
  });

  it('a row without a verdict (recorded before verdicts existed) stops the run as it did then', () => {
    expect(summarizeConflicts([row(1, undefined)]).stop).toBe('1 conflict (1× Data.ProfileData reason 1)');
  });
});

describe('conflictStopMessage', () => {
  it('says the safe way first (resolve, then retry), then the snapshot and the restore with their cost', () => {
    const message = conflictStopMessage('sync-until-quiet', '3 conflicts (3× Data.ProfileData reason 2627)');
    expect(message).toBe(
      'conflicting rows need a decision (failed changes merge cannot apply): 3 conflicts (3× ' +
        'Data.ProfileData reason 2627). ' +
        ("Resolve them first: in SQL Server Management Studio's Replication Conflict Viewer (or by correcting " +
          'the rows at both copies), then `replup retry --step sync-until-quiet --reason …`; nothing is lost. ') +
        ('Only if they cannot be resolved: deliver a new snapshot (it reinitializes every subscriber and ' +
          "wipes their archives) or restore the publisher's backup (every change made since it was taken is " +
          'lost), then retry'),
    );
    expect(message.indexOf('Resolve them first')).toBeLessThan(message.indexOf('new snapshot'));
  });
});
