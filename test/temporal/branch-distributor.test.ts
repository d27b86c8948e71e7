// A distributor per publishing site (issue #18 §3), on a Temporal dev server against the lab: the
// branch-office fleet, where each branch publishes its Data to its recovery database and is its own
// distributor. A branch whose SQL Server Agent is down, or that has no distributor, stops the run
// at preflight, naming the server and the fix, with no user drained.
import { describe, expect, it } from 'vitest';
import { type LabConditions } from '../../activities/lab/index.js';
import type { Progress } from '../../workflows/messages.js';
import { labUpgradeTests, waitFor } from './harness.js';

const labs = labUpgradeTests();
const preflightOf = (p: Progress) => p.steps.find((s) => s.id === 'preflight')!;
/** Preflight has ended, whichever way. */
const preflightEnded = (p: Progress) => !['running', 'pending'].includes(preflightOf(p).status);

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
  ])('%s: preflight stops before the drain, naming the branch and the fix', (name, condition, message) =>
    labs.run(
      {
        example: 'branch-office.yaml',
        lab: { rows: 20, seed: 5, conditions: { branchDistributor: condition } },
        queue: 'branch-distributor',
        id: `branch-${condition}-${process.pid}`,
      },
      async ({ env, plan, lab, workflowId }) => {
        const stopped = await waitFor(env.client, workflowId, (p) => p.status !== 'running');
        expect(stopped.current, name).toBe('preflight');
        expect(preflightOf(stopped).lastError).toMatch(
          typeof message === 'string' ? new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : message,
        );
        expect(stopped.steps.find((s) => s.id === 'drain-users')!.status).toBe('pending');
        for (const host of plan.sites.flatMap((s) => s.personalizationServers))
          expect(await lab.hosts.isDrained(host)).toBe(false);
      },
    ),
  );

  labs.it(
    'a healthy branch-office fleet (each branch its own distributor, Agent running) passes preflight with the ' +
      'new checks',
    {
      example: 'branch-office.yaml',
      lab: { rows: 20, seed: 5 },
      queue: 'branch-distributor-ok',
      id: `branch-ok-${process.pid}`,
    },
    async ({ env, workflowId }) => {
      const after = await waitFor(env.client, workflowId, preflightEnded);
      expect(preflightOf(after)).toMatchObject({ status: 'done' });
    },
  );
});
