// The gates' notes: what approving lets happen, shown by `replup status` and the step table while the gate waits.
import { describe, expect, it } from 'vitest';
import type { SetupPlan } from '../../../plan/setup-replication/types.js';
import { subscribeConfigNote } from '../../../plan/setup-replication/gate-notes.js';
import { setSchedulesNote } from '../../../workflows/agent-schedules.js';
import { loadExample } from './load-example.js';

describe('subscribe-config: the databases whose data subscribing replaces', () => {
  it('names every Config subscriber database once (simple and branch-office forms)', async () => {
    const simple = (await loadExample('setup-replication.yaml')) as unknown as SetupPlan;
    expect(subscribeConfigNote(simple)).toBe(
      'approve to delete the data of 2 subscriber databases and replace it with the Config snapshot (sync type ' +
        'automatic; the vendor\'s Replication guide: "all the existing data is deleted and replaced with data ' +
        'from the master"): ' +
        'LAB-SITE1/PersonalizationServer, LAB-SITE2\\PERSONALIZATION/PersonalizationServer',
    );
    const branches = (await loadExample('setup-branch-office.yaml')) as unknown as SetupPlan;
    const note = subscribeConfigNote(branches);
    const subscribers = new Set(branches.publications.filter((p) => p.kind === 'Config').flatMap((p) => p.subscribers));
    expect(note).toContain(`approve to delete the data of ${subscribers.size} subscriber databases`);
  });
});

describe('set-schedules: the jobs whose schedules change', () => {
  it('names each job, its publication and subscriber, now and wanted', () => {
    expect(
      setSchedulesNote([
        {
          job: 'PUB-PS-Config-SQL2',
          publication: 'Config',
          subscriber: 'SQL2/PersonalizationServer',
          now: 'every 5 minutes 00:00:00-23:59:59',
          wanted: 'every 5 minutes 01:00:00-23:55:00',
        } as never,
      ]),
    ).toBe(
      'approve to change the schedules of 1 merge agent job (sp_update_schedule): PUB-PS-Config-SQL2 (Config → ' +
        'SQL2/PersonalizationServer): every 5 minutes 00:00:00-23:59:59, wanted every 5 minutes 01:00:00-23:55:00',
    );
  });
});
