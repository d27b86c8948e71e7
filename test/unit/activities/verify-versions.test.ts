// verify-versions after the upgrade: every database and personalization server at the target, read
// a few at a time; a miss names each one behind, in the plan's order, so the operator knows where
// to look.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initLab } from '../../../activities/lab/index.js';
import { createUpgradeActivities } from '../../../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../../../worker/ports.js';
import { labPlan } from '../lab/runbook.js';
import { testFleetContext } from './fleet-context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function fleet() {
  const dir = mkdtempSync(join(tmpdir(), 'replup-verify-'));
  dirs.push(dir);
  const plan = labPlan(join(dir, 'lab.json'));
  await initLab(plan, { rows: 2, seed: 1, usersPerHost: 0 });
  const ports = createPortsFor({ targets: ['lab'] });
  const ctx = testFleetContext(plan);
  const hosts = [...new Set(plan.sites.flatMap((s) => s.personalizationServers))];
  const dbs = plan.sites.map((s) => ({ server: s.server, database: s.database }));
  return { plan, ctx, acts: createUpgradeActivities(ports), ports, hosts, dbs };
}

describe('verify-versions', () => {
  it('names every database and personalization server still behind, in plan order', async () => {
    const { ctx, acts, ports, hosts, dbs } = await fleet();
    try {
      for (const h of hosts.filter((h) => h !== 'ps-sub1-1')) await acts.upgradeHost(ctx, h, '10.4.0.0');
      await acts.removeReplication(ctx, dbs[2]!);
      await acts.upgradeDatabase(ctx, dbs[2]!, '10.4.0.0');
      const err = await acts.verifyVersions(ctx, dbs, hosts, '10.4.0.0').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toBe(
        'not yet at 10.4.0.0: database LAB-PUB/PersonalizationServer is at 8.2.0.0; database ' +
          'LAB-SUB1/PersonalizationServer is at 8.2.0.0; personalization server ps-sub1-1 is at 8.2.0.0',
      );
    } finally {
      await ports.close();
    }
  });

  it('counts what it checked when everything is at the target', async () => {
    const { ctx, acts, ports, hosts, dbs } = await fleet();
    try {
      for (const h of hosts) await acts.upgradeHost(ctx, h, '10.4.0.0');
      for (const db of dbs) {
        await acts.removeReplication(ctx, db);
        await acts.upgradeDatabase(ctx, db, '10.4.0.0');
      }
      await expect(acts.verifyVersions(ctx, dbs, hosts, '10.4.0.0')).resolves.toEqual({ checked: 7 });
    } finally {
      await ports.close();
    }
  });
});
