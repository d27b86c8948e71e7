// The maintenance window: when a run may start (`at`) and after when no step from remove-replication
// on may begin (`notAfter`). Times are ISO 8601 with an offset, so a plan means the same instant on
// every worker whatever its time zone. Pure: the workflow reads the normalized form.

/** A window as the plan and the workflow carry it: instants in UTC ISO form. */
export interface MaintenanceWindow {
  /** The run starts then (Temporal's start delay); absent: at once. */
  at?: string;
  /** No step from remove-replication on begins after this instant; absent: no limit. */
  notAfter?: string;
}

/** The step from which the window's end applies: the point where the fleet stops replicating. */
export const WINDOW_GUARDS_FROM = 'remove-replication';

// Date, 'T', hours and minutes, optional seconds and fraction, then Z or ±hh:mm (or ±hhmm).
const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const EXAMPLE = '2026-12-05T22:00+01:00 or 2026-12-05T21:00Z';

/** The instant a time names, or why it is not one: what was written, why, and an example. */
export function parseWindowTime(
  text: string,
  what: string,
): { ok: true; iso: string } | { ok: false; message: string } {
  const t = text.trim();
  const m = ISO_WITH_OFFSET.exec(t);
  if (!m) {
    const hint = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$/.test(t)
      ? ' (it has no offset: add Z for UTC or the local offset, e.g. +01:00)'
      : '';
    return {
      ok: false,
      message: `${what} "${text}" is not an ISO 8601 time with an offset${hint}: write e.g. ${EXAMPLE}`,
    };
  }
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.parse(t.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  // Date.parse rolls 2026-02-30 over to March: check the fields it was given stay as written.
  const fields = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)));
  const valid =
    !Number.isNaN(ms) &&
    fields.getUTCFullYear() === Number(y) &&
    fields.getUTCMonth() === Number(mo) - 1 &&
    fields.getUTCDate() === Number(d) &&
    fields.getUTCHours() === Number(h) &&
    fields.getUTCMinutes() === Number(mi);
  if (!valid) return { ok: false, message: `${what} "${text}" is not a real date and time: write e.g. ${EXAMPLE}` };
  return { ok: true, iso: new Date(ms).toISOString() };
}

/** Why a window cannot hold (end before start), or undefined. `now` only for the CLI at start. */
export function windowProblem(
  w: MaintenanceWindow,
  now?: number,
): { field: 'at' | 'notAfter'; message: string } | undefined {
  if (w.at !== undefined && w.notAfter !== undefined && Date.parse(w.notAfter) <= Date.parse(w.at)) {
    return {
      field: 'notAfter',
      message: `notAfter (${w.notAfter}) is not after at (${w.at}): the window must close after it opens`,
    };
  }
  if (now !== undefined && w.notAfter !== undefined && Date.parse(w.notAfter) <= now) {
    return {
      field: 'notAfter',
      message:
        `the window closed already (notAfter ${w.notAfter}, now ${new Date(now).toISOString()}): give a later ` +
        `--not-after, or leave it out`,
    };
  }
  return undefined;
}

/** How long Temporal should wait before the first workflow task (ms), 0 when the window is open already. */
export function startDelayMs(w: MaintenanceWindow, now: number): number {
  return w.at === undefined ? 0 : Math.max(0, Date.parse(w.at) - now);
}

/** "from 2026-12-05T21:00:00.000Z, not after 2026-12-06T03:00:00.000Z (remove-replication on)". */
export function describeWindow(w: MaintenanceWindow | undefined): string {
  if (!w || (w.at === undefined && w.notAfter === undefined)) return 'none';
  return [
    w.at !== undefined ? `from ${w.at}` : 'from the start',
    w.notAfter !== undefined
      ? `not after ${w.notAfter} (no step from ${WINDOW_GUARDS_FROM} on begins later)`
      : 'no end',
  ].join(', ');
}

/** Has the window closed at `now` (ms)? */
export const windowClosed = (w: MaintenanceWindow | undefined, now: number): boolean =>
  w?.notAfter !== undefined && now > Date.parse(w.notAfter);
