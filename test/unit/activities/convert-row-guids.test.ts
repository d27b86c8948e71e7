// ConvertRowGuids.sql at most once per subscriber (issue #20 §4). The lab's script here swaps every
// row's GUID bytes (a second run undoes the first) and the reply of the first ConvertRowGuids run
// is lost after the work is done. Activities are called as Temporal's retry policy would call them:
// again after a retryable failure, never after a non-retryable one.
import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import { ROWGUID_MARKS, SqlError, type SqlFleetPort } from '../../../activities/ports.js';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import type { Lab } from '../../../activities/lab/index.js';
import type { DbRef, UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { failing, labsPerTest, runUpgradeByHand } from '../lab/runbook.js';
import { testFleetContext } from './fleet-context.js';

/** Each subscriber's count of rowguid conversions, for those converted at least once (lab order). */
const conversions = async (l: Lab) =>
  Object.values(await l.admin.counters())
    .map((c) => c.rowGuidConversions)
    .filter((n) => n > 0);

const lab = labsPerTest();
/**
 * The lab counts one conversion per table the script updates: ConvertRowGuids.sql updates PersonalizationGroup and
 * ProfileData.
 */
const PER_RUN = 2;
const LOST_REPLY = {
  rowGuidScriptToggles: true,
  lostReplies: { op: 'runScript', match: 'ConvertRowGuids', times: 1 },
} as const;

/** Temporal's retry policy, in short: a retryable failure runs the activity again (at most 5 times). */
async function withRetries<T>(call: () => Promise<T>, failures: ApplicationFailure[] = []): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApplicationFailure)) throw err;
      failures.push(err);
      if (err.nonRetryable || attempt >= 5) throw err;
    }
  }
}

async function activitiesOn(l: Lab, plan: UpgradePlan, sql: SqlFleetPort = l.sql) {
  const acts = createUpgradeActivities(() => ({ sql, hosts: l.hosts }));
  const ctx = testFleetContext(plan);
  const prepared = await acts.prepareScripts(ctx, plan.scripts.files, true);
  const found = prepared.find((p) => p.file === 'ConvertRowGuids.sql')!;
  return { acts, ctx, script: { file: found.file, rewrite: found.rewrite, sha256: found.sha256 } };
}

const where = (db: DbRef) => `${db.server}/${db.database}`;

/** The publishers of the publications a subscriber takes, as the workflow passes them. */
function publishersOf(plan: UpgradePlan, db: DbRef): DbRef[] {
  const site = plan.sites.find((s) => s.server === db.server && s.database === db.database)!;
  const keys = new Set(plan.publications.filter((p) => p.subscribers.includes(site.key)).map((p) => p.publisher));
  return plan.sites.filter((s) => keys.has(s.key)).map((s) => ({ server: s.server, database: s.database }));
}

/** Rows of a subscriber whose rowguid is not the publisher's for the same key: what a person compares. */
async function unconverted(l: Lab, db: DbRef): Promise<number> {
  const s = await l.admin.state();
  const pub = Object.values(s.databases).find((d) => d.role === 'publisher')!;
  const sub = Object.values(s.databases).find((d) => d.server === db.server && d.database === db.database)!;
  let differ = 0;
  for (const [table, rows] of Object.entries(pub.tables)) {
    for (const [pk, row] of Object.entries(rows))
      if (sub.tables[table]?.[pk] && sub.tables[table][pk].rowguid !== row.rowguid) differ += 1;
  }
  return differ;
}

