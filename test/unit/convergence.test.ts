// The convergence proof's judgement (activities/personalization-upgrade/convergence.ts): what one merge validation
// says, read from what SQL Server recorded before the mark and after the merge, and the messages that
// park a step, as an operator reads them.
import { describe, expect, it } from 'vitest';
import {
  addedRowGuidStopMessage,
  convergenceStopMessage,
  judgeValidation,
  rowGuidDifferences,
  rowGuidSampleStopMessage,
  type SubscriptionValidation,
} from '../../activities/personalization-upgrade/convergence.js';
import type { ValidationState } from '../../activities/ports.js';

const none: ValidationState = { alerts: [] };
const alert = (alertId: number, passed: boolean, article: string) => ({
  alertId,
  passed,
  article,
  text: `${article} ${passed ? 'passed' : 'failed'} data validation`,
});
const sub1 = { server: 'SUB1', database: 'PersonalizationServer' };

describe('judgeValidation', () => {
  it('a new last_validated is a pass', () => {
    expect(
      judgeValidation(none, {
        lastValidated: '2026-12-05T07:00:00.000Z',
        attempted: '2026-12-05T07:00:00.000Z',
        alerts: [],
      }),
    ).toEqual({ outcome: 'identical', tables: [] });
  });

  it('a new 20574 alert names the table that differs, even when an older one passed', () => {
    const before: ValidationState = {
      lastValidated: '2026-12-01T00:00:00.000Z',
      attempted: '2026-12-01T00:00:00.000Z',
      alerts: [alert(4, false, 'OldTable'), alert(5, true, 'ProfileData')],
    };
    const after: ValidationState = {
      ...before,
      attempted: '2026-12-05T07:00:00.000Z',
      alerts: [...before.alerts, alert(6, true, 'Archive'), alert(7, false, 'ProfileData')],
    };
    // Alert 4 is from an earlier validation: not this run's.
    expect(judgeValidation(before, after)).toEqual({ outcome: 'differs', tables: ['ProfileData'] });
  });

  it('attempted_validate moving without last_validated is a failure, tables unnamed (alerts may be off)', () => {
    const before: ValidationState = {
      lastValidated: '2026-12-01T00:00:00.000Z',
      attempted: '2026-12-01T00:00:00.000Z',
      alerts: [],
    };
    expect(judgeValidation(before, { ...before, attempted: '2026-12-05T07:00:00.000Z' })).toEqual({
      outcome: 'differs',
      tables: [],
    });
  });

  it('nothing new recorded: not validated (the agent did not validate)', () => {
    const before: ValidationState = {
      lastValidated: '2026-12-01T00:00:00.000Z',
      attempted: '2026-12-01T00:00:00.000Z',
      alerts: [alert(1, true, 'X')],
    };
    expect(judgeValidation(before, before)).toEqual({ outcome: 'not-validated', tables: [] });
  });
});

describe('convergenceStopMessage', () => {
  const ok: SubscriptionValidation = { publication: 'Config', subscriber: sub1, outcome: 'identical', tables: [] };

  it('nothing to say when every subscription validated identical', () => {
    expect(convergenceStopMessage('before-removal', [ok, { ...ok, publication: 'Data' }])).toBeUndefined();
  });

  it(
    'names subscription and tables, says pending counts are not proof, and gives the safe way before the ' +
      'snapshot and the backup',
    () => {
      const msg = convergenceStopMessage('before-removal', [
        ok,
        { publication: 'Data', subscriber: sub1, outcome: 'differs', tables: ['ProfileData'] },
      ])!;
      expect(msg).toMatch(
        /^merge validation \(row counts and binary checksums\) found copies that differ after the quiet rounds: Data → SUB1\/PersonalizationServer \(tables ProfileData\)\./,
      );
      expect(msg).not.toContain('Config →');
      expect(msg).toContain('generation-0 rows');
      const safe = msg.indexOf('The safe way first: make the copies identical by hand (tablediff');
      const snapshot = msg.indexOf(
        "new snapshot (sp_reinitmergesubscription @upload_first = 'true'), which deletes the subscriber's Archive data",
      );
      const backup = msg.indexOf('from a backup of the publication database');
      expect(safe).toBeGreaterThan(0);
      expect(snapshot).toBeGreaterThan(safe);
      expect(backup).toBeGreaterThan(snapshot);
      expect(msg).toContain('replication is still intact');
    },
  );

  it("after the re-enable it points to the run's backups; a run with no validation recorded says where to look", () => {
    const msg = convergenceStopMessage('after-re-enable', [
      { publication: 'Data', subscriber: sub1, outcome: 'differs', tables: [] },
      { publication: 'Config', subscriber: sub1, outcome: 'not-validated', tables: [] },
    ])!;
    expect(msg).toContain(
      'after the re-enable: Data → SUB1/PersonalizationServer (tables not named: see the merge agent history)',
    );
    expect(msg).toContain("this run's copy-only backups");
    expect(msg).toMatch(
      /recorded no validation for Config → SUB1\/PersonalizationServer \(sysmergesubscriptions\.attempted_validate unchanged, no alert 20574\/20575 .*\): see the agent history in Replication Monitor, then retry this step$/,
    );
  });
});

