// The report's runbook-specific parts, read from the activities' own results: what the Berkeley DB
// and OpenEdge runbooks checked before calling the run done (the SQL Server canary and subscriber
// counts mean nothing for them), and every DB_CONFIG line the Berkeley DB runbook changed. Pure.
import { describeLineChange } from '../bdb-replicant/db-config.js';
import type { ActivityRecord } from './build.js';
import type { BdbActivities } from '../bdb-replicant/activities.js';
import type { OpenEdgeActivities } from '../openedge-startup/activities.js';
import { recordsOf } from './typed-record.js';

const bdb = recordsOf<BdbActivities>();
const openEdge = recordsOf<OpenEdgeActivities>();

export interface RunbookVerification {
  /** The step whose checks these are, its status and attempt. */
  step: string;
  status: string;
  stepAttempt: number;
  /** One line per check, in the operator's words, with what was seen. */
  checks: string[];
}

/** One DB_CONFIG the run wrote: its path, and every line changed (before → after). */
export interface DbConfigReport {
  step: string;
  file: string;
  changes: string[];
}

/** A message log line without its `[time][pid]` prefix. */
const withoutPrefix = (line: string) => line.replace(/^\[[^\]]*\]\[[^\]]*\] /, '').trim();

const done = (r: ActivityRecord, type: string, step?: string) =>
  r.activity.type === type && r.activity.outcome === 'completed' && (step === undefined || r.activity.step === step);

/** Every DB_CONFIG write of the run (bdbWriteDbConfig results), in order. */
export function dbConfigWrites(records: ActivityRecord[]): DbConfigReport[] {
  return records
    .filter((r) => done(r, 'bdbWriteDbConfig'))
    .map((r) => {
      const w = bdb.result(r, 'bdbWriteDbConfig')!;
      // Runs from before lineChanges existed: their summary lines.
      return {
        step: r.activity.step,
        file: w.file,
        changes: w.lineChanges ? w.lineChanges.map(describeLineChange) : w.changes,
      };
    });
}

/**
 * What the Berkeley DB runbook proved: the roles db5.3_stat -r reported, the replicant's log
 * showing it joined, a record written on the master read on the replicant (the replicant applies
 * the master's log records), and a write refused on the replicant (read-only).
 */
function bdbChecks(records: ActivityRecord[], step: { status: string; attempts: number }): RunbookVerification {
  const checks: string[] = [];
  // The last reading of each step (a retried step reads again).
  const roles = new Map(records.filter((x) => done(x, 'bdbReplicationRole')).map((r) => [r.activity.step, r]));
  for (const r of roles.values()) {
    checks.push(
      `db5.3_stat -r -h ${String(bdb.args(r, 'bdbReplicationRole')[0])}: ` +
        `replication ${String(bdb.result(r, 'bdbReplicationRole'))} ` +
        `(${r.activity.step})`,
    );
  }
  const joined = records.filter((x) => done(x, 'bdbStartService', 'start-replicant')).pop();
  const evidence = (joined && bdb.result(joined, 'bdbStartService')?.evidence) ?? [];
  if (evidence.length)
    checks.push(`the replicant's message log: ${evidence.map((l) => `"${withoutPrefix(l)}"`).join(', ')}`);
  const verified = records
    .filter((x) => done(x, 'bdbVerifyReplication', 'verify-replication') && x.activity.stepAttempt === step.attempts)
    .pop();
  if (verified) {
    const input = bdb.args(verified, 'bdbVerifyReplication')[0]!;
    const v = bdb.result(verified, 'bdbVerifyReplication')!;
    checks.push(
      `record replup-check-${v.token} written on the master (${input.masterEnv}) was read on the ` +
        `replicant (${input.replicantEnv}) after ${(v.seenAfterMs / 1000).toFixed(1)} s: the replicant ` +
        `applies the master's log records`,
    );
    checks.push(`a write on the replicant was refused (${v.readOnlyError}): the replicant is read-only`);
  } else {
    checks.push('no record was checked on the replicant: verify-replication did not complete');
  }
  return { step: 'verify-replication', status: step.status, stepAttempt: step.attempts, checks };
}

/** What the OpenEdge runbook proved: the last status dsrutil -C status -detail gave, server and each agent. */
function openEdgeChecks(records: ActivityRecord[], step: { status: string; attempts: number }): RunbookVerification {
  const last = records.filter((x) => done(x, 'openedgeStatus', 'normal-processing')).pop();
  const status = last && openEdge.result(last, 'openedgeStatus');
  const checks = status
    ? [
        `dsrutil -C status -detail (${last.activity.step}): server ${status.server.text}`,
        ...status.agents.map((a) => `agent ${a.agent}: ${a.text}`),
      ]
    : ['no replication status was read'];
  return { step: 'normal-processing', status: step.status, stepAttempt: step.attempts, checks };
}

/**
 * The runbook's own verification, when the run is a Berkeley DB or OpenEdge one; undefined for the
 * SQL Server runbook.
 */
export function runbookVerification(
  records: ActivityRecord[],
  steps: Map<string, { status: string; attempts: number }>,
): RunbookVerification | undefined {
  const types = new Set(records.map((r) => r.activity.type));
  const notYet = (id: string, step: { status: string; attempts: number }): RunbookVerification | undefined =>
    step.status === 'pending' || step.status === 'not reached' || step.status === 'not-applicable'
      ? {
          step: id,
          status: step.status,
          stepAttempt: step.attempts,
          checks: [
            step.status === 'pending' ? `not run yet: ${id} has not started` : `not run: the run ended before ${id}`,
          ],
        }
      : undefined;
  if ([...types].some((t) => t.startsWith('bdb'))) {
    const step = steps.get('verify-replication');
    return step ? (notYet('verify-replication', step) ?? bdbChecks(records, step)) : undefined;
  }
  if ([...types].some((t) => t.startsWith('openedge'))) {
    const step = steps.get('normal-processing');
    return step ? (notYet('normal-processing', step) ?? openEdgeChecks(records, step)) : undefined;
  }
  return undefined;
}
