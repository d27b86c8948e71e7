// Preflight findings that are pure functions of what the fleet reported (issue #18 §3, #21): which
// subscriptions would fail after the drain, which versions are out of order, which agent schedules
// to pause and how to put them back. No I/O: the activities in upgrade.ts read the fleet through the
// ports and call these; the tests call them directly.
//
// Sources (Microsoft): sysmergesubscriptions (status, subscription_type, last_sync_date)
// https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/sysmergesubscriptions-transact-sql ;
// sysmergepublications (retention, retention_period_unit)
// https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/sysmergepublications-transact-sql ;
// "Subscription Expiration and Deactivation" (merge: a subscription not synchronized within the
// publication retention period expires and must be reinitialized: its metadata is removed)
// https://learn.microsoft.com/en-us/sql/relational-databases/replication/subscription-expiration-and-deactivation ;
// "Set the Expiration Period for Subscriptions" ("The retention period for merge publications has a
// 24 hour grace period"; @retention_period_unit 1 week, 2 month, 3 year; default 14 days)
// https://docs.microsoft.com/en-us/previous-versions/sql/sql-server-2008-r2/ms151199(v=sql.105) ;
// sysschedules.enabled ("If the schedule is not enabled, no jobs will run on the schedule")
// https://learn.microsoft.com/en-us/sql/relational-databases/system-tables/dbo-sysschedules-transact-sql .
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { compareVersions } from '../../plan/version.js';
import { parallelRuns } from '../../plan/agent-schedules/rule.js';
import type { DistributorFacts, MergeAgentJob, ScheduleTiming, SubscriptionHealth } from '../ports.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The merge retention period's grace period ("Set the Expiration Period for Subscriptions", ms151199). */
export const RETENTION_GRACE_HOURS = 24;

/** A subscription the plan expects, its subscriber named as replication knows it (@@SERVERNAME). */
export interface PlannedSubscription {
  publication: string;
  subscriber: DbRef;
}

export interface SubscriptionFindings {
  /** Each stops the run at preflight: the object, what is wrong, what to do. */
  problems: string[];
  /** Worth an operator's eye, not a stop: recorded in the step note and the report. */
  warnings: string[];
}

const same = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
const sameSub = (p: PlannedSubscription, f: SubscriptionHealth) =>
  same(p.publication, f.publication) &&
  same(p.subscriber.server, f.subscriber.server) &&
  same(p.subscriber.database, f.subscriber.database);
const label = (publication: string, sub: DbRef) => `${publication} → ${sub.server}/${sub.database}`;

/**
 * Every planned subscription exists at its publisher, is an active push subscription and has
 * merged within its publication's retention period; subscriptions the plan does not know are
 * problems too (removal would drop them and nothing would create them again).
 *
 * @param now ms since the epoch; @param runHours how long the run is expected to take (a
 * subscription expiring within it is a warning).
 */
