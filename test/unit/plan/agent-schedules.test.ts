// The agent-schedules plan and the rule it shares with the upgrade's warning: when can the Config and Data merge
// agents of one subscription run at the same time (plan/agent-schedules/rule.ts, inferred from the seed).
import { describe, expect, it } from 'vitest';
import type { MergeAgentJob, ScheduleTiming } from '../../../activities/ports.js';
import { vendorScheduleTiming } from '../../../activities/lab/model.js';
import { parallelRuns } from '../../../plan/agent-schedules/rule.js';
import { parseAgentSchedulesPlan } from '../../../plan/agent-schedules/schema.js';
import { scheduleFindings } from '../../../plan/agent-schedules/differences.js';

const every = (minutes: number, from: number, to: number): ScheduleTiming => ({
  ...vendorScheduleTiming('Config'),
  freqSubdayInterval: minutes,
  activeStartTime: from,
  activeEndTime: to,
});
const at = (time: number): ScheduleTiming => ({ ...vendorScheduleTiming('Data'), activeStartTime: time });
const weekly = (days: number, t: ScheduleTiming): ScheduleTiming => ({ ...t, freqType: 8, freqInterval: days });

describe('parallelRuns: Config and Data of one subscription at the same time', () => {
  it("the vendor's defaults collide at midnight, with or without a Data window", () => {
    expect(parallelRuns(vendorScheduleTiming('Config'), vendorScheduleTiming('Data'), 0)).toBeDefined();
    expect(parallelRuns(vendorScheduleTiming('Config'), vendorScheduleTiming('Data'), 60)).toBeDefined();
  });

  it('Config from 01:00 clears Data at midnight with a 60-minute window, not with 61, nor Config from 00:30', () => {
    expect(parallelRuns(every(5, 10000, 235500), at(0), 60)).toBeUndefined();
    expect(parallelRuns(every(5, 10000, 235500), at(0), 61)).toMatch(/Config starts jobs from 01:00:00/);
    expect(parallelRuns(every(5, 3000, 235500), at(0), 60)).toBeDefined();
  });

  it('a Data window past midnight reaches the next day (weekly: the next weekday only)', () => {
    expect(parallelRuns(every(5, 1000, 220000), at(233000), 60)).toBeDefined();
    // Data Saturdays (64) at 23:30 runs into Sunday (1): Config on Sundays from 00:10 collides, on Mondays not.
    expect(parallelRuns(weekly(1, every(5, 1000, 220000)), weekly(64, at(233000)), 60)).toBeDefined();
    expect(parallelRuns(weekly(2, every(5, 1000, 220000)), weekly(64, at(233000)), 60)).toBeUndefined();
  });

  it('a schedule that starts with SQL Server Agent (64) or when idle (128) can run at any time', () => {
    expect(parallelRuns({ ...at(0), freqType: 64 }, at(120000), 0)).toBe(
      'Config starts when SQL Server Agent starts, so at any time',
    );
    expect(parallelRuns(every(5, 10000, 235500), { ...at(0), freqType: 128 }, 0)).toMatch(/Data starts when the/);
  });
});

