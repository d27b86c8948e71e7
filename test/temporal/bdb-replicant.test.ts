// The TapeTrack replicant runbook (seed 001, DOMAIN.md §2) on a real Temporal dev server and real
// Berkeley DB processes (Debian's db5.3-util) on loopback ports. Each test checks what the
// TapeTrack administrator checks afterwards: the data on the replicant, the replicant refusing
// writes, the files on disk, and the run's record (progress, decisions, report).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createBdbActivities } from '../../activities/bdb-replicant/activities.js';
import {
  localServicePid,
  replicationRole,
  startService,
  stopService,
  type BdbService,
} from '../../activities/bdb-replicant/index.js';
import { runTool } from '../../activities/bdb-replicant/tools.js';
import { reportBaseName } from '../../activities/report/index.js';
import { approve, decide, pause, resume } from '../../cli/lib/runs.js';
import { startBdbReplicant } from '../../cli/lib/start-bdb-replicant.js';
import { UserError } from '../../cli/errors.js';
import type { BdbReplicantPlan } from '../../plan/bdb-replicant/schema.js';
import { loadPlanFile } from '../../plan/load.js';
import { bdbReplicantWorkflowId } from '../../workflows/bdb-replicant.js';
import type { Progress, RunResult } from '../../workflows/messages.js';
import { freePort, records, scratch, SEED_DB_CONFIG, standaloneServer } from '../unit/bdb/helpers.js';
import { connect, startWorker, uniqueQueue, waitFor, workflowBundle } from './harness.js';

const TAPES = { VOL001: 'rack A slot 1', VOL002: 'rack A slot 2', VOL003: 'offsite vault' };
const ACTOR = 'dba-test';
/** The operator's decision (decide) on run `t`, as ACTOR. */
const decideAsActor = (t: { workflowId: string }, step: string, action: 'retry' | 'skip' | 'abort', reason: string) =>
  decide(env.client, t.workflowId, step, action, reason, ACTOR);

let env: TestWorkflowEnvironment;
let root: string;
let reportsDir: string;
const envDirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  env = await connect();
  root = await scratch('bdb-wf');
  reportsDir = path.join(root, 'reports');
  process.env.REPLUP_REPORTS_DIR = reportsDir;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const envDir of envDirs) {
    await stopService(
      { role: 'master', host: '127.0.0.1', envDir, control: { kind: 'local' } },
      { graceMs: 3_000 },
    ).catch(() => undefined);
  }
  // Any db5.3 process still working in this suite's folder (e.g. one a killed worker left behind).
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes('db5.3_') && cmdline.includes(root)) process.kill(Number(pid), 'SIGKILL');
  }
  await env?.teardown();
  await rm(root, { recursive: true, force: true });
}, 60_000);

interface Pair {
  dir: string;
  plan: BdbReplicantPlan;
  masterEnv: string;
  replicantEnv: string;
  master: BdbService;
  workflowId: string;
  taskQueue: string;
}

/**
 * A standalone TapeTrack server with tapes (the seed's DB_CONFIG, blocks commented out), a freshly
 * installed replicant machine (its own DB_CONFIG and files), and a plan for the pair, loaded by
 * the same loader `replup start` uses.
 */
