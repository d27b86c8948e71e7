// The pure preflight findings (activities/personalization-upgrade/preflight.ts): what an operator reads when preflight
// stops a run before the drain, and the schedules put back after it. Each case is a fleet as the ports
// report it; the expectations are the sentences the operator acts on.
import { describe, expect, it } from 'vitest';
import {
  assessSubscriptions,
  productVersionProblems,
  recordSchedules,
  scheduleOverlaps,
  schedulesToRestore,
  versionOrderProblems,
} from '../../../activities/personalization-upgrade/preflight.js';
import type { MergeAgentJob, ScheduleTiming, SubscriptionHealth } from '../../../activities/ports.js';

const pub = { server: 'SQL1', database: 'PersonalizationServer' };
const sub1 = { server: 'SQL2', database: 'PersonalizationServer' };
const sub2 = { server: 'SQL3', database: 'PersonalizationServer' };
const NOW = Date.parse('2026-12-05T00:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
const health = (over: Partial<SubscriptionHealth> = {}): SubscriptionHealth => ({
  publication: 'Config',
  subscriber: sub1,
  type: 'push',
  status: 'active',
  lastSync: hoursAgo(1),
  retentionDays: 14,
  ...over,
});

describe('assessSubscriptions', () => {
  it('a healthy push subscription merged an hour ago: no problem, no warning', () => {
    expect(assessSubscriptions(pub, [{ publication: 'Config', subscriber: sub1 }], [health()], NOW, 8)).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it('names the missing, the inactive and the pull subscription with what to do', () => {
    const planned = [
      { publication: 'Config', subscriber: sub1 },
      { publication: 'Data', subscriber: sub1 },
      { publication: 'Config', subscriber: sub2 },
    ];
    const found = [
      health({ status: 'inactive' }),
      health({ publication: 'Data', type: 'pull' }),
      health({ subscriber: sub2, status: 'deleted' }),
    ];
    const { problems } = assessSubscriptions(pub, planned, found, NOW, 8);
    expect(problems).toEqual([
      'subscription Config → SQL2/PersonalizationServer is inactive (sysmergesubscriptions.status 0): it ' +
        'cannot merge; synchronize or reinitialize it (upload first) in Replication Monitor, then retry ' +
        'preflight',
      'subscription Data → SQL2/PersonalizationServer is a pull subscription: replup runs push ' +
        "subscriptions' merge agents only; recreate it as a push subscription or upgrade this subscriber by " +
        'hand',
      'subscription Config → SQL3/PersonalizationServer does not exist at SQL1/PersonalizationServer ' +
        "(sysmergesubscriptions): create it as the vendor's scripts do, or remove the subscriber from the plan",
    ]);
  });

  it(
    'expired (retention 14 days + the 24-hour grace period ' + 'over): a problem that says its changes would be lost',
    () => {
      const { problems } = assessSubscriptions(
        pub,
        [{ publication: 'Config', subscriber: sub1 }],
        [health({ lastSync: hoursAgo(15 * 24 + 1) })],
        NOW,
        8,
      );
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^subscription Config → SQL2\/PersonalizationServer has expired \(last merged 2026-11-19T23:00:00.000Z, publication retention 14 days, and the 24-hour grace period is over\): its changes can no longer merge/,
      );
      expect(problems[0]).toContain("sp_reinitmergesubscription @upload_first = 'true'");
    },
  );

  it('past retention but within the grace period: a problem naming when it expires', () => {
    const { problems } = assessSubscriptions(
      pub,
      [{ publication: 'Config', subscriber: sub1 }],
      [health({ lastSync: hoursAgo(14 * 24 + 2) })],
      NOW,
      8,
    );
    expect(problems).toEqual([
      'subscription Config → SQL2/PersonalizationServer is past its retention period (last merged ' +
        '2026-11-20T22:00:00.000Z, publication retention 14 days) and expires at 2026-12-05T22:00:00.000Z: ' +
        'merge it now (or reinitialize it with upload first), then retry preflight',
    ]);
  });

  it('retention ending within the planned run: a warning, not a stop; beyond the run: nothing', () => {
    const planned = [{ publication: 'Config', subscriber: sub1 }];
    const soon = assessSubscriptions(pub, planned, [health({ lastSync: hoursAgo(14 * 24 - 3) })], NOW, 8);
    expect(soon.problems).toEqual([]);
    expect(soon.warnings).toEqual([
      'subscription Config → SQL2/PersonalizationServer reaches the end of its retention period at ' +
        "2026-12-05T03:00:00.000Z, within the planned run of 8 h (options.expectedRunHours): the run's first " +
        'sync merges it in time unless it is held up before then',
    ]);
    expect(assessSubscriptions(pub, planned, [health({ lastSync: hoursAgo(14 * 24 - 3) })], NOW, 2)).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it('retention 0 (never expires) and a subscription that never merged are not judged by age', () => {
    const planned = [
      { publication: 'Config', subscriber: sub1 },
      { publication: 'Data', subscriber: sub1 },
    ];
    const found = [
      health({ retentionDays: 0, lastSync: hoursAgo(24 * 400) }),
      health({ publication: 'Data', lastSync: undefined }),
    ];
    expect(assessSubscriptions(pub, planned, found, NOW, 8)).toEqual({ problems: [], warnings: [] });
  });

  it(
    'lists subscriptions the plan does not know (pull, anonymous, other publications), since removal would ' +
      'drop them',
    () => {
      const found = [
        health(),
        health({ publication: 'Reports', subscriber: sub2, type: 'pull' }),
        health({ subscriber: { server: 'LAPTOP7', database: 'PS' }, type: 'anonymous' }),
      ];
      const { problems } = assessSubscriptions(pub, [{ publication: 'Config', subscriber: sub1 }], found, NOW, 8);
      expect(problems).toEqual([
        'SQL1/PersonalizationServer has subscriptions the plan does not know: Reports → ' +
          'SQL3/PersonalizationServer (pull), Config → LAPTOP7/PS (anonymous); remove-replication would drop ' +
          'them and nothing would create them again: add them to the plan, or drop them first',
      ]);
    },
  );

  it('matches names as SQL Server does, without regard to case', () => {
    const found = [
      health({ publication: 'CONFIG', subscriber: { server: 'sql2', database: 'personalizationserver' } }),
    ];
    expect(assessSubscriptions(pub, [{ publication: 'Config', subscriber: sub1 }], found, NOW, 8).problems).toEqual([]);
  });
});

describe('versionOrderProblems', () => {
  it('a branch publisher older than its recovery subscriber is named, whatever the central publisher runs', () => {
    const hq = { server: 'HQ', version: '15.0.4000.0' };
    const branch = { server: 'LEEDS', version: '13.0.5000.0' };
    const recovery = { server: 'HQ\\RECOVERY', version: '15.0.4000.0' };
    expect(
      versionOrderProblems([
        { publisher: hq, subscriber: branch },
        { publisher: branch, subscriber: recovery },
      ]),
    ).toEqual([
      'the subscriber HQ\\RECOVERY runs SQL Server 15.0.4000.0, newer than its publisher LEEDS ' +
        '(13.0.5000.0): a publisher must run the highest version of the servers it replicates with; upgrade ' +
        'LEEDS first',
    ]);
  });

  it('a distributor on its own server older than a publisher is named; equal or newer passes', () => {
    const hq = { server: 'HQ', version: '15.0.4000.0' };
    const sub = { server: 'S1', version: '15.0.4000.0' };
    expect(
      versionOrderProblems([{ publisher: hq, subscriber: sub }], { server: 'DIST', version: '14.0.3000.0' }),
    ).toEqual([
      'the distributor DIST runs SQL Server 14.0.3000.0, older than the publisher HQ (15.0.4000.0): a ' +
        "distributor must be at least at its publishers' version; upgrade the distributor first",
    ]);
    expect(
      versionOrderProblems([{ publisher: hq, subscriber: sub }], { server: 'DIST', version: '16.0.1000.1' }),
    ).toEqual([]);
  });
});

describe('productVersionProblems (#21)', () => {
  const a = { server: 'SQL1', database: 'PS' };
  const b = { server: 'SQL2', database: 'PS' };
  it('a fleet already at the target is told there is nothing to do', () => {
    expect(
      productVersionProblems(
        [
          { db: a, version: '10.4.0.0' },
          { db: b, version: '10.4.0.0' },
        ],
        '8.2.0.0',
        '10.4.0.0',
      ),
    ).toEqual([
      'every database already runs 10.4.0.0 or later (SQL1/PS 10.4.0.0, SQL2/PS 10.4.0.0): this fleet is ' +
        'already upgraded; there is nothing to do, or correct from/to in the plan',
    ]);
  });
  it('a half-upgraded fleet and a wrong from are named per database; all at from passes', () => {
    expect(
      productVersionProblems(
        [
          { db: a, version: '10.4.0.0' },
          { db: b, version: '8.3.100.0' },
        ],
        '8.2.0.0',
        '10.4.0.0',
      ),
    ).toEqual([
      "SQL1/PS already runs 10.4.0.0, the plan's target is 10.4.0.0: part of the fleet was upgraded already; " +
        'finish it by hand or correct the plan, then retry preflight',
      'SQL2/PS runs 8.3.100.0, the plan says from: 8.2.0.0: correct from in the plan (the steps that apply ' +
        'depend on it), then retry preflight',
    ]);
    expect(
      productVersionProblems(
        [
          { db: a, version: '8.2.0.0' },
          { db: b, version: '8.2.0.0' },
        ],
        '8.2.0.0',
        '10.4.0.0',
      ),
    ).toEqual([]);
  });
});

describe('agent schedules: recorded, then restored exactly', () => {
  const job = (publication: string, subscriber: typeof sub1, schedules: MergeAgentJob['schedules']): MergeAgentJob => ({
    jobId: `${publication}-${subscriber.server}`,
    name: `SQL1-PS-${publication}-${subscriber.server}`,
    publication,
    subscriber,
    schedules,
  });

  it('puts back each schedule as it was, including one that was disabled before the run', () => {
    const before = [
      job('Config', sub1, [{ scheduleId: 1, name: 'every 5 min', enabled: true }]),
      job('Data', sub1, [{ scheduleId: 2, name: 'daily', enabled: false }]),
    ];
    const recorded = recordSchedules(before);
    const paused = [
      job('Config', sub1, [{ scheduleId: 1, name: 'every 5 min', enabled: false }]),
      job('Data', sub1, [{ scheduleId: 2, name: 'daily', enabled: false }]),
    ];
    expect(schedulesToRestore(paused, recorded)).toEqual([
      { scheduleId: 1, enabled: true, job: 'SQL1-PS-Config-SQL2' },
    ]);
  });

  it(
    'a job re-created by the vendor script (new schedule id, same name) gets the recorded state; another ' +
      "publisher's job is left to that publisher",
    () => {
      const recorded = recordSchedules([job('Data', sub1, [{ scheduleId: 2, name: 'daily', enabled: false }])]);
      const recreated = [
        job('Data', sub1, [{ scheduleId: 40, name: 'daily', enabled: true }]),
        job('Data', sub2, [{ scheduleId: 41, name: 'daily', enabled: false }]),
      ];
      expect(schedulesToRestore(recreated, recorded)).toEqual([
        { scheduleId: 40, enabled: false, job: 'SQL1-PS-Data-SQL2' },
      ]);
    },
  );

  it(
    'a job that had no schedule before the run gets none enabled after it (its re-created job paused by the ' +
      'run stays so)',
    () => {
      const recorded = recordSchedules([job('Config', sub1, [])]);
      expect(recorded).toEqual([{ publication: 'Config', subscriber: sub1, schedule: '', enabled: false }]);
      expect(
        schedulesToRestore([job('Config', sub1, [{ scheduleId: 7, name: 'every 5 min', enabled: false }])], recorded),
      ).toEqual([]);
    },
  );
});

// sysschedules timing: daily (freq_type 4); freq_subday_type 4 = every N minutes, 1 = once at active_start_time
// (hhmmss).
const daily = {
  freqType: 4,
  freqInterval: 1,
  freqRelativeInterval: 0,
  freqRecurrenceFactor: 0,
  activeStartDate: 20240101,
  activeEndDate: 99991231,
};
const every5min = (from = 0, to = 235959): ScheduleTiming => ({
  ...daily,
  freqSubdayType: 4,
  freqSubdayInterval: 5,
  activeStartTime: from,
  activeEndTime: to,
});
const onceAt = (t: number): ScheduleTiming => ({
  ...daily,
  freqSubdayType: 1,
  freqSubdayInterval: 0,
  activeStartTime: t,
  activeEndTime: 235959,
});

describe("agent schedules' timing (#20 §5): the DBA's put back over the vendor's", () => {
  const job = (publication: string, schedules: MergeAgentJob['schedules']): MergeAgentJob => ({
    jobId: publication,
    name: `SQL1-PS-${publication}-SQL2`,
    publication,
    subscriber: sub1,
    schedules,
  });

  it(
    "Data at 02:00 recorded; the re-created job (vendor's midnight, paused by the run) gets 02:00 and its " +
      'enabled state in one call',
    () => {
      const recorded = recordSchedules([
        job('Data', [{ scheduleId: 2, name: 'daily', enabled: true, timing: onceAt(20000) }]),
      ]);
      expect(recorded[0]!.timing).toEqual(onceAt(20000));
      const recreated = [job('Data', [{ scheduleId: 40, name: 'daily', enabled: false, timing: onceAt(0) }])];
      expect(schedulesToRestore(recreated, recorded)).toEqual([
        { scheduleId: 40, enabled: true, job: 'SQL1-PS-Data-SQL2', timing: onceAt(20000) },
      ]);
    },
  );

  it('the same timing: only the enabled state; once put back, nothing left (what the activity verifies)', () => {
    const recorded = recordSchedules([
      job('Config', [{ scheduleId: 1, name: 'every 5 min', enabled: true, timing: every5min() }]),
    ]);
    expect(
      schedulesToRestore(
        [job('Config', [{ scheduleId: 9, name: 'every 5 min', enabled: false, timing: every5min() }])],
        recorded,
      ),
    ).toEqual([{ scheduleId: 9, enabled: true, job: 'SQL1-PS-Config-SQL2' }]);
    expect(
      schedulesToRestore(
        [job('Config', [{ scheduleId: 9, name: 'every 5 min', enabled: true, timing: every5min() }])],
        recorded,
      ),
    ).toEqual([]);
  });

  it(
    'a re-created job whose one schedule has another name takes the one recorded schedule; a record without ' +
      'timing (an older run) leaves the timing alone',
    () => {
      const recorded = recordSchedules([
        job('Data', [{ scheduleId: 2, name: 'nightly (DBA)', enabled: false, timing: onceAt(20000) }]),
      ]);
      expect(
        schedulesToRestore(
          [job('Data', [{ scheduleId: 41, name: 'Data-agent-schedule', enabled: false, timing: onceAt(0) }])],
          recorded,
        ),
      ).toEqual([{ scheduleId: 41, enabled: false, job: 'SQL1-PS-Data-SQL2', timing: onceAt(20000) }]);
      const older = [{ publication: 'Data', subscriber: sub1, schedule: 'daily', enabled: true }];
      expect(
        schedulesToRestore(
          [job('Data', [{ scheduleId: 41, name: 'daily', enabled: false, timing: onceAt(0) }])],
          older,
        ),
      ).toEqual([{ scheduleId: 41, enabled: true, job: 'SQL1-PS-Data-SQL2' }]);
    },
  );
});

describe('scheduleOverlaps: Config and Data of one subscriber must never overlap (the seed)', () => {
  const kindOf = (p: string) => (p === 'Config' ? 'Config' : p === 'Data' ? 'Data' : undefined);
  const rec = (publication: string, timing: ScheduleTiming, enabled = true, subscriber = sub1) => ({
    publication,
    subscriber,
    schedule: `${publication} schedule`,
    enabled,
    timing,
  });

  it(
    "the vendor's schedules (Config every 5 minutes all day, Data at midnight) overlap: named with both " + 'schedules',
    () => {
      expect(scheduleOverlaps([rec('Config', every5min()), rec('Data', onceAt(0))], kindOf)).toEqual([
        'the merge agents of Config and Data at SQL2/PersonalizationServer can run at the same time (Config ' +
          'schedule: every 5 minutes 00:00:00-23:59:59; Data schedule: at 00:00:00); ' +
          ('the seed says Config and Data must never overlap: change one of the schedules (replup keeps them ' +
            'as they are)'),
      ]);
    },
  );

  it(
    'Config 06:00-22:00 and Data at 02:00 do not; nor a disabled one, nor another subscriber, nor weekly ones ' +
      'on different days',
    () => {
      expect(scheduleOverlaps([rec('Config', every5min(60000, 220000)), rec('Data', onceAt(20000))], kindOf)).toEqual(
        [],
      );
      expect(scheduleOverlaps([rec('Config', every5min()), rec('Data', onceAt(0), false)], kindOf)).toEqual([]);
      expect(scheduleOverlaps([rec('Config', every5min()), rec('Data', onceAt(0), true, sub2)], kindOf)).toEqual([]);
      const weekly = (days: number, t: ScheduleTiming): ScheduleTiming => ({
        ...t,
        freqType: 8,
        freqInterval: days,
        freqRecurrenceFactor: 1,
      });
      expect(
        scheduleOverlaps([rec('Config', weekly(2, every5min())), rec('Data', weekly(64, onceAt(0)))], kindOf),
      ).toEqual([]);
      expect(
        scheduleOverlaps([rec('Config', weekly(2 | 64, every5min())), rec('Data', weekly(64, onceAt(0)))], kindOf),
      ).toHaveLength(1);
    },
  );
});
