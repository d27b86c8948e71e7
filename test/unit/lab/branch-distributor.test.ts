// Issue #18 §3, a distributor per publishing site: in the branch-office form each branch publishes
// its Data to its recovery database and is its own distributor (vendor seed 000: SetMasterUp sets
// up "the distributer and the master" on the server that acts as Publisher / Distributor). The old
// preflight checked SQL Server Agent on the central distributor only; a branch whose own Agent is
// down, or that has no distributor, passed, and the run failed after the drain.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqlError } from '../../../activities/ports.js';
import { initLab, openLab, type Lab, type LabConditions } from '../../../activities/lab/index.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { distributorOf, publishingSites } from '../../../plan/personalization-upgrade/schema.js';
import { loadExample } from '../plan/load-example.js';
import { failing, ref, removeTempLabs, syncRound, tempStatePath, errorOf, labActivities } from './runbook.js';

let open: Lab[] = [];
afterEach(() => {
  for (const l of open) l.admin.close();
  open = [];
});
afterAll(removeTempLabs);

/** examples/branch-office.yaml in a fresh lab: HQ-SQL publishes Config, LEEDS-SQL and MUENCHEN-SQL each their Data. */
async function branchLab(
  conditions?: LabConditions,
  edit?: (plan: UpgradePlan) => void,
): Promise<{ l: Lab; plan: UpgradePlan }> {
  const plan = await loadExample('branch-office.yaml');
  const statePath = tempStatePath();
  plan.target = { kind: 'lab', state: statePath };
  await initLab(plan, { rows: 20, seed: 7, ...(conditions && { conditions }) });
  edit?.(plan);
  const l = openLab(statePath, { latencyScale: 0 });
  open.push(l);
  return { l, plan };
}

const servers = (plan: UpgradePlan) => [...new Set(plan.sites.map((s) => s.server))];

/** Preflight's server checks as they were: only the plan's one distributor was checked as one. */
async function oldPreflight(l: Lab, plan: UpgradePlan) {
  const { ctx, acts } = labActivities(l, plan);
  const publishing = new Set(publishingSites(plan).map((s) => s.server));
  for (const server of servers(plan))
    await acts.checkServer(ctx, {
      server,
      publishes: publishing.has(server),
      distributes: server === plan.distributor.server,
    });
}

/**
 * Preflight's server checks now: every publishing site's distributor checked as one, and asked with sp_get_distributor.
 */
async function newPreflight(l: Lab, plan: UpgradePlan) {
  const { ctx, acts } = labActivities(l, plan);
  const sites = publishingSites(plan);
  const distributing = new Set(sites.map((s) => distributorOf(plan, s).server.toLowerCase()));
  for (const server of servers(plan)) {
    await acts.checkServer(ctx, {
      server,
      publishes: sites.some((s) => s.server === server),
      distributes: distributing.has(server.toLowerCase()),
    });
  }
  for (const site of sites) await acts.checkDistributor(ctx, ref(site), distributorOf(plan, site));
}

async function drain(l: Lab, plan: UpgradePlan) {
  for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
}

/** The run as it went without the check: old preflight, users drained; the first sync round's error. */
async function syncAfterOldPreflight(conditions: LabConditions): Promise<Error | undefined> {
  const { l, plan } = await branchLab(conditions);
  await oldPreflight(l, plan);
  await drain(l, plan);
  return errorOf(syncRound(l, plan));
}

describe('a branch publisher whose SQL Server Agent is down (it distributes its Data itself)', () => {
  // Preflight passes and the users are drained before the first sync round.
  it("without the check: the branch's Data merge cannot start (22022)", async () => {
    const err = await syncAfterOldPreflight({ branchDistributor: 'agentStopped' });
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).number).toBe(22022);
    expect(err?.message).toContain('SQLServerAgent is not currently running');
  });

  // It stops before the drain.
  it('preflight checks every publishing server as a distributor, naming the branch', async () => {
    const { l, plan } = await branchLab({ branchDistributor: 'agentStopped' });
    const err = await errorOf(newPreflight(l, plan));
    expect(err?.message).toBe(
      'SQL Server Agent is not running on LEEDS-SQL: the merge agents run as its jobs; start it',
    );
    expect(await l.hosts.isDrained('ps-leeds-1')).toBe(false);
    expect(await failing(l)).toEqual(expect.not.arrayContaining(['serving-again']));
  });
});

describe('a branch publisher with no distributor installed', () => {
  // Preflight passes and the users are drained before the first sync round.
  it("without the check: the branch's Data subscription has no merge agent", async () => {
    const err = await syncAfterOldPreflight({ branchDistributor: 'missing' });
    expect(err?.message).toMatch(
      /^no merge agent for LEEDS-SQL-PersonalizationServer-Data-HQ-SQL\\RECOVERY: LEEDS-SQL has no distributor installed/,
    );
  });

  // It stops before the drain.
  it('preflight asks the branch (sp_get_distributor), naming the server and the fix', async () => {
    const { l, plan } = await branchLab({ branchDistributor: 'missing' });
    const err = await errorOf(newPreflight(l, plan));
    expect(err).toMatchObject({ type: 'PreflightFailed', nonRetryable: true });
    expect(err?.message).toBe(
      'LEEDS-SQL publishes LEEDS-SQL/PersonalizationServer but has no distributor installed ' +
        '(sp_get_distributor: installed 0): the merge agent jobs of its subscriptions have nowhere to run; ' +
        "configure distribution for it as the vendor's SetMasterUp does (the distributor and the master), or " +
        'name the distributor it uses in the plan, then retry preflight',
    );
    expect(await l.hosts.isDrained('ps-leeds-1')).toBe(false);
  });
});

describe("each publishing site's distributor against the plan's", () => {
  it('a healthy branch-office fleet passes: each site is distributed where the plan says', async () => {
    const { l, plan } = await branchLab();
    const { ctx, acts } = labActivities(l, plan);
    const found = await Promise.all(
      publishingSites(plan).map((s) => acts.checkDistributor(ctx, ref(s), distributorOf(plan, s))),
    );
    expect(found).toEqual([
      { installed: true, server: 'HQ-SQL' },
      { installed: true, server: 'LEEDS-SQL' },
      { installed: true, server: 'MUENCHEN-SQL' },
    ]);
  });

  it('a plan naming another distributor than the branch uses stops, with the one to write', async () => {
    // The fleet as set up (LEEDS-SQL its own distributor); the plan then says HQ-SQL distributes for it.
    const { l, plan } = await branchLab(undefined, (p) => {
      p.sites.find((s) => s.server === 'LEEDS-SQL')!.distributor = { server: 'HQ-SQL', database: 'distribution' };
    });
    const { ctx, acts } = labActivities(l, plan);
    const leeds = plan.sites.find((s) => s.server === 'LEEDS-SQL')!;
    const err = await errorOf(acts.checkDistributor(ctx, ref(leeds), distributorOf(plan, leeds)));
    expect(err?.message).toBe(
      'LEEDS-SQL publishes LEEDS-SQL/PersonalizationServer through the distributor LEEDS-SQL, the plan says ' +
        'HQ-SQL/distribution: its merge agent jobs run at LEEDS-SQL; write distributor: { server: LEEDS-SQL } ' +
        'for this site in the plan (distributor: for the central publisher, branches[].distributor: for a ' +
        'branch), then retry preflight',
    );
  });
});