export function assessSubscriptions(
  publisher: DbRef,
  planned: PlannedSubscription[],
  found: SubscriptionHealth[],
  now: number,
  runHours: number,
): SubscriptionFindings {
  const at = `${publisher.server}/${publisher.database}`;
  const problems: string[] = [];
  const warnings: string[] = [];
  const live = found.filter((f) => f.status !== 'deleted');
  for (const p of planned) {
    const f = live.find((x) => sameSub(p, x));
    const name = `subscription ${label(p.publication, p.subscriber)}`;
    if (!f) {
      problems.push(
        `${name} does not exist at ${at} (sysmergesubscriptions): create it as the vendor's scripts do, or ` +
          `remove the subscriber from the plan`,
      );
      continue;
    }
    if (f.type !== 'push') {
      problems.push(
        `${name} is a ${f.type} subscription: replup runs push subscriptions' merge agents only; recreate it ` +
          `as a push subscription or upgrade this subscriber by hand`,
      );
      continue;
    }
    if (f.status === 'inactive') {
      problems.push(
        `${name} is inactive (sysmergesubscriptions.status 0): it cannot merge; synchronize or reinitialize ` +
          `it (upload first) in Replication Monitor, then retry preflight`,
      );
      continue;
    }
    if (f.retentionDays <= 0 || f.lastSync === undefined) continue; // never expires / not merged yet
    const last = Date.parse(f.lastSync);
    const retentionEnds = last + f.retentionDays * DAY_MS;
    const expires = retentionEnds + RETENTION_GRACE_HOURS * HOUR_MS;
    const since = `last merged ${f.lastSync}, publication retention ${f.retentionDays} days`;
    if (now >= expires) {
      problems.push(
        `${name} has expired (${since}, and the ${RETENTION_GRACE_HOURS}-hour grace period is over): its ` +
          `changes can no longer merge, so they would be lost with replication; reinitialize it with upload ` +
          `first (sp_reinitmergesubscription @upload_first = 'true') or drop and recreate it, then retry ` +
          `preflight`,
      );
    } else if (now >= retentionEnds) {
      problems.push(
        `${name} is past its retention period (${since}) and expires at ${new Date(expires).toISOString()}: ` +
          `merge it now (or reinitialize it with upload first), then retry preflight`,
      );
    } else if (retentionEnds <= now + runHours * HOUR_MS) {
      warnings.push(
        `${name} reaches the end of its retention period at ${new Date(retentionEnds).toISOString()}, within ` +
          `the planned run of ${runHours} h (options.expectedRunHours): the run's first sync merges it in time ` +
          `unless it is held up before then`,
      );
    }
  }
  const unknown = live.filter((f) => !planned.some((p) => sameSub(p, f)));
  if (unknown.length) {
    problems.push(
      `${at} has subscriptions the plan does not know: ` +
        `${unknown.map((f) => `${label(f.publication, f.subscriber)} (${f.type})`).join(', ')}; ` +
        `remove-replication would drop them and nothing would create them again: add them to the plan, or drop ` +
        `them first`,
    );
  }
  return { problems, warnings };
}

/** A server's SQL Server version, as serverFacts reported it. */
export interface ServerVersion {
  server: string;
  version: string;
}

/**
 * Version order for each publisher → subscriber pair (a branch publisher must not run an older SQL
 * Server than its recovery subscriber), and a distributor on its own server at least at every
 * publisher's version (replication-backward-compatibility).
 */
export function versionOrderProblems(
  pairs: { publisher: ServerVersion; subscriber: ServerVersion }[],
  distributor?: ServerVersion,
): string[] {
  const problems = new Set<string>();
  for (const { publisher, subscriber } of pairs) {
    if (same(publisher.server, subscriber.server) || compareVersions(subscriber.version, publisher.version) <= 0)
      continue;
    problems.add(
      `the subscriber ${subscriber.server} runs SQL Server ${subscriber.version}, newer than its publisher ` +
        `${publisher.server} (${publisher.version}): a publisher must run the highest version of the servers ` +
        `it replicates with; upgrade ${publisher.server} first`,
    );
  }
  if (distributor) {
    for (const { publisher } of pairs) {
      if (compareVersions(distributor.version, publisher.version) >= 0) continue;
      problems.add(
        `the distributor ${distributor.server} runs SQL Server ${distributor.version}, older than the ` +
          `publisher ${publisher.server} (${publisher.version}): a distributor must be at least at its ` +
          `publishers' version; upgrade the distributor first`,
      );
    }
  }
  return [...problems];
}

/**
 * A publishing server's distributor as the server reports it (sp_get_distributor,
 * https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-get-distributor-transact-sql)
 * against the plan's for that site; `expected` is the plan's distributor named as replication
 * knows it (@@SERVERNAME), `planned` as the plan writes it. Undefined when they agree.
 */
