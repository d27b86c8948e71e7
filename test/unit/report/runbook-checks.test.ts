// The report's Verification section for the Berkeley DB and OpenEdge runbooks: what each checked,
// read from its activities' results (the shapes activities/bdb and activities/openedge return),
// never SQL Server's canary and subscriber counts. The Berkeley DB one is also checked on a real
// run's report (test/temporal/readme-bdb.test.ts, bdb-replicant.test.ts).
import { describe, expect, it } from 'vitest';
import type { ActivityRecord } from '../../../activities/report/build.js';
import { runbookVerification } from '../../../activities/report/runbook-checks.js';
import type { ReplicationStatus } from '../../../activities/openedge-startup/activities.js';

let n = 0;
function rec(
  step: string,
  type: string,
  args: unknown[],
  result: unknown,
  stepAttempt = 1,
  outcome: 'completed' | 'failed' = 'completed',
): ActivityRecord {
  n++;
  return {
    activity: {
      step,
      stepAttempt,
      type,
      summary: `${step}: ${type}`,
      scheduledAt: new Date(n * 1000).toISOString(),
      attempts: 1,
      outcome,
      workflowId: 'wf',
    },
    position: n,
    eventId: n,
    args,
    result,
  };
}

/** The Verification section of `records` for a run whose `step` ended `status` after `attempts` attempts. */
const verify = (records: ActivityRecord[], step: string, status: string, attempts: number) =>
  runbookVerification(records, new Map([[step, { status, attempts }]]));

const normal: ReplicationStatus = {
  server: { code: 6021, phase: 'normal', text: '6021 Normal Processing' },
  agents: [
    { agent: 'agent1', code: 3049, phase: 'normal', text: '3049 Normal Processing' },
    { agent: 'agent2', code: 3049, phase: 'normal', text: '3049 Normal Processing' },
  ],
};

describe('OpenEdge: the last dsrutil status of normal-processing, server and every agent', () => {
  it('a completed run lists the codes it ended on, not an earlier reading', () => {
    const earlier: ReplicationStatus = {
      server: { code: 6005, phase: 'synchronizing', text: '6005 Startup Synchronization' },
      agents: [],
    };
    const records = [
      rec('connect-agents', 'openedgeStatus', [{}], earlier),
      rec('normal-processing', 'openedgeStatus', [{}], normal),
    ];
    const checks = [
      'dsrutil -C status -detail (normal-processing): server 6021 Normal Processing',
      'agent agent1: 3049 Normal Processing',
      'agent agent2: 3049 Normal Processing',
    ];
    const v = verify(records, 'normal-processing', 'done', 1);
    expect(v).toEqual({ step: 'normal-processing', status: 'done', stepAttempt: 1, checks });
  });

  it('a run that ended before normal-processing says so', () => {
    const records = [rec('check-properties', 'openedgeCheckProperties', ['x'], {})];
    expect(verify(records, 'normal-processing', 'not reached', 0)?.checks).toEqual([
      'not run: the run ended before normal-processing',
    ]);
  });
});

describe('Berkeley DB: roles, the join, the record on the replicant, the refused write', () => {
  it('lists each check with what was seen; a failed verification attempt is not counted', () => {
    const records = [
      rec('start-master', 'bdbReplicationRole', ['/srv/m/db'], 'master'),
      rec('start-replicant', 'bdbStartService', [{}, 60], {
        alreadyRunning: false,
        evidence: ['[1:2][3/4] REP_UNDEF: Contacted new master', '[1:2][3/4] CLIENT: Recovery complete'],
      }),
      rec('start-replicant', 'bdbReplicationRole', ['/srv/r/db'], 'client'),
      rec(
        'verify-replication',
        'bdbVerifyReplication',
        [{ masterEnv: '/srv/m/db', replicantEnv: '/srv/r/db', token: 't1' }],
        undefined,
        1,
        'failed',
      ),
      rec(
        'verify-replication',
        'bdbVerifyReplication',
        [{ masterEnv: '/srv/m/db', replicantEnv: '/srv/r/db', token: 't2' }],
        {
          token: 't2',
          seenAfterMs: 1234,
          readOnlyError: 'BDB0111 DBcursor->put: attempt to modify a read-only database',
        },
        2,
      ),
    ];
    const checks = [
      'db5.3_stat -r -h /srv/m/db: replication master (start-master)',
      'db5.3_stat -r -h /srv/r/db: replication client (start-replicant)',
      `the replicant's message log: "REP_UNDEF: Contacted new master", "CLIENT: Recovery complete"`,
      'record replup-check-t2 written on the master (/srv/m/db) was read on the replicant (/srv/r/db) ' +
        "after 1.2 s: the replicant applies the master's log records",
      'a write on the replicant was refused (BDB0111 DBcursor->put: attempt to modify a read-only ' +
        'database): the replicant is read-only',
    ];
    const v = verify(records, 'verify-replication', 'done', 2);
    expect(v).toEqual({ step: 'verify-replication', status: 'done', stepAttempt: 2, checks });
  });

  it('a SQL Server run has none (its canary line stays)', () => {
    expect(verify([rec('verify-replication', 'writeCanary', [], {})], 'verify-replication', 'done', 1)).toBeUndefined();
  });
});
