// The fleet's replication configuration across the upgrade (issue #20 §3, §5), in the lab: what the
// DBA changed since set-up survives (or parks, naming each difference), and a publication or
// subscription a failed script left half-built is made again instead of skipped because it exists.
// Activities are called as Temporal's retry policy would: again after a retryable failure.
import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, it } from 'vitest';
import type { PublicationConfig, SubscriptionRef } from '../../../activities/ports.js';
import {
  compareConfigs,
  configParkMessage,
  identityRangeNote,
  missingArticles,
} from '../../../activities/personalization-upgrade/replication-config.js';
import { createUpgradeActivities, type ScriptRef } from '../../../activities/personalization-upgrade/activities.js';
import { LAB_ARTICLE_OPTIONS, type Lab } from '../../../activities/lab/index.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { failing, labsPerTest, ref, runUpgradeByHand } from '../lab/runbook.js';
import { testFleetContext } from './fleet-context.js';

const lab = labsPerTest();

async function withRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.nonRetryable || attempt >= 5) throw err;
    }
  }
}

async function activitiesOn(l: Lab, plan: UpgradePlan) {
  const acts = createUpgradeActivities(() => ({ sql: l.sql, hosts: l.hosts }));
  const ctx = testFleetContext(plan);
  const prepared = await acts.prepareScripts(ctx, plan.scripts.files, true);
  const scriptRef = (file: string): ScriptRef => {
    const p = prepared.find((x) => x.file === file)!;
    return { file: p.file, rewrite: p.rewrite, sha256: p.sha256 };
  };
  return { acts, ctx, scriptRef, publisher: ref(plan.publisher) };
}

const pub = (over: Partial<PublicationConfig> = {}): PublicationConfig => ({
  name: 'Config',
  retention: 14,
  retentionUnit: 'day',
  conflictRetentionDays: 14,
  compatibilityLevel: 100,
  centralizedConflicts: true,
  decentralizedConflicts: false,
  articles: [{ name: 'PersonalizationGroup', columnTracking: false, ...LAB_ARTICLE_OPTIONS }],
  ...over,
});

describe('compareConfigs', () => {
  it(
    'puts back the retention unit before the retention, and conflict retention and level 90/100; the rest is ' +
      'for a person',
    () => {
      const before = pub({
        retention: 2,
        retentionUnit: 'week',
        conflictRetentionDays: 30,
        compatibilityLevel: 90,
        centralizedConflicts: false,
      });
      const diffs = compareConfigs([before], [pub()]);
      expect(
        diffs.map((d) => [d.what, d.before, d.after, d.reapply?.property ?? null, d.reapply?.value ?? null]),
      ).toEqual([
        ['retention_period_unit', 'week', 'day', 'retention_period_unit', 'week'],
        ['retention', '2', '14', 'retention', '2'],
        ['conflict_retention', '30', '14', 'conflict_retention', '30'],
        ['backward_comp_level', '90', '100', 'publication_compatibility_level', '90RTM'],
        ['centralized_conflicts', 'false', 'true', null, null],
      ]);
    },
  );

  it(
    'a level the page does not list, an article the DBA added, and a changed article option are left for a ' +
      'person; an article the new scripts add is not a loss',
    () => {
      const server = { ...pub().articles[0]!, name: 'server' };
      const before = pub({
        compatibilityLevel: 110,
        articles: [{ ...pub().articles[0]!, columnTracking: true }, server],
      });
      const after = pub({ articles: [...pub().articles, { ...server, name: 'NewInThisVersion' }] });
      const diffs = compareConfigs([before], [after]);
      expect(diffs.map((d) => [d.what, d.before, d.after, d.reapply ?? null])).toEqual([
        ['backward_comp_level', '110', '100', null],
        ['article PersonalizationGroup column_tracking', 'true', 'false', null],
        ['article server', 'published', 'missing', null],
      ]);
      const message = configParkMessage({ server: 'PUB', database: 'PS' }, diffs);
      expect(message).toContain('PUB/PS differs from before removal');
      expect(message).toContain('Config: article server was published, is missing');
      expect(message).toContain('retry the step (it compares again), or abort');
    },
  );

  it('missingArticles: what a half-built publication lacks of what it had before removal', () => {
    expect(missingArticles([pub()], 'config', [])).toEqual(['PersonalizationGroup']);
    expect(missingArticles([pub()], 'Config', ['personalizationgroup'])).toEqual([]);
    expect(missingArticles(undefined, 'Config', [])).toEqual([]);
  });
});

