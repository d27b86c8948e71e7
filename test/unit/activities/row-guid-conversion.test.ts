// The pure decision behind an uncertain ConvertRowGuids.sql (issue #20 §4): what the
// (primary key, rowguid) samples say about whether the script ran on a subscriber.
import { describe, expect, it } from 'vitest';
import {
  judgeRowGuidConversion,
  legacyRowGuid,
  legacyRowsBefore,
  readStartedMark,
  startedMarkValue,
  type ConversionSample,
} from '../../../activities/personalization-upgrade/convergence.js';

const P1 = '0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
const P2 = '11223344-5566-7788-99aa-bbccddeeff00';
const P3 = 'deadbeef-0102-0304-0506-0708090a0b0c';
const pub = [
  { key: '1', rowguid: P1 },
  { key: '2', rowguid: P2 },
  { key: '3', rowguid: P3 },
];
const table = (atSubscriber: { key: string; rowguid: string }[]): ConversionSample => ({
  table: 'dbo.ProfileData',
  atSubscriber,
  atPublishers: [pub],
});

describe('legacyRowGuid', () => {
  it('reverses the bytes of the first three groups as ConvertRowGuids.sql does, and undoes itself', () => {
    // SUBSTRING(@b, 4,1)+(3)+(2)+(1), (6)+(5), (8)+(7), then 9-16 unchanged.
    expect(legacyRowGuid(P1)).toBe('3d2c1b0a-5f4e-7160-8293-a4b5c6d7e8f9');
    expect(legacyRowGuid(legacyRowGuid(P2))).toBe(P2);
    expect(legacyRowGuid(P3.toUpperCase())).toBe('efbeadde-0201-0403-0506-0708090a0b0c');
  });
});

describe('judgeRowGuidConversion', () => {
  it("every compared row carries the publisher's GUID (SQL Server returns them upper case): converted", () => {
    const e = judgeRowGuidConversion([
      table([
        { key: '1', rowguid: P1.toUpperCase() },
        { key: '2', rowguid: P2 },
        { key: '3', rowguid: P3 },
      ]),
    ]);
    expect(e).toMatchObject({ outcome: 'converted', converted: 3, legacy: 0, other: 0 });
    expect(e.summary).toBe(
      "3 rows with the publisher's GUID, 0 in the legacy byte order, 0 with another GUID (tables sampled by " +
        'primary key: dbo.ProfileData)',
    );
  });

  it('every compared row still in the legacy byte order: not converted (the script rolled back)', () => {
    expect(
      judgeRowGuidConversion([table(pub.map((r) => ({ key: r.key, rowguid: legacyRowGuid(r.rowguid) })))]),
    ).toMatchObject({ outcome: 'not-converted', converted: 0, legacy: 3, other: 0 });
  });

  it('some converted and some not, or a GUID that is neither: unknown, a person decides', () => {
    expect(
      judgeRowGuidConversion([
        table([
          { key: '1', rowguid: P1 },
          { key: '2', rowguid: legacyRowGuid(P2) },
        ]),
      ]).outcome,
    ).toBe('unknown');
    expect(judgeRowGuidConversion([table([{ key: '1', rowguid: P2 }])])).toMatchObject({
      outcome: 'unknown',
      other: 1,
    });
  });

  it('no row to compare (empty tables, or keys the publisher does not have): unknown', () => {
    expect(judgeRowGuidConversion([])).toMatchObject({
      outcome: 'unknown',
      summary: 'no row to compare (tables sampled by primary key: none)',
    });
    expect(judgeRowGuidConversion([table([])]).outcome).toBe('unknown');
    expect(judgeRowGuidConversion([table([{ key: '9', rowguid: P1 }])]).outcome).toBe('unknown');
  });

  it(
    "with the rows recorded as legacy before the script, rows that came by merge with the publisher's GUID do " +
      'not make it a mix',
    () => {
      // Before: rows 1 and 2 legacy, row 3 arrived by merge with the publisher's GUID.
      const beforeRun = table([
        { key: '1', rowguid: legacyRowGuid(P1) },
        { key: '2', rowguid: legacyRowGuid(P2) },
        { key: '3', rowguid: P3 },
      ]);
      const before = legacyRowsBefore([beforeRun]);
      expect(before).toEqual({ 'dbo.ProfileData': ['1', '2'] });
      // Rolled back: the same state. Without the record it would be a mix.
      expect(judgeRowGuidConversion([beforeRun]).outcome).toBe('unknown');
      expect(judgeRowGuidConversion([beforeRun], before)).toMatchObject({
        outcome: 'not-converted',
        legacy: 2,
        converted: 0,
      });
      // A script that swaps every row ran: rows 1-2 now the publisher's, row 3 swapped to the legacy form.
      const swapped = table([
        { key: '1', rowguid: P1 },
        { key: '2', rowguid: P2 },
        { key: '3', rowguid: legacyRowGuid(P3) },
      ]);
      expect(judgeRowGuidConversion([swapped], before)).toMatchObject({
        outcome: 'converted',
        converted: 2,
        legacy: 0,
      });
      // Half of them: a person decides.
      expect(
        judgeRowGuidConversion(
          [
            table([
              { key: '1', rowguid: P1 },
              { key: '2', rowguid: legacyRowGuid(P2) },
            ]),
          ],
          before,
        ).outcome,
      ).toBe('unknown');
      // Nothing was legacy before: nothing to judge by.
      expect(judgeRowGuidConversion([swapped], {}).outcome).toBe('unknown');
    },
  );

  it('the record fits the started mark: cut at the character budget, and read back with its label', () => {
    const many = table(Array.from({ length: 500 }, (_, i) => ({ key: String(i), rowguid: legacyRowGuid(P1) })));
    const big = { ...many, atPublishers: [many.atSubscriber.map((r) => ({ key: r.key, rowguid: P1 }))] };
    const before = legacyRowsBefore([big], 200);
    expect(JSON.stringify(before).length).toBeLessThanOrEqual(200);
    expect(before['dbo.ProfileData']!.length).toBeGreaterThan(10);
    const value = startedMarkValue('run r1 at 2026-12-05T07:00:00.000Z', before);
    expect(readStartedMark(value)).toEqual({ label: 'run r1 at 2026-12-05T07:00:00.000Z', before });
    expect(readStartedMark('run r0 at 2026-12-04T07:00:00.000Z')).toEqual({
      label: 'run r0 at 2026-12-04T07:00:00.000Z',
    });
  });
});
