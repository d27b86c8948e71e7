// The `replup` command end to end, as an operator lives with it: real `replup` processes and a real
// `replup worker` process against the suite's dev server, on labs of their own.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab } from '../../activities/lab/index.js';
import { childEnv, labPlanCopy, replup, scratchDir, startWorkerProcess, type WorkerProcess } from './cli/replup.js';

const scratch = scratchDir('cli-e2e');
const env = childEnv(scratch);
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  worker = await startWorkerProcess(env);
});

afterAll(async () => {
  await worker?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const json = (text: string) => JSON.parse(text) as Record<string, any>;

describe('replup, as an operator runs it', () => {
  it('start --wait runs a whole upgrade to completion (exit 0); lab check finds every invariant holds', async () => {
    const plan = labPlanCopy(scratch, `E2E-DONE-${tag}`);
    const init = await replup(['lab', 'init', plan.file], env);
    expect(init.code, init.stderr).toBe(0);

    const run = await replup(['start', plan.file, '--wait'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Started ${plan.workflowId}\n`);
    expect(run.stdout).toMatch(/Web UI: http:\/\/\S+\/namespaces\/default\/workflows\/upgrade%3Ae2e-done/);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/ completed$/);

    const check = await replup(['lab', 'check', plan.file], env);
    expect(check.code, check.stdout).toBe(0);
    // Every invariant the lab knows passes, the convergence and configuration ones included.
    const passed = check.stdout.match(/^PASS /gm)?.length ?? 0;
    expect(passed).toBeGreaterThanOrEqual(9);
    expect(check.stdout).toContain(`All ${passed} invariants hold for the lab at ${plan.state}`);
    expect(check.stdout).toContain('PASS  copies-validated-identical');
    expect(check.stdout).toContain('PASS  configuration-preserved');
    expect(check.stdout).not.toContain('FAIL');

    // A finished run still answers `status`, with where its report was written.
    const status = await replup(['status', plan.workflowId, '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    const p = json(status.stdout);
    expect(p.status).toBe('completed');
    expect(p.steps.every((s: { status: string }) => s.status === 'done' || s.status === 'not-applicable')).toBe(true);
    // One report per run: <fleet id>.<run id>.md, so the next run of this fleet keeps this one.
    expect(p.facts.report.markdown).toMatch(
      new RegExp(
        `^${join(scratch, 'reports')}/upgrade_e2e-done-${tag.toLowerCase()}` +
          `_personalizationserver\\.[0-9a-f-]{36}\\.md$`,
      ),
    );
    expect(readFileSync(p.facts.report.markdown, 'utf8')).toContain(plan.workflowId);
  });

  it(
    'a run parked on conflicts: status, watch (exit 3 and ' + 'the command), a refused skip, then the fix and retry',
    async () => {
      const plan = labPlanCopy(scratch, `E2E-PARK-${tag}`);
      const init = await replup(['lab', 'init', plan.file, '--conflicts', '2'], env);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stdout).toContain(', 2 conflicts.');

      const started = await replup(['start', plan.file], env);
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toContain(`watch:  replup watch '${plan.workflowId}'`);

      const watch = await replup(['watch', plan.workflowId, '--interval', '200'], env);
      expect(watch.code, watch.stdout + watch.stderr).toBe(3);
      expect(watch.stdout).toMatch(
        /The run needs an operator at sync-until-quiet \(awaiting-operator\): .*2 conflicts/,
      );
      expect(watch.stdout).toContain(`  replup retry '${plan.workflowId}' --step sync-until-quiet --reason "..."\n`);
      expect(watch.stdout).toContain(`  replup abort '${plan.workflowId}' --step sync-until-quiet --reason "..."\n`);
      expect(watch.stdout).not.toContain('replup skip'); // sync-until-quiet guards data: never offered

      const parked = await replup(['status', plan.workflowId, '--json'], env);
      expect(parked.code, parked.stderr).toBe(0);
      const before = json(parked.stdout);
      expect(before.status).toBe('awaiting-operator');
      expect(before.current).toBe('sync-until-quiet');
      const sync = before.steps.find((s: { id: string }) => s.id === 'sync-until-quiet');
      expect(sync).toMatchObject({ status: 'awaiting-operator', skippable: false, attempts: 1 });

      const skip = await replup(['skip', plan.workflowId, '--step', 'sync-until-quiet', '--reason', 'in a hurry'], env);
      expect(skip.code).toBe(1);
      expect(skip.stderr.split('\n')[0]).toBe(
        'replup: refused: step sync-until-quiet cannot be skipped: skipping it would risk data; retry it or ' +
          'abort the run',
      );
      expect(skip.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const after = await replup(['status', plan.workflowId, '--json'], env);
      expect(json(after.stdout)).toEqual(before);

      // The DBA resolves the conflicts. The worker holds the lab's lock, so it is stopped meanwhile:
      // the parked run waits in Temporal, and a new worker picks it up.
      expect(await worker!.stop()).toBe(0);
      const lab = openLab(plan.state);
      try {
        expect(await lab.admin.resolveConflicts()).toBe(2);
      } finally {
        lab.admin.close();
      }
      worker = await startWorkerProcess(env);

      const retry = await replup(
        [
          'retry',
          plan.workflowId,
          '--step',
          'sync-until-quiet',
          '--reason',
          'resolved 2 PK conflicts',
          '--actor',
          'dba-anna',
        ],
        env,
      );
      expect(retry.code, retry.stderr).toBe(0);
      expect(retry.stdout).toBe(
        `retry of sync-until-quiet recorded for ${plan.workflowId} (by dba-anna: resolved 2 PK conflicts)\n`,
      );

      const done = await replup(['watch', plan.workflowId, '--interval', '200'], env);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      const final = json((await replup(['status', plan.workflowId, '--json'], env)).stdout);
      expect(final.status).toBe('completed');
      expect(final.steps.find((s: { id: string }) => s.id === 'sync-until-quiet')).toMatchObject({
        status: 'done',
        attempts: 2,
      });
      expect(final.decisions).toMatchObject([
        { kind: 'retry', step: 'sync-until-quiet', actor: 'dba-anna', reason: 'resolved 2 PK conflicts' },
      ]);
      const check = await replup(['lab', 'check', plan.file], env);
      expect(check.code, check.stdout).toBe(0);
    },
  );

  it('an invalid plan: start exits 1 with the file, line and column of each error, and starts nothing', async () => {
    const file = join(scratch, 'bad-plan.yaml');
    writeFileSync(
      file,
      [
        'name: bad',
        'runbook: em-personalization-upgrade',
        'from: 8.2.0.0',
        'to: 10.4.0.0',
        `target: { kind: lab, state: ${JSON.stringify(join(scratch, 'bad-lab.json'))} }`,
        `publisher: { server: E2E-BAD-${tag} }`,
        'subscribers:',
        '  - server: LAB-SUB1',
        'scripts: { dir: replication }',
        'options: { maxParallel: 0 }',
        '',
      ].join('\n'),
    );
    const r = await replup(['start', file], env);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`replup: ${file} is not a valid plan (1 problem); nothing was started`);
    expect(r.stderr).toContain(`${file}:10:25 options.maxParallel: must be at least 1`);
    expect(r.stdout).toBe('');
    const runs = await replup(['status', `upgrade:E2E-BAD-${tag}/PersonalizationServer`], env);
    expect(runs.code).toBe(1);
    expect(runs.stderr).toBe(
      `replup: no run with id upgrade:E2E-BAD-${tag}/PersonalizationServer\n  list the runs: replup list\n`,
    );
    expect(existsSync(join(scratch, 'bad-lab.json'))).toBe(false);
  });
});