async function setupPair(
  name: string,
  opts: {
    trusted?: boolean;
    retrySeconds?: number;
    replicantConfig?: (ports: { master: number; replicant: number }) => Promise<string>;
  } = {},
): Promise<Pair> {
  const dir = path.join(root, name);
  const masterEnv = await standaloneServer(path.join(dir, 'master'), TAPES);
  const replicantEnv = path.join(dir, 'replicant', 'db');
  await mkdir(replicantEnv, { recursive: true });
  envDirs.push(masterEnv, replicantEnv);
  const ports = { master: await freePort(), replicant: await freePort() };
  await writeFile(
    path.join(replicantEnv, 'DB_CONFIG'),
    opts.replicantConfig ? await opts.replicantConfig(ports) : await readFile(SEED_DB_CONFIG, 'utf8'),
  );
  await writeFile(path.join(replicantEnv, 'TMSS10.catalog'), 'catalog of the fresh install');
  const file = path.join(dir, 'plan.yaml');
  await writeFile(
    file,
    [
      'runbook: bdb-replicant',
      `name: tapetrack-${name}`,
      `master: { host: 127.0.0.1, envDir: master/db, port: ${ports.master} }`,
      `replicant: { host: 127.0.0.1, envDir: replicant/db, port: ${ports.replicant} }`,
      'backupDir: backup',
      ...(opts.trusted === false ? [] : ['network: { trusted: true }']),
      `options: { replicantRetrySeconds: ${opts.retrySeconds ?? 1}, startupTimeoutSeconds: 60, ` +
        `verifyTimeoutSeconds: 30 }`,
      '',
    ].join('\n'),
  );
  const loaded = await loadPlanFile(file);
  if (!loaded.ok) throw new Error(`test plan ${file} is invalid: ${JSON.stringify(loaded.errors)}`);
  const plan = loaded.plan as BdbReplicantPlan;
  return {
    dir,
    plan,
    masterEnv,
    replicantEnv,
    master: {
      role: 'master',
      host: '127.0.0.1',
      envDir: masterEnv,
      control: { kind: 'local' },
      messageLog: plan.master.messageLog,
    },
    workflowId: `${bdbReplicantWorkflowId(plan)}#test-${process.pid}-${name}`,
    taskQueue: uniqueQueue(`bdb-${name}`),
  };
}

const inProcessWorker = (taskQueue: string) => startWorker(env, taskQueue, createBdbActivities());

/** A worker in its own process, so that the test can SIGKILL it like a crashed server. */
const CHILD_WORKER = `
import { createRequire } from 'node:module';
const repo = process.env.TEST_REPO;
const require = createRequire(repo + '/package.json');
const { NativeConnection, Worker, Runtime, DefaultLogger } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const { createBdbActivities } = await import(repo + '/activities/bdb-replicant/activities.ts');
const { createReportActivities } = await import(repo + '/activities/report/index.ts');
Runtime.install({ logger: new DefaultLogger('WARN') });
const address = process.env.TEST_TEMPORAL_ADDRESS;
const connection = await NativeConnection.connect({ address });
let client;
const report = createReportActivities(
  async () => (client ??= new Client({ connection: await Connection.connect({ address }) })),
);
const worker = await Worker.create({
  connection,
  taskQueue: process.env.TEST_TASK_QUEUE,
  workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE },
  activities: { ...createBdbActivities(), ...report },
  stickyQueueScheduleToStartTimeout: '2s',
});
console.log('worker ready');
await worker.run();
`;

async function childWorker(taskQueue: string): Promise<ChildProcess> {
  const codePath = path.join(root, 'workflow-bundle.js');
  const script = path.join(root, 'child-worker.mjs');
  if (!existsSync(codePath)) await writeFile(codePath, (await workflowBundle()).code);
  await writeFile(script, CHILD_WORKER);
  const repo = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: repo,
    env: {
      ...process.env,
      TEST_REPO: repo,
      TEST_TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEST_TASK_QUEUE: taskQueue,
      TEST_WORKFLOW_BUNDLE: codePath,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
      if (output.includes('worker ready')) resolve();
    });
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('exit', (code) =>
      reject(new Error(`the worker process exited (${code}) before it was ready: ${output}`)),
    );
  });
  return child;
}

const ended = (p: Progress) => ['completed', 'aborted'].includes(p.status);

/** The run's result; a run that parks instead fails the test at once, saying where and why. */
async function resultOf(t: Pair, timeoutMs = 120_000): Promise<RunResult> {
  const p = await waitFor(env.client, t.workflowId, (x) => ended(x) || x.status.startsWith('awaiting-'), timeoutMs);
  if (!ended(p)) {
    const s = p.steps.find((x) => x.status.startsWith('awaiting-'));
    throw new Error(`the run parked at ${s?.id} (${s?.status}): ${s?.lastError ?? s?.note ?? ''}`);
  }
  return env.client.workflow.getHandle(t.workflowId).result() as Promise<RunResult>;
}

