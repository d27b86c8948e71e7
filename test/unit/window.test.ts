// The maintenance window's times (#23): ISO 8601 with an offset, or an error that says what to
// write; `start --at/--not-after` over the plan's window; the plan's own fields located at their line.
import { describe, expect, it } from 'vitest';
import { parseWindowTime, startDelayMs, describeWindow } from '../../plan/window.js';
import { withWindow } from '../../cli/commands/start.js';
import { loadWithOptions as load } from './plan/load-example.js';
import { upgradePlanKind } from '../../plan/personalization-upgrade/schema.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { UserError } from '../../cli/errors.js';
import { thrownMessage } from './thrown.js';

describe('window times', () => {
  it("an offset or Z names one instant, whatever the worker's time zone", () => {
    expect(parseWindowTime('2026-12-05T22:00+01:00', '--at')).toEqual({ ok: true, iso: '2026-12-05T21:00:00.000Z' });
    expect(parseWindowTime('2026-12-05T21:00:30Z', '--at')).toEqual({ ok: true, iso: '2026-12-05T21:00:30.000Z' });
    expect(parseWindowTime('2026-12-06T03:30-0500', '--at')).toEqual({ ok: true, iso: '2026-12-06T08:30:00.000Z' });
  });

  it('a time without an offset, a date alone, and a date that does not exist are refused with an example', () => {
    expect(parseWindowTime('2026-12-05T22:00', '--at')).toEqual({
      ok: false,
      message:
        '--at "2026-12-05T22:00" is not an ISO 8601 time with an offset (it has no offset: add Z for UTC or ' +
        'the local offset, e.g. +01:00): write e.g. 2026-12-05T22:00+01:00 or 2026-12-05T21:00Z',
    });
    expect(parseWindowTime('tonight', '--not-after')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--not-after "tonight" is not an ISO 8601 time with an offset: write e\.g\./),
    });
    expect(parseWindowTime('2026-02-30T22:00Z', '--at')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^--at "2026-02-30T22:00Z" is not a real date and time/),
    });
  });

  it('the start delay is the time until the window opens, none when it is open already', () => {
    const now = Date.parse('2026-12-05T20:00:00Z');
    expect(startDelayMs({ at: '2026-12-05T21:00:00.000Z' }, now)).toBe(3_600_000);
    expect(startDelayMs({ at: '2026-12-05T19:00:00.000Z' }, now)).toBe(0);
    expect(startDelayMs({ notAfter: '2026-12-05T23:00:00.000Z' }, now)).toBe(0);
  });
});

describe('options.window in the plan', () => {
  it('normalized to UTC instants, and plan show prints it', () => {
    const r = load(['  window: { at: "2026-12-05T22:00+01:00", notAfter: "2026-12-06T04:00+01:00" }']);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const plan = r.plan as UpgradePlan;
    expect(plan.options.window).toEqual({ at: '2026-12-05T21:00:00.000Z', notAfter: '2026-12-06T03:00:00.000Z' });
    expect(upgradePlanKind.describe(plan).summary).toContain(
      'window:       from 2026-12-05T21:00:00.000Z, not after 2026-12-06T03:00:00.000Z (no step from ' +
        'remove-replication on begins later)',
    );
  });

  it('a time without offset and a window that closes before it opens are located at their lines', () => {
    const r = load(['  window:', '    at: "2026-12-05T22:00"', '    notAfter: "2026-12-05T20:00Z"']);
    expect(r.ok).toBe(false);
    const bad = load(['  window:', '    at: "2026-12-05T22:00Z"', '    notAfter: "2026-12-05T20:00Z"']);
    if (r.ok || bad.ok) throw new Error('expected invalid plans');
    expect(r.errors.map(({ path, line }) => ({ path, line }))).toEqual([{ path: 'options.window.at', line: 11 }]);
    expect(r.errors[0]!.message).toMatch(
      /^at "2026-12-05T22:00" is not an ISO 8601 time with an offset \(it has no offset/,
    );
    expect(bad.errors.map(({ path, line, message }) => ({ path, line, message }))).toEqual([
      {
        path: 'options.window.notAfter',
        line: 12,
        message:
          'notAfter (2026-12-05T20:00:00.000Z) is not after at (2026-12-05T22:00:00.000Z): the window must ' +
          'close after it opens',
      },
    ]);
  });
});

describe('replup start --at / --not-after', () => {
  const r = load(['  window: { notAfter: "2026-12-06T04:00+01:00" }']);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const plan = r.plan as UpgradePlan;
  const now = Date.parse('2026-12-05T20:00:00Z');

  it("the flags override the plan's window, the rest of it is kept", () => {
    const p = withWindow(plan, { at: '2026-12-05T22:00+01:00' }, now) as UpgradePlan;
    expect(p.options.window).toEqual({ at: '2026-12-05T21:00:00.000Z', notAfter: '2026-12-06T03:00:00.000Z' });
    expect(describeWindow(p.options.window)).toBe(
      'from 2026-12-05T21:00:00.000Z, not after 2026-12-06T03:00:00.000Z (no step from remove-replication on ' +
        'begins later)',
    );
    expect(plan.options.window).toEqual({ notAfter: '2026-12-06T03:00:00.000Z' });
  });

  it('refused before anything starts: a bad time, a window that closed already, an end before the start', () => {
    const message = (f: () => unknown) => thrownMessage(f, UserError);
    expect(message(() => withWindow(plan, { at: '22:00' }, now))).toMatch(
      /^--at "22:00" is not an ISO 8601 time with an offset: write e\.g\. .*; nothing was started$/,
    );
    expect(message(() => withWindow(plan, { notAfter: '2026-12-05T19:00Z' }, now))).toBe(
      '--not-after: the window closed already (notAfter 2026-12-05T19:00:00.000Z, now ' +
        '2026-12-05T20:00:00.000Z): give a later --not-after, or leave it out; nothing was started',
    );
    expect(message(() => withWindow(plan, { at: '2026-12-06T05:00Z' }, now))).toBe(
      '--at: notAfter (2026-12-06T03:00:00.000Z) is not after at (2026-12-06T05:00:00.000Z): the window must ' +
        'close after it opens; nothing was started',
    );
  });
});
