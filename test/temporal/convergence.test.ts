// No silent divergence (issue #20 §1-2) in a real run on a Temporal dev server against the lab:
// generation-0 rows that "0 pending" misses park sync-until-quiet after the quiet rounds, naming
// subscription and table with the safe way first; after the DBA's fix and a retry the run completes,
// validated identical before removal and after re-enable, with every invariant. A publication whose
// rowguid columns replication added stops at preflight, nothing changed.
import { describe, expect } from 'vitest';
import { labVerdict } from '../../activities/lab/check.js';
import type { RunResult } from '../../workflows/messages.js';
import { decide } from '../../cli/lib/runs.js';
import { reportFromHistory, renderReportMarkdown } from '../../activities/report/index.js';
import { brokenInvariants, labUpgradeTests, waitFor } from './harness.js';

const labs = labUpgradeTests();

describe('the convergence proof', () => {
  labs.it(
    'generation-0 rows: parks sync-until-quiet after quiet rounds naming Data → the subscriber and ' +
      'ProfileData; after the fix and a retry it completes validated identical twice, every invariant held',
    {
      lab: { rows: 20, seed: 20, usersPerHost: 0, conditions: { generationZeroRows: 2 } },
      queue: 'convergence',
      id: `gen0-${process.pid}-${Date.now()}`,
    },
    async ({ env, plan, lab, workflowId }) => {
      // No users: a user's update to a bulk-loaded row gives it a generation, so merge would carry it
      // and heal the difference before validation sees it (the test then never parks: seen as a flake).
      const parked = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-operator');
      const sync = parked.steps.find((s) => s.id === 'sync-until-quiet')!;
      const subscriber = plan.sites.find(
        (s) => s.key === plan.publications.find((p) => p.kind === 'Data')!.subscribers[0],
      )!;
      expect(sync.lastError).toMatch(
        new RegExp(
          `^CopiesDiffer: merge validation \\(row counts and binary checksums\\) found copies that differ ` +
            `after the quiet rounds: Data → ${subscriber.server}/${subscriber.database} \\(tables ` +
            `ProfileData\\)\\. .*The safe way first: make the copies identical by hand \\(tablediff`,
        ),
      );
      // Nothing removed while parked.
      expect((await lab.admin.state()).timeline.removedAt).toBeUndefined();

      await lab.admin.fixGenerationZeroRows();
      await decide(
        env.client,
        workflowId,
        'sync-until-quiet',
        'retry',
        'tablediff fix script applied to the Data copies',
        'dba-anna',
      );
      const done = await waitFor(
        env.client,
        workflowId,
        (p) =>
          ['completed', 'aborted', 'failed'].includes(p.status) ||
          (p.status.startsWith('awaiting-') && p.steps.find((s) => s.id === 'sync-until-quiet')!.attempts > 1),
      );
      expect(done.status).toBe('completed');
      const r = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
      const subs = plan.publications.reduce((n, p) => n + p.subscribers.length, 0);
      expect(r.progress.steps.find((s) => s.id === 'sync-until-quiet')!.note).toMatch(
        new RegExp(
          `^${subs} subscriptions validated identical \\(merge validation, row counts and binary ` +
            `checksums\\); round \\d+: 0 rows moved, 0 pending; 2 of 2 quiet rounds$`,
        ),
      );
      expect(r.progress.steps.find((s) => s.id === 'verify-replication')!.note).toMatch(
        new RegExp(
          `; ${subs} subscriptions validated identical \\(.*\\); \\d+ sampled rows carry the publisher's rowguid$`,
        ),
      );
      const facts = r.progress.facts as {
        validatedBeforeRemoval: { outcome: string }[];
        validatedAfterReEnable: { outcome: string }[];
      };
      expect(facts.validatedBeforeRemoval.map((v) => v.outcome)).toEqual(Array(subs).fill('identical'));
      expect(facts.validatedAfterReEnable.map((v) => v.outcome)).toEqual(Array(subs).fill('identical'));
      expect(await brokenInvariants(lab)).toEqual([]);
      // The report, rebuilt from the history: the failed validation of attempt 1, then every
      // subscription identical after the retry and again after the re-enable.
      const report = await reportFromHistory(env.client, workflowId);
      const proof = (report.convergence ?? []).map(
        (c) =>
          `${c.step}#${c.stepAttempt} ${c.publication} → ${c.subscriber}: ${c.outcome}` +
          `${c.tables.length ? ` (${c.tables.join(', ')})` : ''}`,
      );
      expect(proof.filter((x) => x.startsWith('sync-until-quiet#1 ') && !x.endsWith(': identical'))).toEqual([
        `sync-until-quiet#1 Data → ${subscriber.server}/${subscriber.database}: differs (ProfileData)`,
      ]);
      expect(proof.filter((x) => x.startsWith('sync-until-quiet#2 ')).every((x) => x.endsWith(': identical'))).toBe(
        true,
      );
      expect(proof.filter((x) => x.startsWith('sync-until-quiet#2 ')).length).toBe(subs);
      expect(proof.filter((x) => x.startsWith('verify-replication#1 ') && x.endsWith(': identical')).length).toBe(subs);
      expect(renderReportMarkdown(report)).toContain(
        `| sync-until-quiet | 1 | Data → ${subscriber.server}/${subscriber.database} | differs | ProfileData |`,
      );
    },
  );

  labs.it(
    'replication-added rowguid columns: preflight parks with the explanation before anything changes; aborted, ' +
      'the fleet is as it was',
    {
      patch: (p) => {
        p.from = '8.3.253.0';
      },
      lab: { rows: 20, seed: 21, conditions: { replicationAddedRowGuids: true } },
      queue: 'convergence',
      id: `rowguid-${process.pid}-${Date.now()}`,
    },
    async ({ env, lab, workflowId }) => {
      const parked = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-operator');
      const pre = parked.steps.find((s) => s.id === 'preflight')!;
      expect(pre.status).toBe('awaiting-operator');
      expect(pre.lastError).toMatch(
        /^PreflightFailed: on .* replication added the rowguid column of these articles \(sysmergearticles\.preserve_rowguidcol = 0\): publication Data: ProfileData\. .*KB 2646528/,
      );
      await decide(
        env.client,
        workflowId,
        'preflight',
        'abort',
        'the vendor is asked about the rowguid columns',
        'dba-anna',
      );
      const ended = await waitFor(env.client, workflowId, (p) => ['completed', 'aborted', 'failed'].includes(p.status));
      expect(ended.status).toBe('aborted');
      const state = await lab.admin.state();
      const verdict = labVerdict(state);
      expect(verdict.phase).toBe('intact');
      expect(verdict.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.detail}`)).toEqual([]);
    },
  );
});