/** Holds the run at the boundary before `step`: pause, and let it through one step at a time. */
async function pauseBefore(t: Pair, step: string): Promise<void> {
  const order = (await waitFor(env.client, t.workflowId, () => true)).steps.map((s) => s.id);
  for (;;) {
    await pause(env.client, t.workflowId, `test: hold the run before ${step}`, ACTOR);
    const p = await waitFor(
      env.client,
      t.workflowId,
      (x) => x.status === 'paused' && !x.steps.some((s) => s.status === 'running'),
    );
    const next = p.steps.find((s) => s.status === 'pending');
    if (next?.id === step) return;
    if (!next || order.indexOf(next.id) > order.indexOf(step))
      throw new Error(`the run went past ${step} before the test could hold it`);
    await resume(env.client, t.workflowId, 'test: one more step', ACTOR);
  }
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What the administrator sees on the replicant: the master's tapes, and a refused write. */
async function expectWorkingReplicant(t: Pair): Promise<void> {
  expect(await records(t.replicantEnv, 'tapes.db')).toEqual(TAPES);
  expect(await replicationRole(t.replicantEnv)).toBe('client');
  const write = await runTool('load', ['-T', '-t', 'btree', '-h', t.replicantEnv, 'tapes.db'], {
    input: 'VOL999\nwritten on the replicant\n',
  });
  expect(write.code).not.toBe(0);
  expect(write.stderr).toContain('BDB0111 DBcursor->put: attempt to modify a read-only database');
}

const stepStates = (r: RunResult) => r.progress.steps.map((s) => [s.id, s.status]);
const step = (p: Progress, id: string) => p.steps.find((s) => s.id === id)!;

/**
 * The replicant's DB_CONFIG as an administrator edits it following the seed to the letter on Windows: block uncommented
 * with the document's typos, addresses filled in, CRLF line ends.
 */
async function operatorEditedConfig(ports: { master: number; replicant: number }): Promise<string> {
  const lines = (await readFile(SEED_DB_CONFIG, 'utf8')).split('\n');
  expect(lines.slice(24, 28)).toEqual([
    '#rep-set-priority 0',
    '#repmgr_site replicant-1.tapetrack.com 5010 db_local_site on',
    '#repmgr_site master.tapetrack.com 5010 db_bootstrap_helper on',
    '#rep_set_config DB REP_CONF_BULK on',
  ]);
  lines.splice(
    24,
    4,
    'rep-set-priority 0',
    `repmgr_site 127.0.0.1 ${ports.replicant} db_local_site on`,
    `repmgr_site 127.0.0.1 ${ports.master} db_bootstrap_helper on`,
    'rep_set_config DB REP_CONF_BULK on',
  );
  return lines.join('\r\n');
}

describe('bdb-replicant: a standalone master becomes master + read-only replicant', () => {
  let t: Pair;
  let result: RunResult;

  beforeAll(async () => {
    t = await setupPair('whole', { replicantConfig: operatorEditedConfig });
    const worker = await inProcessWorker(t.taskQueue);
    try {
      const started = await startBdbReplicant(env.client, t.plan, ACTOR, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId,
      });
      expect(started.workflowId).toBe(t.workflowId);
      result = await resultOf(t);
    } finally {
      await worker.stop();
    }
  }, 150_000);

  it(
    'runs every step of the seed and leaves a working ' +
      'pair: the tapes on the replicant, the replicant ' +
      'read-only',
    async () => {
      expect(result.status).toBe('completed');
      expect(stepStates(result)).toEqual([
        ['trusted-network', 'not-applicable'],
        ['backup-master', 'done'],
        ['stop-replicant', 'done'],
        ['wipe-replicant', 'done'],
        ['configure-replicant', 'done'],
        ['stop-master', 'done'],
        ['configure-master', 'done'],
        ['delete-region-files', 'done'],
        ['start-master', 'done'],
        ['start-replicant', 'done'],
        ['verify-replication', 'done'],
      ]);
      await expectWorkingReplicant(t);
      const p = result.progress;
      expect(step(p, 'start-master').note).toMatch(/^started \(pid \d+\); db5\.3_stat -r: replication master$/);
      expect(step(p, 'start-replicant').note).toBe('joined the master on first try; db5.3_stat -r: replication client');
      expect(step(p, 'verify-replication').note).toMatch(
        /^the master's record reached the replicant after \d+\.\d s; the replicant refused a write: BDB0111 DBcursor->put: attempt to modify a read-only database$/,
      );
      expect(p.facts.replicantJoined).toEqual([
        expect.stringContaining('connection established'),
        expect.stringContaining('Election done'),
        expect.stringContaining('Start-up is done'),
      ]);

      // The replicant lost the install's files but kept DB_CONFIG; the master kept its data and logs.
      expect(p.facts.wiped).toEqual(['TMSS10.catalog']);
      expect(existsSync(path.join(t.replicantEnv, 'TMSS10.catalog'))).toBe(false);
      expect((p.facts.regionFilesDeleted as string[]).every((f) => f.startsWith('__db.'))).toBe(true);
      expect(await records(t.masterEnv, 'tapes.db')).toMatchObject(TAPES);
      expect(await readdir(path.join(t.dir, 'master', 'dblogs'))).toContain('log.0000000001');

      // A verified full backup of the master, in this run's own folder.
      const backup = p.facts.backup as { dir: string; databases: string[] };
      const runId = (await env.client.workflow.getHandle(t.workflowId).describe()).runId;
      expect(backup.dir).toBe(path.join(t.plan.backupDir, runId));
      expect(backup.databases).toEqual(['tapes.db']);
      expect(step(p, 'backup-master').note).toBe(
        `1 database (tapes.db) copied by db5.3_hotbackup and checked by db5.3_verify in ${backup.dir}`,
      );
      expect(await records(backup.dir, 'tapes.db')).toEqual(TAPES);
    },
  );

  it("corrects the seed's typos in the replicant's DB_CONFIG and reports each with its line", async () => {
    const file = path.join(t.replicantEnv, 'DB_CONFIG');
    const written = await readFile(file, 'utf8');
    expect(written).not.toContain('\r');
    expect(written).not.toMatch(/^rep-set-priority/m);
    expect(written).toMatch(/^rep_set_priority 0$/m);
    expect(written).toMatch(/^rep_set_config DB_REP_CONF_BULK on$/m);

    const corrections =
      'CRLF → LF; line 25 "rep-set-priority" → "rep_set_priority"; line 28 "DB REP_CONF_BULK" → "DB_REP_CONF_BULK"';
    const tools = (lines: [number, number]) =>
      `added line ${lines[0]} "set_open_flags db_init_rep on", line ${lines[1]} "set_open_flags db_thread ` +
      `on" (the replication tools need them)`;
    expect(step(result.progress, 'configure-replicant').note).toBe(
      `the replicant block was already active; corrected ${corrections}; ${tools([30, 31])}`,
    );
    expect(written.split('\n').slice(29, 31)).toEqual(['set_open_flags db_init_rep on', 'set_open_flags db_thread on']);
    const dbConfig = result.progress.facts.dbConfig as Record<string, { warnings: string[]; corrections: string[] }>;
    expect(dbConfig.replicant!.warnings).toEqual([
      `${file}: Windows line endings (CRLF) converted to LF: db5.3 on Linux would read "on\\r" as a bad value`,
      `${file}:25: "rep-set-priority" corrected to "rep_set_priority": Berkeley DB directives use ` +
        `underscores (it refuses "rep-set-priority" with BDB1585)`,
      `${file}:28: "DB REP_CONF_BULK" corrected to "DB_REP_CONF_BULK": the flag is one word (Berkeley DB ` +
        `refuses the split form with BDB1584)`,
    ]);
    // The master's seed block (commented, with the same typo) is replaced by a correct one.
    expect(step(result.progress, 'configure-master').note).toBe(
      `uncommented the master block at lines 15-18 with the plan's sites; corrected line 15 ` +
        `"rep-set-priority" → "rep_set_priority"; ${tools([31, 32])}`,
    );

    // The report (written by the run from its history) names the corrections with the write.
    const report = await readFile(
      path.join(
        reportsDir,
        `${reportBaseName(t.workflowId, (await env.client.workflow.getHandle(t.workflowId).describe()).runId)}.md`,
      ),
      'utf8',
    );
    expect(report).toContain(`configure-replicant: write the replicant block into ${file}, correcting ${corrections}`);
    expect(report).toMatch(/\| configure-replicant \| done \| 1 \|/);
    expect(report).toMatch(/\| verify-replication \| done \| 1 \|/);
    // Every line the run changed, before → after, under the file it changed.
    const changes = report.split('## DB_CONFIG changes')[1]!.split('\n## ')[0]!;
    expect(changes).toContain(`configure-replicant: \`${file}\``);
    expect(changes).toContain(
      '- line 25 "rep-set-priority 0" → "rep_set_priority 0" ("rep-set-priority" corrected to "rep_set_priority")',
    );
    expect(changes).toContain(
      `- line 15 "#rep-set-priority 1" → "rep_set_priority 1" ("rep-set-priority" corrected to "rep_set_priority")`,
    );
    // The verification says what was checked on the pair, not SQL Server's canary and subscribers.
    const verification = report.split('## Verification')[1]!.split('\n## ')[0]!;
    expect(verification).not.toMatch(/canary|subscriber/);
    expect(verification).toContain(`- db5.3_stat -r -h ${t.replicantEnv}: replication client (start-replicant)`);
    expect(verification).toContain(`- db5.3_stat -r -h ${t.masterEnv}: replication master (start-master)`);
    expect(verification).toMatch(
      /- record replup-check-\S+ written on the master \(.*\) was read on the replicant \(.*\) after \d+\.\d s/,
    );
    expect(verification).toContain(
      '- a write on the replicant was refused (BDB0111 DBcursor->put: attempt to modify a read-only ' +
        'database): the replicant is read-only',
    );
  });
});

