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
/** The assessment of one planned subscription, Config → sub1, found as `found`, for a run of `runHours`. */
const assessOne = (found: SubscriptionHealth, runHours = 8) =>
  assessSubscriptions(pub, [{ publication: 'Config', subscriber: sub1 }], [found], NOW, runHours);

describe('assessSubscriptions', () => {
  it('a healthy push subscription merged an hour ago: no problem, no warning', () => {
    expect(assessOne(health())).toEqual({ problems: [], warnings: [] });
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

  // Retention 14 days and the 24-hour grace period are over.
  it('expired: a problem that says its changes would be lost', () => {
    const { problems } = assessOne(health({ lastSync: hoursAgo(15 * 24 + 1) }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^subscription Config → SQL2\/PersonalizationServer has expired \(last merged 2026-11-19T23:00:00.000Z, publication retention 14 days, and the 24-hour grace period is over\): its changes can no longer merge/,
    );
    expect(problems[0]).toContain("sp_reinitmergesubscription @upload_first = 'true'");
  });

  it('past retention but within the grace period: a problem naming when it expires', () => {
    const { problems } = assessOne(health({ lastSync: hoursAgo(14 * 24 + 2) }));
    expect(problems).toEqual([
      'subscription Config → SQL2/PersonalizationServer is past its retention period (last merged ' +
        '2026-11-20T22:00:00.000Z, publication retention 14 days) and expires at 2026-12-05T22:00:00.000Z: ' +
        'merge it now (or reinitialize it with upload first), then retry preflight',
    ]);
  });

  it('retention ending within the planned run: a warning, not a stop; beyond the run: nothing', () => {
    const soon = assessOne(health({ lastSync: hoursAgo(14 * 24 - 3) }));
    expect(soon.problems).toEqual([]);
    expect(soon.warnings).toEqual([
      'subscription Config → SQL2/PersonalizationServer reaches the end of its retention period at ' +
        "2026-12-05T03:00:00.000Z, within the planned run of 8 h (options.expectedRunHours): the run's first " +
        'sync merges it in time unless it is held up before then',
    ]);
    expect(assessOne(health({ lastSync: hoursAgo(14 * 24 - 3) }), 2)).toEqual({ problems: [], warnings: [] });
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

  // Pull, anonymous, other publications: removal would drop them.
  it('lists subscriptions the plan does not know', () => {
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
  });

  it('matches names as SQL Server does, without regard to case', () => {
    const found = health({ publication: 'CONFIG', subscriber: { server: 'sql2', database: 'personalizationserver' } });
    expect(assessOne(found).problems).toEqual([]);
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
    const withDistributor = (version: string) =>
      versionOrderProblems([{ publisher: hq, subscriber: sub }], { server: 'DIST', version });
    expect(withDistributor('14.0.3000.0')).toEqual([
      'the distributor DIST runs SQL Server 14.0.3000.0, older than the publisher HQ (15.0.4000.0): a ' +
        "distributor must be at least at its publishers' version; upgrade the distributor first",
    ]);
    expect(withDistributor('16.0.1000.1')).toEqual([]);
  });
});

describe('productVersionProblems (#21)', () => {
  const a = { server: 'SQL1', database: 'PS' };
  const b = { server: 'SQL2', database: 'PS' };
  /** The problems of a plan from 8.2.0.0 to 10.4.0.0 whose databases a and b run these versions. */
  const problemsOf = (versionA: string, versionB: string) =>
    productVersionProblems(
      [
        { db: a, version: versionA },
        { db: b, version: versionB },
      ],
      '8.2.0.0',
      '10.4.0.0',
    );

  it('a fleet already at the target is told there is nothing to do', () => {
    expect(problemsOf('10.4.0.0', '10.4.0.0')).toEqual([
      'every database already runs 10.4.0.0 or later (SQL1/PS 10.4.0.0, SQL2/PS 10.4.0.0): this fleet is ' +
        'already upgraded; there is nothing to do, or correct from/to in the plan',
    ]);
  });
  it('a half-upgraded fleet and a wrong from are named per database; all at from passes', () => {
    expect(problemsOf('10.4.0.0', '8.3.100.0')).toEqual([
      "SQL1/PS already runs 10.4.0.0, the plan's target is 10.4.0.0: part of the fleet was upgraded already; " +
        'finish it by hand or correct the plan, then retry preflight',
      'SQL2/PS runs 8.3.100.0, the plan says from: 8.2.0.0: correct from in the plan (the steps that apply ' +
        'depend on it), then retry preflight',
    ]);
    expect(problemsOf('8.2.0.0', '8.2.0.0')).toEqual([]);
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

  /** Config's job with its one schedule 'every 5 min', and Data's with 'daily' (of sub1 unless given). */
  const every5 = (scheduleId: number, enabled: boolean) =>
    job('Config', sub1, [{ scheduleId, name: 'every 5 min', enabled }]);
  const daily = (scheduleId: number, enabled: boolean, subscriber = sub1) =>
    job('Data', subscriber, [{ scheduleId, name: 'daily', enabled }]);

  it('puts back each schedule as it was, including one that was disabled before the run', () => {
    const recorded = recordSchedules([every5(1, true), daily(2, false)]);
    const paused = [every5(1, false), daily(2, false)];
    expect(schedulesToRestore(paused, recorded)).toEqual([
      { scheduleId: 1, enabled: true, job: 'SQL1-PS-Config-SQL2' },
    ]);
  });

  // The vendor script re-created the job: a new schedule id under the same name.
  it("a re-created job gets the recorded state; another publisher's job is left to that publisher", () => {
    const recorded = recordSchedules([daily(2, false)]);
    const recreated = [daily(40, true), daily(41, false, sub2)];
    expect(schedulesToRestore(recreated, recorded)).toEqual([
      { scheduleId: 40, enabled: false, job: 'SQL1-PS-Data-SQL2' },
    ]);
  });

  // Its re-created job, paused by the run, stays so.
  it('a job that had no schedule before the run gets none enabled after it', () => {
    const recorded = recordSchedules([job('Config', sub1, [])]);
    expect(recorded).toEqual([{ publication: 'Config', subscriber: sub1, schedule: '', enabled: false }]);
    const recreated = [every5(7, false)];
    expect(schedulesToRestore(recreated, recorded)).toEqual([]);
  });
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

  type Schedule = MergeAgentJob['schedules'][number];
  const recordOne = (publication: string, schedule: Schedule) => recordSchedules([job(publication, [schedule])]);
  /** What is put back on a re-created job with the one schedule `found`, after `recorded`. */
  const restoreOne = (publication: string, found: Schedule, recorded: ReturnType<typeof recordSchedules>) =>
    schedulesToRestore([job(publication, [found])], recorded);

  // The re-created job has the vendor's midnight and was paused by the run.
  it('Data at 02:00 recorded; the re-created job gets 02:00 and its enabled state in one call', () => {
    const recorded = recordOne('Data', { scheduleId: 2, name: 'daily', enabled: true, timing: onceAt(20000) });
    expect(recorded[0]!.timing).toEqual(onceAt(20000));
    expect(restoreOne('Data', { scheduleId: 40, name: 'daily', enabled: false, timing: onceAt(0) }, recorded)).toEqual([
      { scheduleId: 40, enabled: true, job: 'SQL1-PS-Data-SQL2', timing: onceAt(20000) },
    ]);
  });

  it('the same timing: only the enabled state; once put back, nothing left (what the activity verifies)', () => {
    const recorded = recordOne('Config', { scheduleId: 1, name: 'every 5 min', enabled: true, timing: every5min() });
    const found = { scheduleId: 9, name: 'every 5 min', timing: every5min() };
    expect(restoreOne('Config', { ...found, enabled: false }, recorded)).toEqual([
      { scheduleId: 9, enabled: true, job: 'SQL1-PS-Config-SQL2' },
    ]);
    expect(restoreOne('Config', { ...found, enabled: true }, recorded)).toEqual([]);
  });

  // A record without timing comes from an older run.
  it('another name takes the one recorded schedule; a record without timing leaves the timing alone', () => {
    const recorded = recordOne('Data', { scheduleId: 2, name: 'nightly (DBA)', enabled: false, timing: onceAt(20000) });
    const renamed = { scheduleId: 41, name: 'Data-agent-schedule', enabled: false, timing: onceAt(0) };
    expect(restoreOne('Data', renamed, recorded)).toEqual([
      { scheduleId: 41, enabled: false, job: 'SQL1-PS-Data-SQL2', timing: onceAt(20000) },
    ]);
    const older = [{ publication: 'Data', subscriber: sub1, schedule: 'daily', enabled: true }];
    expect(restoreOne('Data', { ...renamed, name: 'daily' }, older)).toEqual([
      { scheduleId: 41, enabled: true, job: 'SQL1-PS-Data-SQL2' },
    ]);
  });
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

  const overlaps = (...records: ReturnType<typeof rec>[]) => scheduleOverlaps(records, kindOf);

  // The vendor's schedules: Config every 5 minutes all day, Data at midnight.
  it("the vendor's schedules overlap: named with both schedules", () => {
    expect(overlaps(rec('Config', every5min()), rec('Data', onceAt(0)))).toEqual([
      'the merge agents of Config and Data at SQL2/PersonalizationServer can run at the same time (Config ' +
        'schedule: every 5 minutes 00:00:00-23:59:59; Data schedule: at 00:00:00); ' +
        ("the vendor's Replication guide says Config and Data must never overlap: change one of the schedules " +
          '(replup keeps them ' +
          'as they are)'),
    ]);
  });

  // Nor a disabled one, nor another subscriber, nor weekly ones on different days.
  it('Config 06:00-22:00 and Data at 02:00 do not overlap; nor the cases that cannot run together', () => {
    expect(overlaps(rec('Config', every5min(60000, 220000)), rec('Data', onceAt(20000)))).toEqual([]);
    expect(overlaps(rec('Config', every5min()), rec('Data', onceAt(0), false))).toEqual([]);
    expect(overlaps(rec('Config', every5min()), rec('Data', onceAt(0), true, sub2))).toEqual([]);
    const weekly = (days: number, t: ScheduleTiming): ScheduleTiming => ({
      ...t,
      freqType: 8,
      freqInterval: days,
      freqRecurrenceFactor: 1,
    });
    expect(overlaps(rec('Config', weekly(2, every5min())), rec('Data', weekly(64, onceAt(0))))).toEqual([]);
    expect(overlaps(rec('Config', weekly(2 | 64, every5min())), rec('Data', weekly(64, onceAt(0))))).toHaveLength(1);
  });
});
