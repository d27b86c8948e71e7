import { describe, expect, it } from 'vitest';
import { planSteps } from '../../../plan/personalization-upgrade/steps.js';
import { UPGRADE_STEP_IDS } from '../../../plan/personalization-upgrade/types.js';
import { loadExample } from './load-example.js';

describe('planSteps', () => {
  it('from 8.2: all 12 steps apply, in runbook order, the version-dependent ones saying why', async () => {
    const steps = planSteps(await loadExample('lab-small.yaml'));
    expect(steps.map((s) => s.id)).toEqual([...UPGRADE_STEP_IDS]);
    expect(steps.every((s) => s.applies)).toBe(true);
    const reason = (id: string) => steps.find((s) => s.id === id)?.reason;
    expect(reason('convert-row-guids')).toBe(
      'upgrading from 8.2.0.0, earlier than 8.3.253.0: ConvertRowGuids.sql runs on each of the 2 subscribers ' +
        "so their row GUIDs match the publisher's and re-enabling without a snapshot does not duplicate rows; " +
        'at most once per subscriber (a mark in its database); after a lost reply a (primary key, rowguid) ' +
        'sample settles it, or a person when it cannot',
    );
    expect(reason('stop-background-services')).toBe(
      'upgrading from 8.2.0.0, earlier than 8.3: the background service upgrades each user after the ' +
        'database upgrade and would write while replication is set up, so it is stopped on the 4 ' +
        'personalization servers until replication works',
    );
    expect(reason('restore-service')).toBe(
      "always: the merge agent jobs' schedules are restored as they were, the personalization servers serve " +
        'users again and their background services start again',
    );
    expect(reason('sync-until-quiet')).toBe(
      'always: Config and Data are merged, one after the other, until 2 rounds in a row move 0 inserts, ' +
        'updates and deletes on every subscription (at most 10 rounds)',
    );
  });

  it('from 10.0: the two version-dependent steps do not apply, and say why', async () => {
    const steps = planSteps(await loadExample('lab-modern.yaml'));
    expect(steps.filter((s) => !s.applies)).toEqual([
      {
        id: 'stop-background-services',
        applies: false,
        reason:
          'upgrading from 10.0.0.0, 8.3 or later: the background service does not upgrade users after this ' +
          'upgrade, nothing to stop',
      },
      {
        id: 'convert-row-guids',
        applies: false,
        reason:
          'upgrading from 10.0.0.0, 8.3.253.0 or later: row GUIDs already match, ConvertRowGuids.sql is not needed',
      },
    ]);
    expect(steps.find((s) => s.id === 'restore-service')?.reason).toBe(
      "always: the merge agent jobs' schedules are restored as they were and the personalization servers " +
        'serve users again',
    );
  });

  it('between 8.3 and 8.3.253.0 only the row GUIDs are converted (branch-office example, from 8.3.100.0)', async () => {
    const steps = planSteps(await loadExample('branch-office.yaml'));
    expect(steps.filter((s) => !s.applies).map((s) => s.id)).toEqual(['stop-background-services']);
    // Every database but the central publisher subscribes to something: 2 branches and 2 recovery databases.
    expect(steps.find((s) => s.id === 'convert-row-guids')?.reason).toContain('runs on each of the 4 subscribers');
  });

  it.each([
    ['8.3.253.0', false],
    ['8.3.1000.0', false], // compared as numbers: 1000 > 253
    ['8.3.252.0', true],
  ] as const)('from %s: convert-row-guids applies: %s', async (from, expected) => {
    const plan = { ...(await loadExample('lab-modern.yaml')), from };
    expect(planSteps(plan).find((s) => s.id === 'convert-row-guids')?.applies).toBe(expected);
  });

  it('a step gated in options.approvals says it waits for `replup approve`', async () => {
    const plan = await loadExample('sqlserver.yaml');
    expect(planSteps(plan).find((s) => s.id === 'remove-replication')?.reason).toBe(
      "always: a major upgrade needs replication disabled: records each publication's configuration " +
        '(retention, conflict retention, compatibility level, articles and their options), then drops the 2 ' +
        'publications and their 4 subscriptions; waits for `replup approve` first (options.approvals)',
    );
    expect(planSteps(plan).find((s) => s.id === 'upgrade')?.reason).toBe(
      'always: personalization servers and databases go from 8.2.0.0 to 10.4.0.0; an operator upgrades them ' +
        'and confirms with `replup confirm`',
    );
  });

  it(
    'enable-replication says how long it waits for each ' +
      "publication's snapshot " +
      '(options.snapshotTimeoutMinutes)',
    async () => {
      const plan = await loadExample('lab-small.yaml');
      const reason = (p: typeof plan) => planSteps(p).find((s) => s.id === 'enable-replication')?.reason;
      expect(reason(plan)).toBe(
        "always: re-creates the 2 publications (waiting for each publication's snapshot, at most 30 minutes) " +
          'and 4 subscriptions without a snapshot delivery; one left half-built is made again; the configuration ' +
          'recorded before removal is put back where that needs no snapshot, any other difference parks',
      );
      expect(reason({ ...plan, options: { ...plan.options, snapshotTimeoutMinutes: 5 } })).toContain(
        'at most 5 minutes',
      );
    },
  );
});
