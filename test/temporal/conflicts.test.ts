// Conflicts on the record of a real run (issue #18 §2), on a Temporal dev server against the lab:
// rows kept from before the run, some settled by the resolver and some failed changes nobody
// resolved. The run stops on the failed changes only, says the safe way out first, and reports
// the settled ones without stopping for them.
import { describe, expect } from 'vitest';
import type { RunResult } from '../../workflows/messages.js';
import { decide } from '../../cli/lib/runs.js';
import { reportFromHistory } from '../../activities/report/index.js';
import { brokenInvariants, labUpgradeTests, waitFor } from './harness.js';

const labs = labUpgradeTests();

describe('conflicts kept from before the run', () => {
  labs.it(
    'stops on the 2 unresolved failed changes with the safe way first; after they are resolved and retried, ' +
      'completes, reporting the 3 settled ones',
    {
      lab: { rows: 20, seed: 42, conditions: { settledConflicts: 3, unsettledConflicts: 2 } },
      queue: 'conflicts',
      id: `conflicts-${process.pid}`,
    },
    async ({ env, lab, workflowId }) => {
      const parked = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-operator');
      const sync = parked.steps.find((s) => s.id === 'sync-until-quiet')!;
      expect(sync.lastError).toMatch(
        /^ConflictsFound: conflicting rows need a decision \(failed changes merge cannot apply\): 2 conflicts \(.*reason 2627.*; 2 recorded before the run began\)\. Resolve them first: .*then `replup retry --step sync-until-quiet --reason …`; nothing is lost\. Only if they cannot be resolved: deliver a new snapshot \(it reinitializes every subscriber and wipes their archives\) or restore the publisher's backup/,
      );
      // The settled ones are not among those that stop it.
      expect(sync.lastError).not.toMatch(/5 conflicts|3 conflicts/);

      expect(await lab.admin.resolveConflicts()).toBe(2);
      await decide(
        env.client,
        workflowId,
        'sync-until-quiet',
        'retry',
        'resolved 2 failed inserts in the conflict viewer',
        'dba-anna',
      );
      const done = await waitFor(
        env.client,
        workflowId,
        (p) =>
          ['completed', 'aborted'].includes(p.status) ||
          (p.status.startsWith('awaiting-') && p.steps.find((s) => s.id === 'sync-until-quiet')!.attempts > 1),
      );
      expect(done.status).toBe('completed');
      const r = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
      const note = r.progress.steps.find((s) => s.id === 'sync-until-quiet')!.note ?? '';
      expect(note).toMatch(
        /; 3 conflicts the resolver settled, kept for the conflict retention period; nothing to do \(.*; 3 recorded before the run began\)$/,
      );
      expect(r.progress.steps.find((s) => s.id === 'verify-replication')!.note).toMatch(
        /0 conflicts that need a person; 3 conflicts the resolver settled/,
      );
      expect(await brokenInvariants(lab)).toEqual([]);
      // The report, rebuilt from the history: the first attempt's round found the 2 rows that need a
      // person and the 3 settled ones, counted apart; after the retry only the settled ones are left.
      const report = await reportFromHistory(env.client, workflowId);
      const rounds = report.syncRounds.filter((x) => x.step === 'sync-until-quiet');
      expect(rounds.filter((x) => x.stepAttempt === 1).map((x) => [x.conflictRows, x.settledConflictRows])).toEqual([
        [2, 3],
      ]);
      expect(
        rounds.filter((x) => x.stepAttempt === 2).every((x) => x.conflictRows === 0 && x.settledConflictRows === 3),
      ).toBe(true);
    },
  );
});