describe('the agent-schedules plan', () => {
  const plan = (extra: string) =>
    parseAgentSchedulesPlan(
      ['name: s', 'runbook: agent-schedules', 'target: { kind: sqlserver }', 'publisher: { server: SQL1 }', extra].join(
        '\n',
      ),
      '/plans/s.yaml',
    );

  it('defaults: Config every 5 minutes 01:00:00-23:55:00, Data at midnight, a 60-minute window, an approval', () => {
    const r = plan('');
    expect(r.ok && r.value).toMatchObject({
      schedules: { config: { everyMinutes: 5, from: 10000, to: 235500 }, data: { from: 0 }, dataWindowMinutes: 60 },
      distributor: { server: 'SQL1', database: 'distribution' },
      options: { checkOnly: false, approvals: ['set-schedules'] },
    });
  });

  it('refuses, where it is written, a Config schedule in Data’s window, and a time that is not hh:mm:ss', () => {
    const overlap = plan("schedules:\n  config: { everyMinutes: 5, from: '00:00:00', to: '23:59:59' }");
    expect(!overlap.ok && overlap.errors.map((e) => [e.path, e.line])).toEqual([['schedules.config', 6]]);
    const badTime = plan('schedules:\n  data: { at: 25:00 }');
    expect(!badTime.ok && badTime.errors.map((e) => [e.path, e.line])).toEqual([['schedules.data.at', 6]]);
  });

  it('for Data mid-day inside Config 01:00-23:55, says the fixes one from/to range allows', () => {
    const r = plan("schedules:\n  data: { at: '12:00:00' }");
    expect(!r.ok && r.errors.map((e) => e.message)).toEqual([
      expect.stringContaining(
        "Config starts jobs in one from/to range a day, so narrow Config's from/to to one side of Data's window, " +
          "e.g. from: '00:00:00', to: '11:59:59' (before Data) or from: '13:00:00', to: '23:59:59' (after Data's " +
          "window); or move Data's time to the edge of Config's window, e.g. data: { at: '00:00:00' } with Config " +
          "from '01:00:00' or later (Data's window: 60 minutes) (replup's rule, inferred)",
      ),
    ]);
    expect(!r.ok && r.errors[0]!.message).not.toContain("move Config's from/to out of Data's window");
  });
});

describe('scheduleFindings: what preflight reads on the server', () => {
  const r = parseAgentSchedulesPlan(
    'name: s\nrunbook: agent-schedules\ntarget: { kind: sqlserver }\npublisher: { server: SQL1 }',
    '/plans/s.yaml',
  );
  if (!r.ok) throw new Error('plan');
  const plan = r.value;
  const job = (publication: string, sub: string, schedules: MergeAgentJob['schedules']): MergeAgentJob => ({
    jobId: `${publication}-${sub}`,
    name: `SQL1-PS-${publication}-${sub}`,
    publication,
    subscriber: { server: sub, database: 'PersonalizationServer' },
    schedules,
  });
  const sched = (scheduleId: number, timing: ScheduleTiming, enabled = true) => ({
    scheduleId,
    name: `s${scheduleId}`,
    enabled,
    timing,
  });

  it("lists the vendor's Config as differing and in parallel with Data; Data at midnight already as planned", () => {
    const f = scheduleFindings(
      [
        job('Config', 'SQL2', [sched(1, vendorScheduleTiming('Config'))]),
        job('Data', 'SQL2', [sched(2, vendorScheduleTiming('Data'))]),
      ],
      plan,
    );
    expect(f.differences.map((d) => [d.publication, d.now, d.wanted])).toEqual([
      ['Config', 'every 5 minutes 00:00:00-23:59:59', 'every 5 minutes 01:00:00-23:55:00'],
    ]);
    expect(f.parallelNow).toHaveLength(1);
    expect(f.problems).toEqual([]);
    expect(f.wanted.map((w) => [w.publication, w.enabled, w.timing?.activeStartTime])).toEqual([
      ['Config', true, 10000],
      ['Data', true, 0],
    ]);
  });

  it('refuses a job with two schedules and a schedule shared by two jobs (setting it would change the other)', () => {
    const f = scheduleFindings(
      [
        job('Config', 'SQL2', [sched(1, vendorScheduleTiming('Config')), sched(3, at(120000))]),
        job('Data', 'SQL2', [sched(2, vendorScheduleTiming('Data'))]),
        job('Data', 'SQL3', [sched(2, vendorScheduleTiming('Data'))]),
        job('Archive', 'SQL3', []),
      ],
      plan,
    );
    expect(f.problems).toEqual([
      'SQL1-PS-Config-SQL2 (Config → SQL2/PersonalizationServer) has 2 schedules: replup sets a job with exactly ' +
        'one; attach one (sp_attach_schedule) or detach the others, then retry',
      'schedule s2 (id 2) is shared by SQL1-PS-Data-SQL2, SQL1-PS-Data-SQL3: give each job its own',
    ]);
    expect(f.jobs).toBe(3);
  });
});
