// Issue #18 §3: a branch publishes its Data through its own distributor, so the Data publication
// script it runs must be told that distributor ({distributor.server}, DistributorServer in the
// example scripts), not the central one. Checked where the value is made: the activity that runs
// the script (with servers named as replication knows them) and plan show --sql, which shows what
// the workflow records for the audit (the same expansion as its vars()).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { publisherDistributors } from '../../../activities/personalization-upgrade/distributors.js';
import type { Script, SqlFleetPort } from '../../../activities/ports.js';
import { planStatements } from '../../../activities/sqlserver/plan-sql.js';
import { createUpgradeActivities, type FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { loadExample } from '../plan/load-example.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** examples/branch-office.yaml on real SQL Servers (the target only decides which adapter the worker builds). */
async function branchOffice(): Promise<UpgradePlan> {
  const plan = await loadExample('branch-office.yaml');
  plan.target = {
    kind: 'sqlserver',
    canary: { write: 'UPDATE t SET v = @token', read: 'SELECT 1 FROM t WHERE v = @token' },
  };
  return plan;
}

describe('{distributor.server} of a branch Data publication script', () => {
  // HQ-SQL for Config, the branch for its Data.
  it("plan show --sql: each publication script gets its publisher's distributor", async () => {
    const plan = await branchOffice();
    const enable = planStatements(plan).find((s) => s.id === 'enable-replication')!;
    const publicationScripts = enable.statements
      .filter(
        (s) =>
          s.script &&
          [plan.scripts.files.createConfigPublication, plan.scripts.files.createDataPublication].includes(
            s.script.file,
          ),
      )
      .map((s) => [s.server, s.script!.vars.Publication, s.script!.vars.DistributorServer]);
    expect(publicationScripts).toEqual([
      ['HQ-SQL', 'Config', 'HQ-SQL'],
      ['LEEDS-SQL', 'Data', 'LEEDS-SQL'],
      ['MUENCHEN-SQL', 'Data', 'MUENCHEN-SQL'],
    ]);
    // A Data subscription script (run at the branch, its publisher) names the branch's distributor too.
    const dataSubscription = enable.statements.find(
      (s) => s.script?.file === plan.scripts.files.createDataSubscription && s.server === 'LEEDS-SQL',
    );
    expect(dataSubscription?.script?.vars).toMatchObject({
      PublisherServer: expect.stringContaining('LEEDS-SQL'),
      DistributorServer: 'LEEDS-SQL',
    });
  });

  // Merge agents, schedules and Snapshot Agent; the Config subscriptions' at HQ-SQL.
  it("plan show --sql: the Data subscriptions' agents are looked up at the branch", async () => {
    const plan = await branchOffice();
    const steps = planStatements(plan);
    const sentTo = (id: string, purpose: RegExp) =>
      steps
        .find((s) => s.id === id)!
        .statements.filter((s) => purpose.test(s.purpose))
        .map((s) => `${s.server} ${String(s.statement.params.publication ?? s.statement.params.publisherDb ?? '')}`);
    expect(sentTo('sync-until-quiet', /^the push merge agent of each subscription/)).toEqual([
      'HQ-SQL Config',
      'HQ-SQL Config',
      'HQ-SQL Config',
      'HQ-SQL Config',
      'LEEDS-SQL Data',
      'MUENCHEN-SQL Data',
    ]);
    expect(sentTo('preflight', /^the merge agent jobs of each publisher/)).toEqual([
      'HQ-SQL PersonalizationServer',
      'LEEDS-SQL PersonalizationServer',
      'MUENCHEN-SQL PersonalizationServer [DE]',
    ]);
    expect(sentTo('enable-replication', /Snapshot Agent fail/)).toEqual([
      'HQ-SQL Config',
      'LEEDS-SQL Data',
      'MUENCHEN-SQL Data',
    ]);
  });

  // The branch as replication names it (@@SERVERNAME, not the plan's name).
  it('createPublication gives the Leeds Data script DistributorServer = the branch', async () => {
    const plan = await branchOffice();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'replup-h1-'));
    dirs.push(dir);
    const text = "PRINT 'distributor $(DistributorServer) for $(Publication) of $(PublisherServer)';\nGO\n";
    await writeFile(path.join(dir, 'CreateDataPublication.sql'), text);
    const ref = {
      file: 'CreateDataPublication.sql',
      rewrite: false,
      sha256: createHash('sha256').update(text).digest('hex'),
    };

    // A publisher whose publication appears once its script has run; @@SERVERNAME differs from the plan's name.
    const ran: Script[] = [];
    const port = {
      async replicationState() {
        return { mergePublished: ran.length > 0, publications: ran.length > 0 ? ['Data'] : [], subscriptions: [] };
      },
      async replicationName(server: string) {
        return `${server}\\MSSQLSERVER-NAME`;
      },
      async runScript(_db: unknown, script: Script) {
        ran.push(script);
        return { batches: 1, messages: [] };
      },
    } as unknown as SqlFleetPort;
    const acts = createUpgradeActivities(() => ({ sql: port, hosts: {} as never }));
    const ctx = (withDistributors: boolean): FleetContext => ({
      target: plan.target,
      credentials: plan.credentials,
      hosts: plan.hosts,
      scriptsDir: dir,
      distributor: plan.distributor,
      ...(withDistributors && { distributors: publisherDistributors(plan) }),
    });
    const leeds = { server: 'LEEDS-SQL', database: 'PersonalizationServer' };

    await new MockActivityEnvironment().run(acts.createPublication, ctx(true), leeds, 'Data', ref, {});
    expect(ran[0]?.vars).toMatchObject({
      DistributorServer: 'LEEDS-SQL\\MSSQLSERVER-NAME',
      Publication: 'Data',
      PublisherServer: 'LEEDS-SQL\\MSSQLSERVER-NAME',
    });

    // A run started before FleetContext carried the distributors: every script gets the plan's (central) one, as
    // before.
    ran.length = 0;
    await new MockActivityEnvironment().run(acts.createPublication, ctx(false), leeds, 'Data', ref, {});
    expect(ran[0]?.vars.DistributorServer).toBe('HQ-SQL\\MSSQLSERVER-NAME');
  });
});