describe('convert-row-guids after a lost reply', () => {
  // Its second run on that subscriber undoes the first.
  it('the old step (runScript, retried) converts twice: no-conflicting-rows fails', async () => {
    const { lab: l, plan } = await lab({ rows: 10, conditions: LOST_REPLY });
    const { acts, ctx, script } = await activitiesOn(l, plan);
    await runUpgradeByHand(l, plan, {
      convertRowGuids: async (db) => {
        await withRetries(() => acts.runScript(ctx, db, script, {}));
      },
    });
    expect(await conversions(l).then((c) => c.sort())).toEqual([PER_RUN, 2 * PER_RUN]);
    expect(await failing(l)).toContain('no-conflicting-rows');
  });

  // A run started before the check: the new step marks the subscriber before running, parks on the uncertain one
  // instead of running it again, and goes on once a person has checked.
  it('without publishers to compare: parks until a person has checked', async () => {
    const { lab: l, plan } = await lab({ rows: 10, conditions: LOST_REPLY });
    const { acts, ctx, script } = await activitiesOn(l, plan);
    const parked: { db: DbRef; failure: ApplicationFailure }[] = [];
    await runUpgradeByHand(l, plan, {
      convertRowGuids: async (db) => {
        const failures: ApplicationFailure[] = [];
        const r = await withRetries(() => acts.convertRowGuids(ctx, db, script, {}, 'run-1'), failures).catch(
          (err: ApplicationFailure) => err,
        );
        if (!(r instanceof ApplicationFailure)) {
          expect(r).toEqual({ db, ran: true });
          return;
        }
        parked.push({ db, failure: r });
        // The person: every row carries the publisher's rowguid, so the conversion ran; they say so.
        expect(await unconverted(l, db)).toBe(0);
        await l.sql.markRowGuidConversion(db, 'done', 'checked by the DBA');
        // The step retried: nothing runs again.
        await expect(acts.convertRowGuids(ctx, db, script, {}, 'run-1')).resolves.toEqual({
          db,
          ran: false,
          mark: 'checked by the DBA',
        });
      },
    });
    expect(parked).toHaveLength(1);
    const { db, failure } = parked[0]!;
    expect(failure.type).toBe('ConversionUncertain');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`ConvertRowGuids.sql started on ${db.server}/${db.database} (run run-1 at `);
    expect(failure.message).toContain(
      `EXEC [${db.database}].sys.sp_addextendedproperty @name = N'${ROWGUID_MARKS.done}'`,
    );
    expect(failure.message).toContain(
      `EXEC [${db.database}].sys.sp_dropextendedproperty @name = N'${ROWGUID_MARKS.started}'`,
    );
    expect(await conversions(l)).toEqual([PER_RUN, PER_RUN]);
    expect(await failing(l)).toEqual([]);
  });

  // A lost reply after the script committed: marked done, not run again.
  it('with publishers to compare: a lost reply is settled by the sample', async () => {
    const { lab: l, plan } = await lab({ rows: 10, conditions: LOST_REPLY });
    const { acts, ctx, script } = await activitiesOn(l, plan);
    const settled: { db: DbRef; checked: string; mark: string }[] = [];
    await runUpgradeByHand(l, plan, {
      convertRowGuids: async (db) => {
        const failures: ApplicationFailure[] = [];
        const r = await withRetries(
          () => acts.convertRowGuids(ctx, db, script, {}, 'run-1', publishersOf(plan, db)),
          failures,
        );
        if (r.ran) return;
        // The retry after the lost reply: the sample shows every row with the publisher's GUID.
        expect(failures.map((f) => f.type)).toEqual(['SqlTransient']);
        expect(failures[0]!.message).toContain('reply lost after runScript ConvertRowGuids.sql');
        expect('checked' in r && r.checked).toMatch(
          /^of the rows legacy before the script, [1-9]\d* rows with the publisher's GUID, 0 in the legacy byte order, 0 with another GUID/,
        );
        settled.push({ db, checked: (r as { checked: string }).checked, mark: (r as { mark: string }).mark });
        expect(await unconverted(l, db)).toBe(0);
        expect((await l.sql.rowGuidConversionMarks(db)).done).toMatch(
          /^checked by run run-1 at .*: of the rows legacy before the script, [1-9]\d* rows with the publisher's GUID/,
        );
      },
    });
    expect(settled).toHaveLength(1);
    // Each subscriber converted once: the lost reply's subscriber was not swapped back.
    expect(await conversions(l)).toEqual([PER_RUN, PER_RUN]);
    expect(await failing(l)).toEqual([]);
  });

  // A script that failed and rolled back after the started mark: the mark cleared and the script run once more.
  it('with publishers to compare: a rolled-back script is found unconverted', async () => {
    const { lab: l, plan } = await lab({ rows: 10, conditions: { rowGuidScriptToggles: true } });
    // The first ConvertRowGuids batch on each subscriber fails before it changes anything (a deadlock victim: its
    // transaction rolled back).
    const failed = new Set<string>();
    const sql: SqlFleetPort = {
      ...l.sql,
      runScript: async (db, script) => {
        if (script.name.startsWith('ConvertRowGuids') && !failed.has(where(db))) {
          failed.add(where(db));
          throw new SqlError(
            1205,
            'Transaction (Process ID 63) was deadlocked on lock resources with another process and has been ' +
              'chosen as the deadlock victim. Rerun the transaction.',
          );
        }
        return l.sql.runScript(db, script);
      },
    };
    const { acts, ctx, script } = await activitiesOn(l, plan, sql);
    const reruns: string[] = [];
    await runUpgradeByHand(l, plan, {
      convertRowGuids: async (db) => {
        const legacy = await unconverted(l, db);
        expect(legacy).toBeGreaterThan(0);
        const failures: ApplicationFailure[] = [];
        const r = await withRetries(
          () => acts.convertRowGuids(ctx, db, script, {}, 'run-1', publishersOf(plan, db)),
          failures,
        );
        expect(failures.map((f) => f.type)).toEqual(['SqlTransient']);
        expect(r).toMatchObject({ db, ran: true });
        expect((r as { rerun: string }).rerun).toMatch(
          /^of the rows legacy before the script, 0 rows with the publisher's GUID, [1-9]\d* in the legacy byte order, 0 with another GUID/,
        );
        reruns.push(where(db));
        expect(await unconverted(l, db)).toBe(0);
        const marks = await l.sql.rowGuidConversionMarks(db);
        expect(marks.started).toMatch(/^run run-1 at /);
        expect(marks.done).toMatch(/^run run-1 at /);
      },
    });
    expect(reruns).toHaveLength(plan.publications[0]!.subscribers.length);
    // One conversion per subscriber: the failed batch converted nothing, the second run everything.
    expect(await conversions(l)).toEqual([PER_RUN, PER_RUN]);
    expect(await failing(l)).toEqual([]);
  });

  it('a subscriber marked done is not converted again by a later attempt (a retried step, a new run)', async () => {
    const { lab: l, plan } = await lab({ rows: 10, conditions: { rowGuidScriptToggles: true } });
    const { acts, ctx, script } = await activitiesOn(l, plan);
    await runUpgradeByHand(l, plan, {
      convertRowGuids: async (db) => {
        await expect(acts.convertRowGuids(ctx, db, script, {}, 'run-1')).resolves.toEqual({ db, ran: true });
        const again = await acts.convertRowGuids(ctx, db, script, {}, 'run-2');
        expect(again).toMatchObject({ db, ran: false });
        expect(again.mark).toMatch(/^run run-1 at /);
        expect(await unconverted(l, db)).toBe(0);
      },
    });
    expect(await conversions(l)).toEqual([PER_RUN, PER_RUN]);
    expect(await failing(l)).toEqual([]);
  });
});
