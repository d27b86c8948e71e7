// The TapeTrack replicant runbook (workflows/bdb-replicant.ts) on the suite's dev server, its
// activities built on the in-memory Berkeley DB ports (activities/bdb-replicant/fake-ports.ts):
// no db5.3 tool, no file. What the administrator checks: the run completes and leaves the
// master's tapes on a running client; a master that never answers parks start-replicant with
// the reason, and a retry once it answers completes the run.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createBdbActivities } from '../../activities/bdb-replicant/activities.js';
import { createFakeBdbPorts, type FakeBdb } from '../../activities/bdb-replicant/fake-ports.js';
import { decide } from '../../cli/lib/runs.js';
import { startBdbReplicant } from '../../cli/lib/start-bdb-replicant.js';
import { parseBdbPlan, type BdbReplicantPlan } from '../../plan/bdb-replicant/schema.js';
import { bdbReplicantWorkflowId } from '../../workflows/bdb-replicant.js';
import { SEED_DB_CONFIG } from '../unit/bdb/helpers.js';
import { connectWithScratch, startWorker, uniqueQueue, waitFor } from './harness.js';
import { resultOf as runResult, settled, stepOf } from './run-outcome.js';

const ACTOR = 'dba-test';
const TAPES = { VOL001: 'rack A slot 1', VOL002: 'rack A slot 2', VOL003: 'offsite vault' };
const MASTER = '/srv/tapetrack-master/var/db';
const REPLICANT = '/srv/tapetrack-replicant/var/db';

const dev = connectWithScratch('replup-bdb-ports-');

/** The plan as `replup start` reads it; the addresses are documentation ones, nothing is reached. */
function planFor(name: string): BdbReplicantPlan {
  const parsed = parseBdbPlan(
    [
      'runbook: bdb-replicant',
      `name: tapetrack-${name}`,
      `master: { host: 192.0.2.10, envDir: ${MASTER}, port: 5010 }`,
      `replicant: { host: 192.0.2.11, envDir: ${REPLICANT}, port: 5010 }`,
      'backupDir: /srv/backup',
      'network: { trusted: true }',
      'options: { replicantRetrySeconds: 1, replicantStartAttempts: 3 }',
    ].join('\n'),
    '/srv/plans/tapetrack.yaml',
  );
  if (!parsed.ok) throw new Error(`test plan is invalid: ${JSON.stringify(parsed.errors)}`);
  return parsed.value;
}

/** A standalone master with tapes and a freshly installed replicant, both with the seed's DB_CONFIG. */
async function start(name: string) {
  const seed = await readFile(SEED_DB_CONFIG, 'utf8');
  const fake = createFakeBdbPorts({
    [MASTER]: {
      files: ['tapes.db', 'log.0000000001', '__db.001', '__db.rep.gen'],
      dbConfig: seed,
      records: { ...TAPES },
    },
    [REPLICANT]: { files: ['TMSS10.catalog', '__db.001'], dbConfig: seed, records: {} },
  });
  fake.running.set(MASTER, { role: 'master', pid: 100, joined: false });
  const plan = planFor(name);
  const taskQueue = uniqueQueue(`bdb-ports-${name}`);
  const workflowId = `${bdbReplicantWorkflowId(plan)}#test-${process.pid}-${name}`;
  const worker = await startWorker(dev.env, taskQueue, createBdbActivities({ ports: fake.ports }));
  await startBdbReplicant(dev.env.client, plan, ACTOR, { taskQueue, workflowId });
  return { fake, workflowId, stop: () => worker.stop() };
}

const step = stepOf;
const resultOf = (workflowId: string) => runResult(dev.env.client, workflowId);

/** What the administrator sees: both services up, the replicant a client holding the master's tapes. */
function expectWorkingPair(fake: FakeBdb): void {
  expect(fake.running.get(MASTER)?.role).toBe('master');
  expect(fake.running.get(REPLICANT)?.role).toBe('replicant');
  expect(fake.homes.get(REPLICANT)?.records).toMatchObject(TAPES);
  expect(fake.homes.get(REPLICANT)?.dbConfig).toMatch(/^rep_set_priority 0$/m);
  expect(fake.homes.get(MASTER)?.dbConfig).toMatch(/^rep_set_priority 1$/m);
}

describe.concurrent('bdb-replicant on in-memory ports: the workflow without db5.3', () => {
  it(
    'runs every step and leaves a working pair; only region files go on the master, the old files on the ' +
      'replicant',
    async () => {
      const t = await start('whole');
      try {
        const r = await resultOf(t.workflowId);
        expect(r.status).toBe('completed');
        // Every step ran but the approval, which a trusted network does not need.
        const notDone = r.progress.steps.filter((s) => s.status !== 'done');
        expect(notDone.map((s) => [s.id, s.status])).toEqual([['trusted-network', 'not-applicable']]);
        expectWorkingPair(t.fake);
        expect(t.fake.homes.get(MASTER)?.files).toEqual(['tapes.db', 'log.0000000001']);
        expect(t.fake.homes.get(REPLICANT)?.files).toEqual([]);
        expect(step(r.progress, 'stop-master').note).toBe('stopped (pid 100, SIGTERM)');
        expect(step(r.progress, 'delete-region-files').note).toBe(
          'deleted 2 region files (__db.001, __db.rep.gen); log and data files untouched',
        );
        expect(step(r.progress, 'start-replicant').note).toBe(
          'joined the master on first try; db5.3_stat -r: replication client',
        );
        expect(step(r.progress, 'verify-replication').note).toBe(
          "the master's record reached the replicant after 0.0 s; the replicant refused a write: " +
            'BDB0111 DBcursor->put: attempt to modify a read-only database',
        );
      } finally {
        await t.stop();
      }
    },
  );

  it(
    'a master that never answers parks start-replicant ' + 'after its tries; a retry once it answers completes',
    async () => {
      const t = await start('unanswered');
      t.fake.masterUnanswered = 1_000;
      try {
        const parked = await waitFor(dev.env.client, t.workflowId, settled);
        expect(parked.status).toBe('awaiting-operator');
        expect(step(parked, 'start-replicant').status).toBe('awaiting-operator');
        expect(step(parked, 'start-replicant').lastError).toMatch(
          /^ReplicantNotJoined: the replicant did not join after 3 tries 1 s apart; last: .*DB_REP_UNAVAIL.*port 5010 on 192\.0\.2\.10 is open, then retry$/,
        );
        // The replicant is not left running half-joined; the master still serves its users.
        expect(t.fake.running.has(REPLICANT)).toBe(false);
        expect(t.fake.running.get(MASTER)?.role).toBe('master');

        t.fake.masterUnanswered = 0;
        await decide(dev.env.client, t.workflowId, 'start-replicant', 'retry', 'opened port 5010 on the master', ACTOR);
        const r = await resultOf(t.workflowId);
        expect(r.status).toBe('completed');
        expect(step(r.progress, 'start-replicant')).toMatchObject({ status: 'done', attempts: 2 });
        expectWorkingPair(t.fake);
      } finally {
        await t.stop();
      }
    },
  );
});
