// When can the Config and Data merge agents of one subscription run at the same time? One rule, used by
// `plan validate` (the plan's schedules), the agent-schedules runbook's preflight (the server's schedules)
// and the upgrade's preflight warning. Pure: the workflows import it.
//
// The seed's warning: "When changing the default config replication schedule, it is important to ensure
// that the config and data publications are not run in parallel as this increases the likelihood of
// Microsoft SQL deadlocks resulting in replication failure." The seed gives no rule; this one is INFERRED:
// - a schedule that starts its job with SQL Server Agent (freq_type 64) or when the computer is idle (128)
//   can run at any time: it collides with any enabled schedule of the other publication;
// - else Data is busy from its first start of a day to its last start plus `dataWindowMinutes` (how long
//   a Data merge may take), and Config must start no job in that time on a day both run. With 0 minutes
//   only a common start time counts (what the upgrade's warning checks: it knows no run length).
// Config runs last seconds: a Config window ending just before Data's start is accepted.
import type { ScheduleTiming } from '../../activities/ports.js';

/** The seed's warning, quoted where the rule is explained. */
export const SEED_PARALLEL_WARNING =
  'ensure that the config and data publications are not run in parallel as this increases the likelihood ' +
  'of Microsoft SQL deadlocks resulting in replication failure';

const DAY_SECONDS = 86_400;
/** sysschedules freq_type: 1 once, 4 daily, 8 weekly, 16 monthly, 32 monthly relative, 64 Agent start, 128 idle. */
const ANY_TIME: Record<number, string> = { 64: 'when SQL Server Agent starts', 128: 'when the computer is idle' };
/** freq_interval of a weekly schedule: Sunday 1, Monday 2, … Saturday 64. */
const ALL_DAYS = 127;

/** hhmmss (sysschedules' int) as seconds after midnight. */
export const secondsOf = (hhmmss: number): number =>
  Math.floor(hhmmss / 10000) * 3600 + (Math.floor(hhmmss / 100) % 100) * 60 + (hhmmss % 100);

/** Seconds after midnight as hhmmss. */
export const hhmmssOf = (seconds: number): number =>
  Math.floor(seconds / 3600) * 10000 + Math.floor((seconds % 3600) / 60) * 100 + (seconds % 60);

/** Weekdays a schedule runs (bitmask as freq_interval of a weekly one); daily and monthly: every day (a bound). */
const daysOf = (t: ScheduleTiming) => (t.freqType === 8 ? t.freqInterval & ALL_DAYS : ALL_DAYS);
/** The same days, one later (a Data window running past midnight). */
const nextDays = (days: number) => ((days << 1) | (days >> 6)) & ALL_DAYS;

/** First and last start of a day, in seconds; undefined for a one-time schedule (it repeats on no day). */
function startSpan(t: ScheduleTiming): [number, number] | undefined {
  if (![4, 8, 16, 32].includes(t.freqType)) return undefined;
  const start = secondsOf(t.activeStartTime);
  return t.freqSubdayType === 1 ? [start, start] : [start, secondsOf(t.activeEndTime)];
}

/**
 * Why the Config and Data merge agents of one subscription can run at the same time under these two (enabled)
 * schedules, or undefined when they cannot. `dataWindowMinutes` (≥ 0): how long after its last start of a day a
 * Data run may still be going.
 */
export function parallelRuns(
  config: ScheduleTiming,
  data: ScheduleTiming,
  dataWindowMinutes: number,
): string | undefined {
  for (const [which, t] of [
    ['Config', config],
    ['Data', data],
  ] as const) {
    const when = ANY_TIME[t.freqType];
    if (when) return `${which} starts ${when}, so at any time`;
  }
  const [c, d] = [startSpan(config), startSpan(data)];
  if (!c || !d) return undefined;
  const busyEnd = dataWindowMinutes > 0 ? d[1] + dataWindowMinutes * 60 - 1 : d[1];
  // Data's busy time, split at midnight: [from, to] on Data's days, and the rest on the day after.
  const parts: [number, number, number][] = [[d[0], Math.min(busyEnd, DAY_SECONDS - 1), daysOf(data)]];
  if (busyEnd >= DAY_SECONDS) parts.push([0, busyEnd - DAY_SECONDS, nextDays(daysOf(data))]);
  for (const [from, to, days] of parts) {
    if ((days & daysOf(config)) === 0) continue;
    if (c[0] <= to && from <= c[1]) {
      const window = dataWindowMinutes > 0 ? ` (and the ${dataWindowMinutes} minutes a Data run may take)` : '';
      return `Config starts jobs from ${clock(c[0])} to ${clock(c[1])}, Data from ${clock(d[0])}${window}`;
    }
  }
  return undefined;
}

/** Seconds after midnight as hh:mm:ss. */
export const clock = (seconds: number): string =>
  [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');

/**
 * How a plan clears Config of Data's busy time: Config starts its jobs in ONE from/to range a day, so it must keep
 * to one side of Data's time, or Data moves to the edge of Config's window (midnight). `dataFrom`/`dataLast`:
 * Data's first and last start of a day (hhmmss); `dataWindowMinutes` (≥ 0) as in parallelRuns. One sentence.
 */
export function parallelFix(dataFrom: number, dataLast: number, dataWindowMinutes: number): string {
  const start = secondsOf(dataFrom);
  const busyEnd = dataWindowMinutes > 0 ? secondsOf(dataLast) + dataWindowMinutes * 60 - 1 : secondsOf(dataLast);
  const range = (from: number, to: number) => `from: '${clock(from)}', to: '${clock(to)}'`;
  const sides: string[] = [];
  // Before Data: from midnight (or the end of a window that ran past it) to just before Data's first start.
  const earliest = busyEnd >= DAY_SECONDS ? busyEnd - DAY_SECONDS + 1 : 0;
  if (earliest < start) sides.push(`${range(earliest, start - 1)} (before Data)`);
  if (busyEnd < DAY_SECONDS - 1) sides.push(`${range(busyEnd + 1, DAY_SECONDS - 1)} (after Data's window)`);
  const narrow = sides.length
    ? `narrow Config's from/to to one side of Data's window, e.g. ${sides.join(' or ')}`
    : `Data's window leaves Config no time of day: lower dataWindowMinutes`;
  const window = dataWindowMinutes > 0 ? ` (Data's window: ${dataWindowMinutes} minutes)` : '';
  return (
    `Config starts jobs in one from/to range a day, so ${narrow}; or move Data's time to the edge of Config's ` +
    `window, e.g. data: { at: '00:00:00' } with Config from '${clock(Math.max(1, dataWindowMinutes * 60))}' or ` +
    `later${window}`
  );
}
