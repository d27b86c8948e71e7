// What a fresh user met next, through the real `replup` command and a real `replup worker` on the
// suite's dev server: the worker's start line names the server and namespace; a lab plan's run that
// finds no lab parks at once with the LabStateError (not retried for minutes); `replup dev` reusing a
// server another folder started prints the export line and no `replup dev stop`; a manual step
// confirmed too early parks, and the next confirm is refused naming retry. Pure parts:
// test/unit/cli/fresh-user-followups.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, childEnv, labPlanCopy, replup, scratchDir, startWorkerProcess, type Ran } from './replup.js';
import type { WorkerProcess } from './replup.js';

const scratch = scratchDir('followups');
const env = childEnv(scratch);
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
const address = inject('temporalAddress');
let worker: WorkerProcess;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  worker = await startWorkerProcess(env);
  connection = await Connection.connect({ address });
  client = new Client({ connection });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const say = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const run = (...args: string[]) => replup(args, env);

describe('replup worker', () => {
  it('its start line names the server address and the namespace', () => {
    expect(worker.log()).toContain(
      `replup worker serving task queue replup (pid ${worker.child.pid}) on ${address}, namespace default`,
    );
  });
});

describe('a lab run whose lab file is missing', () => {
  it('start --at warns; once started, preflight parks at once with the LabStateError, never retried', async () => {
    const plan = labPlanCopy(scratch, `NOLAB-${tag}`);
    const at = new Date(Date.now() + 3_000).toISOString();
    const started = await run('start', plan.file, '--at', at, '--wait');
    const missing = `no lab at ${plan.state}: create it with \`replup lab init ${plan.file}\``;
    expect(started.stderr).toContain(`replup: warning: ${missing} before the window opens`);
    expect(started.code, say(started)).toBe(3);
    const status = await run('status', plan.workflowId);
    expect(status.stdout).toMatch(/preflight\s.*awaiting-operator/);
    expect(status.stdout).toContain(`no lab at ${plan.state}`);
    // One attempt, failed as not retryable: the step parked at once.
    const history = await client.workflow.getHandle(plan.workflowId).fetchHistory();
    const failed = history.events!.filter((e) => e.activityTaskFailedEventAttributes);
    expect(failed).toHaveLength(1);
    const failure = failed[0]!.activityTaskFailedEventAttributes!.failure!;
    expect(failure.message).toBe(`no lab at ${plan.state}: create it with \`replup lab init <plan>\``);
    expect(failure.applicationFailureInfo).toMatchObject({ type: 'LabStateError', nonRetryable: true });
    await client.workflow.getHandle(plan.workflowId).terminate('test over');
  }, 300_000);
});

describe('replup dev reusing a server this folder did not start', () => {
  it('prints the export line for its address, says it was started elsewhere, offers no `replup dev stop`', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'replup-dev-elsewhere-'));
    try {
      const r = spawnSync(process.execPath, [BIN, 'dev', '--port', String(inject('temporalPort'))], {
        cwd,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`A Temporal server already answers at ${address}: reusing it.`);
      expect(r.stdout).toContain(`\n  export TEMPORAL_ADDRESS=${address}\n`);
      expect(r.stdout).toContain('It was started elsewhere (not by replup dev in this folder): stop it where it was');
      expect(r.stdout).not.toContain('replup dev stop');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('hosts.upgrade: manual, confirmed too early', () => {
  it('the step parks; confirm is then refused naming retry and abort; retry asks to confirm again', async () => {
    const plan = labPlanCopy(scratch, `EARLY-${tag}`);
    const upgradeLine = '  upgrade: PersonalizationServerSetup.exe /quiet /upgrade {host} {version}\n';
    writeFileSync(plan.file, readFileSync(plan.file, 'utf8').replace(upgradeLine, '  upgrade: manual\n'));
    expect((await run('lab', 'init', plan.file)).code).toBe(0);
    expect((await run('start', plan.file)).code).toBe(0);
    const waiting = await run('watch', plan.workflowId, '--interval', '200');
    expect(waiting.stdout, say(waiting)).toMatch(/needs an operator at upgrade \(awaiting-confirmation\)/);

    const early = await run('confirm', plan.workflowId, '--step', 'upgrade', '--note', 'too early');
    expect(early.code, say(early)).toBe(0);
    const parked = await run('watch', plan.workflowId, '--interval', '200');
    expect(parked.stdout, say(parked)).toMatch(/needs an operator at upgrade \(awaiting-operator\)/);

    const again = await run('confirm', plan.workflowId, '--step', 'upgrade', '--note', 'done now?');
    expect(again.code, say(again)).toBe(1);
    expect(again.stderr).toMatch(
      /^replup: refused: step upgrade is awaiting-operator, not waiting for a confirmation: it parked \(.*not yet at 10\.4\.0\.0/,
    );
    expect(again.stderr).toContain(
      'Retry it: replup retry --step upgrade --reason "..." (it asks for your confirmation again: confirm once ' +
        'the work is really done); or end the run: replup abort --step upgrade --reason "..."',
    );

    const retried = await run('retry', plan.workflowId, '--step', 'upgrade', '--reason', 'confirm when done');
    expect(retried.code, say(retried)).toBe(0);
    const asksAgain = await run('watch', plan.workflowId, '--interval', '200');
    expect(asksAgain.stdout, say(asksAgain)).toMatch(/needs an operator at upgrade \(awaiting-confirmation\)/);
    await client.workflow.getHandle(plan.workflowId).terminate('test over');
  }, 300_000);
});
