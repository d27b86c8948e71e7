// A distributor per publishing site (issue #18 §3), on a Temporal dev server against the lab: the
// branch-office fleet, where each branch publishes its Data to its recovery database and is its own
// distributor. A branch whose SQL Server Agent is down, or that has no distributor, stops the run
// at preflight, naming the server and the fix, with no user drained.
import { describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type LabConditions } from '../../activities/lab/index.js';
import { examplePlan, startLabUpgrade, useDevServer, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
useDevServer((e) => (env = e));

describe('a branch publisher that cannot distribute its Data', () => {
  it.each<[string, LabConditions['branchDistributor'], string | RegExp]>([
    [
      'its SQL Server Agent is down',
      'agentStopped',
      'SQL Server Agent is not running on LEEDS-SQL: the merge agents run as its jobs; start it',
    ],
    [
      'it has no distributor installed',
      'missing',
      /LEEDS-SQL publishes LEEDS-SQL\/PersonalizationServer but has no distributor installed \(sp_get_distributor: installed 0\).*then retry preflight/,
    ],
  ])('%s: preflight stops before the drain, naming the branch and the fix', async (name, condition, message) => {
    const plan = await examplePlan('branch-office.yaml');
    const { lab, worker, workflowId } = await startLabUpgrade(
      env,
      plan,
      { rows: 20, seed: 5, conditions: { branchDistributor: condition } },
      'branch-distributor',
      `branch-${condition}-${process.pid}`,
    );
    try {
      const stopped = await waitFor(env.client, workflowId, (p) => p.status !== 'running');
      expect(stopped.current, name).toBe('preflight');
      const preflight = stopped.steps.find((s) => s.id === 'preflight')!;
      expect(preflight.lastError).toMatch(
        typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message,
      );
      expect(stopped.steps.find((s) => s.id === 'drain-users')!.status).toBe('pending');
      for (const host of plan.sites.flatMap((s) => s.personalizationServers))
        expect(await lab.hosts.isDrained(host)).toBe(false);
    } finally {
      await worker.stop();
      lab.admin.close();
    }
  });

  it(
    'a healthy branch-office fleet (each branch its own distributor, Agent running) passes preflight with the ' +
      'new checks',
    async () => {
      const plan = await examplePlan('branch-office.yaml');
      const { lab, worker, workflowId } = await startLabUpgrade(
        env,
        plan,
        { rows: 20, seed: 5 },
        'branch-distributor-ok',
        `branch-ok-${process.pid}`,
      );
      try {
        const after = await waitFor(
          env.client,
          workflowId,
          (p) =>
            p.steps.find((s) => s.id === 'preflight')!.status !== 'running' &&
            p.steps.find((s) => s.id === 'preflight')!.status !== 'pending',
        );
        expect(after.steps.find((s) => s.id === 'preflight')).toMatchObject({ status: 'done' });
      } finally {
        await worker.stop();
        lab.admin.close();
      }
    },
  );
});