describe('bdb-replicant: what goes wrong on the way', () => {
  it(
    'a replicant started while its master does not answer exits with DB_REP_UNAVAIL; the run tries again and ' +
      'it joins',
    async () => {
      const t = await setupPair('master-down', { retrySeconds: 3 });
      const worker = await inProcessWorker(t.taskQueue);
      try {
        await startBdbReplicant(env.client, t.plan, ACTOR, { taskQueue: t.taskQueue, workflowId: t.workflowId });
        await pauseBefore(t, 'start-replicant');
        // The master goes away between its start and the replicant's (the replicant starts "before the master is up").
        expect(await stopService(t.master)).toMatchObject({ wasRunning: true });
        await resume(env.client, t.workflowId, 'test: start the replicant with the master down', ACTOR);

        const failed = await waitFor(
          env.client,
          t.workflowId,
          (p) => /^try 1 of 20 failed/.test(step(p, 'start-replicant').note ?? ''),
          60_000,
        );
        expect(step(failed, 'start-replicant')).toMatchObject({
          status: 'running',
          note: 'try 1 of 20 failed (DB_REP_UNAVAIL); next try in 3 s',
        });
        await startService(t.master, { startupTimeoutMs: 30_000 });

        const r = await resultOf(t);
        expect(r.status).toBe('completed');
        const tries = r.progress.facts.replicantTries as { try: number; outcome: string }[];
        expect(tries[0]!.outcome).toContain(
          `DB_REP_UNAVAIL: the replicant service on 127.0.0.1 (${t.replicantEnv}) exited with DB_REP_UNAVAIL: ` +
            `it could not reach its master`,
        );
        expect(tries[0]!.outcome).toContain(`on connection to site 127.0.0.1:${t.plan.master.port}`);
        expect(tries.at(-1)).toEqual({ try: tries.length, outcome: 'joined' });
        // No operator was needed: the step ran once, its tries are in the record.
        expect(step(r.progress, 'start-replicant')).toMatchObject({ status: 'done', attempts: 1 });
        expect(step(r.progress, 'start-replicant').note).toBe(
          `joined the master on try ${tries.length} (${tries.length - 1} while the master did not answer); ` +
            `db5.3_stat -r: replication client`,
        );
        await expectWorkingReplicant(t);

        const report = await readFile(
          path.join(
            reportsDir,
            `${reportBaseName(t.workflowId, (await env.client.workflow.getHandle(t.workflowId).describe()).runId)}.md`,
          ),
          'utf8',
        );
        const firstTry = report
          .split('\n')
          .find((l) => l.includes('start-replicant: start the replicant') && l.includes('try 1 of 20'));
        expect(firstTry).toMatch(
          /\| failed \|.*\| DB_REP_UNAVAIL: the replicant service on 127\.0\.0\.1 .* exited with DB_REP_UNAVAIL/,
        );
      } finally {
        await worker.stop();
      }
    },
  );

  it(
    'a worker killed (SIGKILL) while the replicant ' + 'starts: a new worker resumes the run and it ' + 'completes',
    async () => {
      const t = await setupPair('killed-worker', { trusted: false });
      const first = await childWorker(t.taskQueue);
      await startBdbReplicant(env.client, t.plan, ACTOR, { taskQueue: t.taskQueue, workflowId: t.workflowId });

      // The plan does not say the network is trusted: the run waits at the gate, saying why.
      const gate = await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-approval');
      expect(step(gate, 'trusted-network')).toMatchObject({
        status: 'awaiting-approval',
        note:
          `replication traffic between 127.0.0.1:${t.plan.master.port} and 127.0.0.1:${t.plan.replicant.port} is ` +
          `not encrypted (the vendor's replication guide): approve only if both are on a trusted network or a VPN, ` +
          'or set network.trusted: true in the plan',
      });
      await approve(env.client, t.workflowId, 'trusted-network', 'both on the isolated loopback', ACTOR);

      // Hold the master down so that the replicant's try lasts (~10 s), then kill the worker inside it.
      await pauseBefore(t, 'start-replicant');
      await stopService(t.master);
      await resume(env.client, t.workflowId, 'test: start the replicant', ACTOR);
      const replicantPid = await until('the replicant process of try 1', () => localServicePid(t.replicantEnv));
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));

      // The replicant the dead worker started gives up on its own; then the master comes back.
      await until(
        'the orphaned replicant to exit',
        async () => ((await localServicePid(t.replicantEnv)) === undefined ? true : undefined),
        40_000,
      );
      expect(replicantPid).toBeGreaterThan(0);
      await startService(t.master, { startupTimeoutMs: 30_000 });

      const second = await inProcessWorker(t.taskQueue);
      try {
        const r = await resultOf(t);
        expect(r.status).toBe('completed');
        const tries = r.progress.facts.replicantTries as { try: number; outcome: string }[];
        expect(tries[0]).toEqual({ try: 1, outcome: 'activity Heartbeat timeout' });
        expect(tries.at(-1)!.outcome).toBe('joined');
        expect(r.progress.decisions.filter((d) => d.kind === 'approve')).toMatchObject([
          { step: 'trusted-network', actor: ACTOR, reason: 'both on the isolated loopback' },
        ]);
        expect(step(r.progress, 'trusted-network').status).toBe('done');
        await expectWorkingReplicant(t);
      } finally {
        await second.stop();
      }
    },
  );

  it(
    'a replicant folder that is not a Berkeley DB environment parks the wipe; skip is refused; the operator ' +
      'fixes it and retries',
    async () => {
      const t = await setupPair('odd-folder');
      await mkdir(path.join(t.replicantEnv, 'old-archive'));
      await writeFile(path.join(t.replicantEnv, 'old-archive', 'tapes-2019.csv'), 'VOL001,rack A');
      const worker = await inProcessWorker(t.taskQueue);
      try {
        await startBdbReplicant(env.client, t.plan, ACTOR, { taskQueue: t.taskQueue, workflowId: t.workflowId });
        const parked = await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-operator');
        expect(step(parked, 'wipe-replicant')).toMatchObject({
          status: 'awaiting-operator',
          lastError:
            `BdbEnvironment: refusing to wipe ${t.replicantEnv}: it contains folders (old-archive), which a ` +
            `Berkeley DB environment does not; check envDir in the plan`,
        });
        // Nothing was deleted.
        expect((await readdir(t.replicantEnv)).sort()).toEqual(['DB_CONFIG', 'TMSS10.catalog', 'old-archive']);

        const skip = await decide(env.client, t.workflowId, 'wipe-replicant', 'skip', 'no time', ACTOR).catch(
          (e: unknown) => e,
        );
        expect(skip).toBeInstanceOf(UserError);
        expect((skip as UserError).message).toBe(
          'refused: step wipe-replicant cannot be skipped: skipping it would risk data; retry it or abort the run',
        );

        await rename(path.join(t.replicantEnv, 'old-archive'), path.join(t.dir, 'old-archive'));
        await decideAsActor(t, 'wipe-replicant', 'retry', 'moved old-archive out of the environment');
        const r = await resultOf(t);
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'wipe-replicant')).toMatchObject({ status: 'done', attempts: 2 });
        expect(r.progress.decisions).toMatchObject([
          { kind: 'retry', step: 'wipe-replicant', actor: ACTOR, reason: 'moved old-archive out of the environment' },
        ]);
        await expectWorkingReplicant(t);
      } finally {
        await worker.stop();
      }
    },
  );

  it(
    "the operators' bdb-autoinit-off DB_CONFIG: configure-replicant parks naming line 22 and the fix, nothing " +
      'written; fixed as it says, the run completes',
    async () => {
      const caseFile = path.resolve(import.meta.dirname, '../fixtures/cases/bdb-autoinit-off.replicant.DB_CONFIG');
      const caseText = await readFile(caseFile, 'utf8');
      const t = await setupPair('autoinit-off', { replicantConfig: async () => caseText });
      const file = path.join(t.replicantEnv, 'DB_CONFIG');
      const worker = await inProcessWorker(t.taskQueue);
      try {
        await startBdbReplicant(env.client, t.plan, ACTOR, { taskQueue: t.taskQueue, workflowId: t.workflowId });
        const parked = await waitFor(env.client, t.workflowId, (p) => p.status.startsWith('awaiting-'));
        expect(step(parked, 'configure-replicant').status).toBe('awaiting-operator');
        expect(step(parked, 'configure-replicant').lastError).toContain(
          `${file}:22: "rep_set_config DB_REP_CONF_AUTOINIT off" turns automatic internal initialisation off, ` +
            `but this runbook empties the replicant, so internal initialisation is the only way it can join ` +
            ('(without it the replicant logs "join failure" over and over: DB_REP_JOIN_FAILURE); delete the ' +
              'line or write "rep_set_config DB_REP_CONF_AUTOINIT on"'),
        );
        // Refused before a write: the operator's file is as they left it.
        expect(await readFile(file, 'utf8')).toBe(caseText);

        await writeFile(
          file,
          caseText.replace('rep_set_config DB REP_CONF_AUTOINIT off', 'rep_set_config DB_REP_CONF_AUTOINIT on'),
        );
        await decideAsActor(t, 'configure-replicant', 'retry', 'automatic initialisation turned on');
        const r = await resultOf(t);
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'configure-replicant')).toMatchObject({ status: 'done', attempts: 2 });
        await expectWorkingReplicant(t);
      } finally {
        await worker.stop();
      }
    },
  );

  it('aborted at the trusted-network gate: nothing was touched, and the report says who and why', async () => {
    const t = await setupPair('abort-at-gate', { trusted: false });
    const masterBefore = (await readdir(t.masterEnv)).sort();
    const worker = await inProcessWorker(t.taskQueue);
    try {
      await startBdbReplicant(env.client, t.plan, ACTOR, { taskQueue: t.taskQueue, workflowId: t.workflowId });
      await waitFor(env.client, t.workflowId, (p) => p.status === 'awaiting-approval');
      await decideAsActor(t, 'trusted-network', 'abort', 'the replicant is across the WAN without a VPN');
      const r = (await env.client.workflow.getHandle(t.workflowId).result()) as RunResult;
      expect(r.status).toBe('aborted');
      expect(r.outcome).toBe(`aborted at trusted-network by ${ACTOR}: the replicant is across the WAN without a VPN`);
      expect(r.progress.facts.cleanup).toEqual([
        'nothing to undo: no service this run stopped is down, and no unverified replicant runs',
      ]);
      expect(r.progress.steps.filter((s) => s.status !== 'aborted')).toEqual([]);
      expect((await readdir(t.masterEnv)).sort()).toEqual(masterBefore);
      expect(await readFile(path.join(t.masterEnv, 'DB_CONFIG'), 'utf8')).toBe(await readFile(SEED_DB_CONFIG, 'utf8'));
      expect((await readdir(t.replicantEnv)).sort()).toEqual(['DB_CONFIG', 'TMSS10.catalog']);
      const report = await readFile(
        path.join(
          reportsDir,
          `${reportBaseName(t.workflowId, (await env.client.workflow.getHandle(t.workflowId).describe()).runId)}.md`,
        ),
        'utf8',
      );
      expect(report).toContain(
        `| abort | trusted-network | ${ACTOR} | the replicant is across the WAN without a VPN |`,
      );
    } finally {
      await worker.stop();
    }
  });
});