describe('a DBA changed the publications since set-up (retention 30 days, conflict retention 7)', () => {
  const custom = { customisedPublications: { retentionDays: 30, conflictRetentionDays: 7 } };

  it(
    'the old runbook: the vendor scripts create them ' + 'again with 14 and 14; configuration-preserved fails',
    async () => {
      const { lab: l, plan } = await lab({ rows: 10, conditions: custom });
      await runUpgradeByHand(l, plan);
      expect(await failing(l)).toEqual(['configuration-preserved']);
      const inv = (await l.admin.check()).find((i) => i.name === 'configuration-preserved')!;
      expect(inv.detail).toContain('Config on LAB-PUB/PersonalizationServer: retentionDays 14, was 30');
    },
  );

  it(
    'the new runbook records them before removal and ' + 'puts them back after re-enable: every invariant ' + 'holds',
    async () => {
      const { lab: l, plan } = await lab({ rows: 10, conditions: custom });
      const { acts, ctx, publisher } = await activitiesOn(l, plan);
      let before: PublicationConfig[] = [];
      let result: Awaited<ReturnType<typeof acts.reapplyConfig>> | undefined;
      await runUpgradeByHand(l, plan, {
        beforeRemoval: async () => {
          before = await acts.replicationConfig(ctx, publisher);
        },
        afterEnable: async () => {
          result = await acts.reapplyConfig(ctx, publisher, before);
        },
      });
      expect(before.map((p) => [p.name, p.retention, p.conflictRetentionDays])).toEqual([
        ['Config', 30, 7],
        ['Data', 30, 7],
      ]);
      expect(result!.reapplied.map((d) => `${d.publication} ${d.reapply!.property}=${d.reapply!.value}`)).toEqual([
        'Config retention=30',
        'Config conflict_retention=7',
        'Data retention=30',
        'Data conflict_retention=7',
      ]);
      expect(result!.left).toEqual([]);
      expect(await failing(l)).toEqual([]);
    },
  );

  it(
    'a changed article option (column tracking) cannot be put back without a reinitialization: the compare ' +
      'leaves it for a person, named',
    async () => {
      const { lab: l, plan } = await lab({
        rows: 10,
        conditions: { customisedPublications: { columnTracking: true } },
      });
      const { acts, ctx, publisher } = await activitiesOn(l, plan);
      let before: PublicationConfig[] = [];
      let left: string[] = [];
      await runUpgradeByHand(l, plan, {
        beforeRemoval: async () => {
          before = await acts.replicationConfig(ctx, publisher);
        },
        afterEnable: async () => {
          left = (await acts.reapplyConfig(ctx, publisher, before)).left.map(
            (d) => `${d.publication}: ${d.what} ${d.before} → ${d.after}`,
          );
        },
      });
      expect(left).toEqual([
        'Config: article PersonalizationGroup column_tracking true → false',
        'Data: article ProfileData column_tracking true → false',
      ]);
    },
  );
});

/** A lab whose Data publication script fails half-way the first time it runs. */
const HALF_BUILT_DATA = { rows: 10, conditions: { halfBuiltScripts: { match: 'CreateDataPublication', times: 1 } } };