export function distributorProblem(
  site: DbRef,
  found: DistributorFacts,
  expected: string,
  planned: DbRef,
): string | undefined {
  const at = `${site.server}/${site.database}`;
  const fix =
    site.server.toLowerCase() === planned.server.toLowerCase()
      ? ''
      : ` (the plan names ${planned.server}/${planned.database})`;
  if (!found.installed || !found.server) {
    return (
      `${site.server} publishes ${at} but has no distributor installed (sp_get_distributor: installed 0)${fix}` +
      `: the merge agent jobs of its subscriptions have nowhere to run; configure distribution for it as the ` +
      `vendor's SetMasterUp does (the distributor and the master), or name the distributor it uses in the ` +
      `plan, then retry preflight`
    );
  }
  if (!same(found.server, expected)) {
    return (
      `${site.server} publishes ${at} through the distributor ${found.server}, the plan says ${planned.server}/` +
      `${planned.database}: its merge agent jobs run at ${found.server}; write distributor: { server: ` +
      `${found.server} } for this site in the plan (distributor: for the central publisher, ` +
      `branches[].distributor: for a branch), then retry preflight`
    );
  }
  return undefined;
}

/** Every database's product version is the plan's `from` (issue #21: a fleet already at the target stops here). */
export function productVersionProblems(versions: { db: DbRef; version: string }[], from: string, to: string): string[] {
  const at = versions.filter((v) => compareVersions(v.version, from) !== 0);
  if (!at.length) return [];
  const all = at.length === versions.length && at.every((v) => compareVersions(v.version, to) >= 0);
  if (all) {
    return [
      `every database already runs ${to} or later (` +
        `${at.map((v) => `${v.db.server}/${v.db.database} ${v.version}`).join(', ')}): this fleet is already ` +
        `upgraded; there is nothing to do, or correct from/to in the plan`,
    ];
  }
  return at.map((v) =>
    compareVersions(v.version, to) >= 0
      ? `${v.db.server}/${v.db.database} already runs ${v.version}, the plan's target is ${to}: part of the ` +
        `fleet was upgraded already; finish it by hand or correct the plan, then retry preflight`
      : `${v.db.server}/${v.db.database} runs ${v.version}, the plan says from: ${from}: correct from in the ` +
        `plan (the steps that apply depend on it), then retry preflight`,
  );
}

/** What a schedule was before the run, keyed so that a job re-created by the run finds it again. */
export interface RecordedSchedule {
  publication: string;
  subscriber: DbRef;
  schedule: string;
  enabled: boolean;
  /** When it ran (issue #20 §5): the vendor's scripts re-create the job with their own schedule. */
  timing?: ScheduleTiming;
}

/** A job without any schedule is recorded too (schedule '', disabled): it never ran on a schedule. */
export function recordSchedules(jobs: MergeAgentJob[]): RecordedSchedule[] {
  return jobs.flatMap((j) =>
    j.schedules.length
      ? j.schedules.map((s) => ({
          publication: j.publication,
          subscriber: j.subscriber,
          schedule: s.name,
          enabled: s.enabled,
          ...(s.timing && { timing: s.timing }),
        }))
      : [{ publication: j.publication, subscriber: j.subscriber, schedule: '', enabled: false }],
  );
}

/** One schedule to put back: its enabled state, and its timing when that differs from the record. */
export interface ScheduleChange {
  scheduleId: number;
  enabled: boolean;
  job: string;
  timing?: ScheduleTiming;
}

/** Every field of a ScheduleTiming: what makes two schedules' timing the same. */
export const TIMING_FIELDS = [
  'freqType',
  'freqInterval',
  'freqSubdayType',
  'freqSubdayInterval',
  'freqRelativeInterval',
  'freqRecurrenceFactor',
  'activeStartDate',
  'activeEndDate',
  'activeStartTime',
  'activeEndTime',
] as const satisfies readonly (keyof ScheduleTiming)[];

const sameTiming = (a: ScheduleTiming, b: ScheduleTiming) => TIMING_FIELDS.every((f) => a[f] === b[f]);

/**
 * What each current schedule should get back: the recorded state (and timing) of the schedule of
 * the same name for the same subscription; a job re-created with one schedule where the record has
 * one takes that one's (the names the vendor's scripts give are not documented: inferred); else
 * whether that subscription had any enabled schedule, timing left as it is. A job of a subscription
 * with no record is left alone: the distribution database names publishers by database only
 * (MSmerge_agents.publisher_db), so another publisher's jobs with the same database name come back
 * too, and are its to restore.
 */
