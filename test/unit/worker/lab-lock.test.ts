// A worker lets go of a lab once the run on it has ended (issue #21): `replup lab init` no longer
// needs the worker stopped; the next run's first activity takes the lab again.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lockPath } from '../../../activities/lab/store.js';
import { createPortsFor } from '../../../worker/ports.js';
import type { FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import { labsPerTest } from '../lab/runbook.js';

const lab = labsPerTest();

describe('the worker and the lab lock', () => {
  it('holds the lab while it works on it, releases it when the run ends, takes it again for the next', async () => {
    const { lab: mine, plan, statePath } = await lab();
    mine.admin.close();
    const portsFor = createPortsFor();
    const ctx = { target: { kind: 'lab', state: statePath } } as FleetContext;
    try {
      await (await portsFor(ctx)).sql.databaseVersion(plan.sites[0]!);
      expect(existsSync(lockPath(statePath))).toBe(true);
      await portsFor.release(ctx.target);
      expect(existsSync(lockPath(statePath))).toBe(false);
      await (await portsFor(ctx)).sql.databaseVersion(plan.sites[0]!);
      expect(existsSync(lockPath(statePath))).toBe(true);
    } finally {
      await portsFor.close();
    }
    expect(existsSync(lockPath(statePath))).toBe(false);
  });
});
