// The worker builds the SQL Server adapter from what every activity call carries (FleetContext):
// the plan's canary and Windows account must reach it, and its progress must reach the activity.
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import { createPortsFor, heartbeatCurrentActivity } from '../../../worker/ports.js';

const UNSET_USER = 'REPLUP_TEST_NO_SUCH_WINDOWS_USER';
const base: Omit<FleetContext, 'target'> = {
  credentials: { kind: 'windows' },
  hosts: { upgrade: 'manual' },
  scriptsDir: '/srv/replup/replication/10.4',
  distributor: { server: 'SQL-PUB01', database: 'distribution' },
  versionQuery: 'SELECT 1',
};
const canary = { write: 'UPDATE t SET c = @token', read: 'SELECT 1 FROM t WHERE c = @token' };
const db = { server: 'SQL-LON01', database: 'PersonalizationServer' };

const portsFor = createPortsFor({ targets: ['sqlserver'] });
afterEach(async () => {
  await portsFor.close();
});

describe('the SQL Server adapter the worker builds', () => {
  it(
    "logs in as the plan's Windows account and runs the plan's canary (resolved at connect time: nothing " +
      'connects here)',
    async () => {
      delete process.env[UNSET_USER];
      const ports = await portsFor({
        ...base,
        target: {
          kind: 'sqlserver',
          canary,
          windowsAccount: { user: `env:${UNSET_USER}`, password: 'env:REPLUP_TEST_PW' },
        },
      });
      // The canary query is there (no "not configured" error) and the login comes from the plan's account.
      await expect(ports.sql.readCanary(db, 'replup-canary-x')).rejects.toThrow(
        `credential reference 'env:${UNSET_USER}': environment variable ${UNSET_USER} is not set for the replup worker`,
      );
    },
  );

  it('without a canary in the plan, verify-replication is told which plan field to add', async () => {
    const ports = await portsFor({ ...base, target: { kind: 'sqlserver' } });
    await expect(ports.sql.readCanary(db, 'replup-canary-x')).rejects.toThrow(
      'no canary read query is configured: add target.canary.read to the plan (it is vendor specific)',
    );
  });

  it('refuses a target the worker does not serve', () => {
    expect(() => portsFor({ ...base, target: { kind: 'lab', state: '/tmp/x.json' } })).toThrow(
      'this worker does not serve target lab (it serves sqlserver)',
    );
  });
});

describe('heartbeats of the shared adapter', () => {
  it('go to the activity running the call, with the detail', async () => {
    const env = new MockActivityEnvironment();
    const details: unknown[] = [];
    env.on('heartbeat', (d: unknown) => details.push(d));
    await env.run(async () => heartbeatCurrentActivity("waiting for merge agent job 'PUB-PS-Config-LON01-7' (poll 1)"));
    expect(details).toEqual(["waiting for merge agent job 'PUB-PS-Config-LON01-7' (poll 1)"]);
  });

  it('are dropped outside an activity', () => {
    expect(() => heartbeatCurrentActivity('no activity')).not.toThrow();
  });
});