describe('addedRowGuidStopMessage', () => {
  it('names each publication and table, cites KB 2646528, and says nothing was changed', () => {
    const msg = addedRowGuidStopMessage({ server: 'PUB', database: 'PersonalizationServer' }, [
      { publication: 'Data', article: 'ProfileData' },
      { publication: 'Data', article: 'ProfileBlob' },
      { publication: 'Config', article: 'Site' },
    ])!;
    expect(msg).toMatch(
      /^on PUB\/PersonalizationServer replication added the rowguid column of these articles \(sysmergearticles\.preserve_rowguidcol = 0\): publication Data: ProfileData, ProfileBlob; publication Config: Site\./,
    );
    expect(msg).toContain('KB 2646528');
    expect(msg).toContain('No documented way keeps the column, so replup stops before anything changes');
  });

  it('nothing to say when every article uses a rowguid column of its own', () => {
    expect(addedRowGuidStopMessage({ server: 'PUB', database: 'P' }, [])).toBeUndefined();
  });
});

describe('the (primary key, rowguid) sample', () => {
  const pub = [
    { key: '1', rowguid: 'AAAAAAAA-0000-0000-0000-000000000001' },
    { key: '2', rowguid: 'aaaaaaaa-0000-0000-0000-000000000002' },
    { key: '3', rowguid: 'aaaaaaaa-0000-0000-0000-000000000003' },
  ];

  it(
    'same key, same rowguid (whatever the letter case): no difference; keys in one sample only are left to the ' +
      'row counts',
    () => {
      expect(
        rowGuidDifferences('ProfileData', sub1, pub, [
          { key: '1', rowguid: 'aaaaaaaa-0000-0000-0000-000000000001' },
          { key: '4', rowguid: 'x' },
        ]),
      ).toBeUndefined();
    },
  );

  it(
    'names the table, the subscriber and the keys whose ' + 'rowguid differs, and says what it means and what to do',
    () => {
      const d = rowGuidDifferences('ProfileData', sub1, pub, [
        pub[0]!,
        { key: '2', rowguid: 'bbbbbbbb-0000-0000-0000-000000000002' },
        { key: '3', rowguid: 'cccccccc-0000-0000-0000-000000000003' },
      ])!;
      expect(d).toEqual({ table: 'ProfileData', subscriber: sub1, keys: ['2', '3'] });
      const msg = rowGuidSampleStopMessage('Data', { server: 'PUB', database: 'PersonalizationServer' }, [d])!;
      expect(msg).toMatch(
        /^publication Data: rows with the same primary key carry another rowguid than at the publisher PUB\/PersonalizationServer \(a sample by primary key\): ProfileData at SUB1\/PersonalizationServer: 2 rows, keys 2, 3\. Merge matches rows by rowguid/,
      );
      expect(rowGuidSampleStopMessage('Data', { server: 'PUB', database: 'P' }, [])).toBeUndefined();
    },
  );
});
