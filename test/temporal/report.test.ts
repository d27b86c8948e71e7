// The run report on a real dev server against the lab: the report the workflow wrote when it
// ended must equal the one `replup report` rebuilds from the fetched history, and both must tell
// what the test did: the conflicts that parked the sync, who retried it and why, who approved
// the removal, the transient faults Temporal retried, the batch child workflows, the canary.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, openLab } from '../../activities/lab/index.js';
import {
  fetchHistories,
  renderReportMarkdown,
  reportFromHistory,
  type RunReport,
} from '../../activities/report/index.js';
import { upgradeWorkflowId } from '../../workflows/personalization-upgrade.js';
import type { RunResult } from '../../workflows/messages.js';
import { approve, decide, startUpgrade } from '../../cli/lib/runs.js';
import { main } from '../../cli/main.js';
import { saveRecordedRun } from '../unit/report/fixture.js';
import { connect, examplePlan, saveEnv, startWorker, uniqueQueue, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
let reportsDir: string;
const restoreEnv = saveEnv('REPLUP_REPORTS_DIR', 'TEMPORAL_ADDRESS');
beforeAll(async () => {
  env = await connect();
  reportsDir = await mkdtemp(join(tmpdir(), 'replup-reports-'));
  // The worker runs in this process: its report activity writes here.
  process.env.REPLUP_REPORTS_DIR = reportsDir;
  // `replup report` connects through the standard client environment.
  process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
});
afterAll(async () => {
  restoreEnv();
  await rm(reportsDir, { recursive: true, force: true });
  await env?.teardown();
});

/** Runs `replup …` in this process; returns exit code, stdout and stderr. */
async function replup(...args: string[]) {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const THINK_MS = 1000;
const CONFLICTS = 3;
const RETRY_REASON = 'resolved 3 PK conflicts in the conflict viewer';
const APPROVE_REASON = 'change 4711 approved by the CAB';

describe('run report from the history', () => {
  it('the report the workflow wrote equals the one rebuilt from the history, and tells what the test did', async () => {
    const plan = await examplePlan('lab-small.yaml', (p) => {
      p.options.approvals = ['remove-replication'];
      // Fan-outs over the 4 personalization servers run as batch child workflows.
      p.options.childWorkflowThreshold = 3;
    });
    await initLab(plan, { rows: 20, seed: 42, conflicts: CONFLICTS, faults: { transient: 0.1, seed: 5 } });
    const lab = openLab((plan.target as { state: string }).state);
    const taskQueue = uniqueQueue('report');
    const worker = await startWorker(env, taskQueue);
    const stamp = `${process.pid}-${Date.now()}`;
    const workflowId = `${upgradeWorkflowId(plan)}#report-${stamp}`;
    // The file name keeps letters, digits, '.', '_' and '-': upgrade:lab-pub/personalizationserver#… →
    // upgrade_lab-pub_personalizationserver_…
    const baseName = `upgrade_lab-pub_personalizationserver_report-${stamp}`;
    try {
      await startUpgrade(env.client, plan, 'test-operator', { taskQueue, workflowId });

      const parked = await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-operator');
      expect(parked.current).toBe('sync-until-quiet');
      expect(await lab.admin.resolveConflicts()).toBe(CONFLICTS);
      // The operator takes a moment; the report must count it as time the step waited for a person.
      await sleep(THINK_MS);
      const retrySent = Date.now();
      await decide(env.client, workflowId, 'sync-until-quiet', 'retry', RETRY_REASON, 'dba-anna');
      const retryDone = Date.now();

      await waitFor(env.client, workflowId, (p) => p.status === 'awaiting-approval');
      await sleep(THINK_MS);
      const approveSent = Date.now();
      await approve(env.client, workflowId, 'remove-replication', APPROVE_REASON, 'dba-carl');
      const approveDone = Date.now();

      const result = (await env.client.workflow.getHandle(workflowId).result()) as RunResult;
      expect(result.status).toBe('completed');
      const files = result.progress.facts.report as { markdown: string; json: string };
      // Named by run: the next run of the same fleet writes its own files.
      const { runId } = await env.client.workflow.getHandle(workflowId).describe();
      expect(files).toEqual({
        markdown: join(reportsDir, `${baseName}.${runId}.md`),
        json: join(reportsDir, `${baseName}.${runId}.json`),
      });

      // The record and the report cannot disagree.
      const written = JSON.parse(await readFile(files.json, 'utf8')) as RunReport;
      const rebuilt = await reportFromHistory(env.client, workflowId);
      expect(JSON.parse(JSON.stringify(rebuilt))).toEqual(written);
      expect(await readFile(files.markdown, 'utf8')).toBe(renderReportMarkdown(rebuilt));

      // REPLUP_SAVE_REPORT_FIXTURE=1 records this run for the builder's unit tests.
      if (process.env.REPLUP_SAVE_REPORT_FIXTURE)
        saveRecordedRun('upgrade-retry', { workflowId, ...(await fetchHistories(env.client, workflowId)) });

      // Decisions: who, what, why and when, as the test sent them.
      expect(written.decisions.map(({ at: _, identity: __, ...d }) => d)).toEqual([
        { kind: 'retry', step: 'sync-until-quiet', actor: 'dba-anna', reason: RETRY_REASON },
        { kind: 'approve', step: 'remove-replication', actor: 'dba-carl', reason: APPROVE_REASON },
      ]);
      const at = written.decisions.map((d) => Date.parse(d.at));
      expect(at[0]).toBeGreaterThanOrEqual(retrySent - 1000);
      expect(at[0]).toBeLessThanOrEqual(retryDone);
      expect(at[1]).toBeGreaterThanOrEqual(approveSent - 1000);
      expect(at[1]).toBeLessThanOrEqual(approveDone);
      for (const d of written.decisions) expect(d.identity).toMatch(/@/);

      // Steps: all done; the sync ran twice, its first attempt's error on the record.
      expect(written.status).toBe('completed');
      expect(written.requestedBy).toBe('test-operator');
      expect(written.steps.map((s) => [s.id, s.status])).toEqual(result.progress.steps.map((s) => [s.id, 'done']));
      const sync = written.steps.find((s) => s.id === 'sync-until-quiet')!;
      expect(sync.attempts).toBe(2);
      expect(sync.errors).toHaveLength(1);
      expect(sync.errors[0]!.attempt).toBe(1);
      expect(sync.errors[0]!.message).toMatch(
        new RegExp(`^ConflictsFound: conflicting rows need a decision .*: ${CONFLICTS} conflicts`),
      );
      for (const s of written.steps) {
        expect(s.durationSeconds).toBe(Math.round((Date.parse(s.endedAt!) - Date.parse(s.startedAt!)) / 100) / 10);
        expect(s.waitingSeconds).toBeLessThanOrEqual(s.durationSeconds!);
      }
      // The time the sync and the gate waited for a person covers the time the test took to decide.
      expect(sync.waitingSeconds).toBeGreaterThanOrEqual(THINK_MS / 1000);
      expect(written.steps.find((s) => s.id === 'remove-replication')!.waitingSeconds).toBeGreaterThanOrEqual(
        THINK_MS / 1000,
      );
      expect(
        written.steps
          .filter((s) => s.id !== 'sync-until-quiet' && s.id !== 'remove-replication')
          .every((s) => s.waitingSeconds === 0),
      ).toBe(true);

      // Sync rounds: attempt 1 ran one round and found the conflicts; attempt 2 ran until quiet.
      const subscriptions = plan.publications.reduce((n, p) => n + p.subscribers.length, 0);
      const syncRounds = written.syncRounds.filter((r) => r.step === 'sync-until-quiet');
      const first = syncRounds.filter((r) => r.stepAttempt === 1);
      expect(first.map((r) => [r.round, r.merges, r.conflictRows, r.quiet])).toEqual([
        [1, subscriptions, CONFLICTS, false],
      ]);
      const second = syncRounds.filter((r) => r.stepAttempt === 2);
      expect(second.map((r) => r.round)).toEqual(second.map((_, i) => i + 1));
      expect(second.every((r) => r.merges === subscriptions && r.conflictRows === 0)).toBe(true);
      expect(second.slice(-plan.options.sync.quietRounds).every((r) => r.quiet)).toBe(true);
      const progressRounds = result.progress.facts.syncRounds as { round: number; moved: number; pending: number }[];
      expect(second.map((r) => ({ round: r.round, moved: r.moved, pending: r.pending }))).toEqual(
        progressRounds.map((r) => ({ round: r.round, moved: r.moved, pending: r.pending })),
      );

      // Verification: the canary from the publisher reached both subscribers.
      const subscriberDbs = plan.sites.filter((s) => s.role === 'subscriber').map((s) => `${s.server}/${s.database}`);
      expect(written.verification).toMatchObject({
        status: 'done',
        stepAttempt: 1,
        publishers: [`${plan.publisher.server}/${plan.publisher.database}`],
        missing: [],
        conflicts: 0,
      });
      expect(written.verification!.canary).toMatch(/^replup-[0-9a-f-]{36}$/);
      expect(written.verification!.arrived).toEqual([...subscriberDbs].sort());

      // Activities: each belongs to a step; the host fan-outs ran in batch child workflows.
      expect(written.activities.every((a) => a.outcome === 'completed')).toBe(true);
      expect(written.activities.every((a) => result.progress.steps.some((s) => s.id === a.step))).toBe(true);
      expect(written.steps.reduce((n, s) => n + s.activities, 0)).toBe(written.activities.length);
      const hosts = new Set(plan.sites.flatMap((s) => s.personalizationServers));
      const drains = written.activities.filter((a) => a.type === 'drainHost');
      expect(drains).toHaveLength(hosts.size);
      expect(drains.every((a) => a.workflowId.startsWith(`${workflowId}/drain-users/batch-`))).toBe(true);
      // restore-service fans out twice over the hosts (start the service, admit users): two sets
      // of batches, each host in each, none lost from the audit.
      for (const type of ['stopBackgroundService', 'startBackgroundService', 'undrainHost']) {
        expect(
          written.activities
            .filter((a) => a.type === type)
            .map((a) => a.summary.split(' ').pop())
            .sort(),
          type,
        ).toEqual([...hosts].sort());
      }
      // (The fan-outs' activities; restore-service also puts the agent schedules back, in the parent.)
      const fannedOut = written.activities.filter(
        (a) => a.step === 'restore-service' && ['startBackgroundService', 'undrainHost'].includes(a.type),
      );
      const restoreBatches = new Set(fannedOut.map((a) => a.workflowId.replace(/\/batch-\d+$/, '')));
      expect(restoreBatches).toEqual(new Set([`${workflowId}/restore-service`, `${workflowId}/restore-service~2`]));
      expect(written.childWorkflows.length).toBeGreaterThan(0);
      expect(new Set(written.activities.filter((a) => a.workflowId !== workflowId).map((a) => a.workflowId))).toEqual(
        new Set(written.childWorkflows),
      );
      // Every merge of the first sync attempt is attributed to attempt 1, the rest to attempt 2.
      const merges = written.activities.filter((a) => a.type === 'mergeSubscription' && a.step === 'sync-until-quiet');
      expect(merges.filter((a) => a.stepAttempt === 1)).toHaveLength(subscriptions);
      expect(merges.filter((a) => a.stepAttempt === 2)).toHaveLength(second.length * subscriptions);

      // Temporal's retries: every injected transient fault shows as one extra activity attempt.
      const faults = (await lab.admin.accounting()).filter((e) => e.outcome === 'error').length;
      expect(faults).toBeGreaterThan(0);
      const retried = written.activities.filter((a) => a.attempts > 1);
      expect(retried.reduce((n, a) => n + a.attempts - 1, 0)).toBe(faults);
      for (const a of retried) expect(a.lastRetriedError).toMatch(/\(lab: injected fault\)/);

      // `replup report` prints the same report, as Markdown by default, JSON with --json.
      const md = await replup('report', workflowId);
      expect(md).toMatchObject({ code: 0, err: '' });
      expect(md.out).toBe(renderReportMarkdown(written));
      expect(md.out).toContain(
        `| ${written.decisions[0]!.at} | retry | sync-until-quiet | dba-anna | ${RETRY_REASON} |`,
      );
      const json = await replup('report', workflowId, '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.out)).toEqual(written);
      const outDir = join(reportsDir, 'out');
      const out = await replup('report', workflowId, '--out', outDir);
      expect(out.code).toBe(0);
      const base = join(outDir, `${baseName}.${runId}`);
      expect(out.out).toBe(`${base}.md\n${base}.json\n`);
      expect(await readFile(`${base}.json`, 'utf8')).toBe(await readFile(files.json, 'utf8'));
    } finally {
      await worker.stop();
      lab.admin.close();
    }
  });

  it('replup report: an unknown run and conflicting options say what to do', async () => {
    const missing = await replup('report', 'upgrade:NO-SUCH/Fleet');
    expect(missing.code).toBe(1);
    expect(missing.out).toBe('');
    expect(missing.err).toBe(
      'replup: no run with id upgrade:NO-SUCH/Fleet in namespace default\n  list the runs: replup list (past ' +
        'ones: replup list --status completed, --status aborted)\n',
    );
    const both = await replup('report', 'upgrade:NO-SUCH/Fleet', '--json', '--md');
    expect(both.code).toBe(2);
    expect(both.err).toBe('replup: --json and --md exclude each other: pick one (with --out both files are written)\n');
    const noId = await replup('report');
    expect(noId.code).toBe(2);
    expect(noId.err).toContain("error: missing required argument 'id'");
  });
});