describe('a script that fails half-way', () => {
  /**
   * Upgrades a HALF_BUILT_DATA lab by hand, each createPublication retried as Temporal would; `compare`: the
   * new step, given the configuration recorded before removal. Returns each createPublication's result, and
   * how the run ended ('completed' or its error's message).
   */
  async function createPublications(compare: boolean) {
    const { lab: l, plan } = await lab(HALF_BUILT_DATA);
    const { acts, ctx, scriptRef, publisher } = await activitiesOn(l, plan);
    let before: PublicationConfig[] | undefined;
    const results: unknown[] = [];
    const run = await runUpgradeByHand(l, plan, {
      ...(compare && {
        beforeRemoval: async () => {
          before = await acts.replicationConfig(ctx, publisher);
        },
      }),
      createPublication: async (publication) => {
        const script = scriptRef(`Create${publication}Publication.sql`);
        results.push(await withRetries(() => acts.createPublication(ctx, publisher, publication, script, {}, before)));
      },
    }).then(
      () => 'completed',
      (err: Error) => err.message,
    );
    return { l, results, run };
  }

  // The retry finds the Data publication and skips it although it has no articles.
  it('the old step skips the half-built publication: configuration-preserved fails', async () => {
    const { l, results } = await createPublications(false);
    expect(results).toEqual([{ created: true }, { created: false }]);
    expect(await failing(l)).toContain('configuration-preserved');
  });

  // The publication without the articles it had before removal is dropped and its script run again.
  it('the new step rebuilds the half-built publication: every invariant holds', async () => {
    const { l, results, run } = await createPublications(true);
    expect(run).toBe('completed');
    expect(results).toEqual([{ created: true }, { created: true, rebuiltHalfBuilt: ['ProfileData'] }]);
    expect(await failing(l)).toEqual([]);
  });

  it(
    'a subscription left without its push agent job: the old step skips it, the new one drops it and runs its ' +
      'script again',
    async () => {
      for (const checkAgent of [false, true]) {
        const { lab: l, plan } = await lab({
          rows: 10,
          conditions: { halfBuiltScripts: { match: 'CreateDataSubscription', times: 1 } },
        });
        const { acts, ctx, scriptRef } = await activitiesOn(l, plan);
        const results: unknown[] = [];
        const made = (sub: SubscriptionRef) =>
          scriptRef(sub.publication === 'Config' ? 'CreateConfigSubscription.sql' : 'CreateDataSubscription.sql');
        const run = await runUpgradeByHand(l, plan, {
          createSubscription: async (sub) => {
            results.push(await withRetries(() => acts.createSubscription(ctx, sub, made(sub), {}, checkAgent)));
          },
        }).then(
          () => 'completed',
          (err: Error) => err.message,
        );
        const jobs = await l.sql.mergeAgentJobs(ref(plan.publisher));
        if (!checkAgent) {
          expect(results).toContainEqual({ created: false });
          expect(jobs).toHaveLength(3);
          expect(run).not.toBe('completed');
        } else {
          expect(results).toContainEqual({ created: true, rebuiltWithoutAgent: true });
          expect(jobs).toHaveLength(4);
          expect(run).toBe('completed');
          expect(await failing(l)).toEqual([]);
        }
        l.admin.close();
      }
    },
  );
});

describe('identityRangeNote (preflight)', () => {
  it('names the identity-range-managed articles and the documented reseeding, marked inferred; none: no note', () => {
    const ranged = pub({
      name: 'Data',
      articles: [{ ...pub().articles[0]!, name: 'ProfileData', identityRange: true }],
    });
    const note = identityRangeNote({ server: 'PUB', database: 'PS' }, [pub(), ranged])!;
    expect(note).toMatch(
      /^1 articles on PUB\/PS use automatic identity range management \(identity_support\): Data\.ProfileData\. /,
    );
    expect(note).toContain(
      "IDENT_CURRENT('<table>'), reseed the publisher above the highest with DBCC CHECKIDENT, then run " +
        'sp_adjustpublisheridentityrange',
    );
    expect(note).toContain('(inferred: no page covers re-publishing)');
    expect(identityRangeNote({ server: 'PUB', database: 'PS' }, [pub()])).toBeUndefined();
  });
});