export function schedulesToRestore(current: MergeAgentJob[], recorded: RecordedSchedule[]): ScheduleChange[] {
  const out: ScheduleChange[] = [];
  for (const job of current) {
    const mine = recorded.filter(
      (r) =>
        same(r.publication, job.publication) &&
        same(r.subscriber.server, job.subscriber.server) &&
        same(r.subscriber.database, job.subscriber.database),
    );
    if (!mine.length) continue;
    const withSchedule = mine.filter((r) => r.schedule !== '');
    for (const s of job.schedules) {
      const exact =
        mine.find((r) => same(r.schedule, s.name)) ??
        (job.schedules.length === 1 && withSchedule.length === 1 ? withSchedule[0] : undefined);
      const enabled = exact ? exact.enabled : mine.some((r) => r.enabled);
      const timing = exact?.timing && !(s.timing && sameTiming(s.timing, exact.timing)) ? exact.timing : undefined;
      if (s.enabled !== enabled || timing)
        out.push({ scheduleId: s.scheduleId, enabled, job: job.name, ...(timing && { timing }) });
    }
  }
  return out;
}

/** hhmmss (sysschedules' int) as hh:mm:ss. */
const clock = (t: number) =>
  [Math.floor(t / 10000), Math.floor(t / 100) % 100, t % 100].map((n) => String(n).padStart(2, '0')).join(':');

/** freq_subday_type: 1 at the specified time, 2 seconds, 4 minutes, 8 hours (sysschedules page). */
const SUBDAY_UNIT: Record<number, string> = { 2: 'seconds', 4: 'minutes', 8: 'hours' };

/**
 * When a schedule starts its job, in a DBA's words (`every 5 minutes 00:00:00-23:59:59`, `at 02:00:00`), with the day
 * pattern when not daily.
 */
export function describeTiming(t: ScheduleTiming): string {
  const days =
    t.freqType === 4
      ? t.freqInterval > 1
        ? `every ${t.freqInterval} days, `
        : ''
      : `freq_type ${t.freqType} interval ${t.freqInterval}, `;
  return days + startTimes(t);
}

function startTimes(t: ScheduleTiming): string {
  const unit = SUBDAY_UNIT[t.freqSubdayType];
  return unit
    ? `every ${t.freqSubdayInterval} ${unit} ${clock(t.activeStartTime)}-${clock(t.activeEndTime)}`
    : `at ${clock(t.activeStartTime)}`;
}

/**
 * The seed's rule "Config and Data of one subscription must never overlap" (#20 §5), checked on the
 * recorded schedules: a Config and a Data schedule of the same subscriber, both enabled, that start
 * their jobs in a common time of day (weekly ones only on a common weekday). How long a run lasts is
 * not recorded, so a schedule starting just before the other's is not seen (inferred: a lower bound).
 * Said as a warning: replup keeps the DBA's schedules as they are.
 */
export function scheduleOverlaps(
  recorded: RecordedSchedule[],
  kindOf: (publication: string) => 'Config' | 'Data' | undefined,
): string[] {
  const out: string[] = [];
  const timed = recorded.filter((r) => r.enabled && r.timing);
  for (const c of timed.filter((r) => kindOf(r.publication) === 'Config')) {
    for (const d of timed.filter(
      (r) =>
        kindOf(r.publication) === 'Data' &&
        same(r.subscriber.server, c.subscriber.server) &&
        same(r.subscriber.database, c.subscriber.database),
    )) {
      const [ct, dt] = [c.timing!, d.timing!];
      // The agent-schedules runbook's rule, with no run length: a common start time (plan/agent-schedules/rule.ts).
      if (parallelRuns(ct, dt, 0)) {
        out.push(
          `the merge agents of ${c.publication} and ${d.publication} at ${c.subscriber.server}/` +
            `${c.subscriber.database} can run at the same time (${c.schedule}: ${describeTiming(ct)}; ` +
            `${d.schedule}: ${describeTiming(dt)}); ` +
            ("the vendor's Replication guide says Config and Data must never overlap: change one of the schedules " +
              '(replup keeps ' +
              'them as they are)'),
        );
      }
    }
  }
  return out;
}
