// The workflow's own step definitions (upgradeRunbook), driven by a plain script against the lab
// (bench/script-driver.ts): the same runbook the workflow runs keeps every invariant, with the
// checks the hand-driven runbook (runbook.ts) leaves out on purpose.
import { describe, expect, it } from 'vitest';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { runbookScript } from '../../../bench/script-runbook.js';
import { labsPerTest } from './runbook.js';

const lab = labsPerTest();

describe('the upgrade step definitions, run by a plain script', () => {
  it('from 8.2: every invariant holds, one backup and one subscription per publication per subscriber', async () => {
    const { lab: l, plan } = await lab();
    // A command (the lab upgrades the hosts itself): no person confirms; open sessions are disconnected at once.
    plan.hosts = { upgrade: 'setup {host} {version}' };
    plan.options.drainTimeoutSeconds = 0;
    const acts = createUpgradeActivities(() => ({ sql: l.sql, hosts: l.hosts }));
    const run = await runbookScript(plan, acts, 'run-1');
    expect(run.syncRounds).toBeGreaterThanOrEqual(plan.options.sync.quietRounds);
    expect(await l.admin.check().then((all) => all.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`))).toEqual(
      [],
    );
    const counters = await l.admin.counters();
    expect(counters['LAB-SUB1/PersonalizationServer']).toMatchObject({
      backups: 1,
      subscriptionCreations: 2,
      snapshotDeliveries: 0,
    });
  }, 120_000);
});
