// The seed's "confirming functionality": a record written on the master shows up on the
// replicant, and the replicant refuses writes (TapeTrack: "the server is Read Only"). On
// db5.3 the refusal is BDB0111 "attempt to modify a read-only database" (seen on loopback).
import { runTool, toolErrors } from './tools.js';
import { ReplicationCheckError } from './errors.js';

/** A small database of replup's own, so the check never touches the product's data. */
export const CANARY_DB = 'replup_canary.db';

export interface VerifyReplicationInput {
  masterEnv: string;
  replicantEnv: string;
  /** Unique per run (e.g. the workflow id): the key written on the master. */
  token: string;
  /** How long the record may take to reach the replicant. */
  timeoutMs?: number;
}

export interface VerifyReplicationResult {
  token: string;
  /** How long after the write the replicant showed the record. */
  seenAfterMs: number;
  /** The replicant's refusal, e.g. "BDB0111 DBcursor->put: attempt to modify a read-only database". */
  readOnlyError: string;
}

export { ReplicationCheckError };

const KEY_SAFE = /^[A-Za-z0-9._:-]{1,200}$/;

/** Put one key/value into the canary database of an environment (db5.3_load -T reads key and value lines). */
function loadRecord(envDir: string, key: string, value: string) {
  return runTool('load', ['-T', '-t', 'btree', '-h', envDir, CANARY_DB], {
    input: `${key}\n${value}\n`,
    timeoutMs: 60_000,
  });
}

async function hasRecord(envDir: string, key: string): Promise<boolean> {
  const dump = await runTool('dump', ['-p', '-h', envDir, CANARY_DB], { timeoutMs: 60_000 });
  return dump.code === 0 && dump.output.split('\n').some((l) => l.trim() === key);
}

export async function verifyReplication(input: VerifyReplicationInput): Promise<VerifyReplicationResult> {
  const { masterEnv, replicantEnv, token } = input;
  if (!KEY_SAFE.test(token))
    throw new ReplicationCheckError(`verification token "${token}" must be letters, digits and . _ : - only`);
  const key = `replup-check-${token}`;
  if (!(await hasRecord(masterEnv, key))) {
    const write = await loadRecord(masterEnv, key, new Date().toISOString());
    if (write.code !== 0)
      throw new ReplicationCheckError(
        `writing the check record on the master (${masterEnv}) failed: ${toolErrors(write)}`,
      );
  }
  const started = Date.now();
  const deadline = started + (input.timeoutMs ?? 60_000);
  let nudged = false;
  while (!(await hasRecord(replicantEnv, key))) {
    if (Date.now() >= deadline) {
      throw new ReplicationCheckError(
        `the record ${key} written on the master (${masterEnv}) did not reach the replicant (${replicantEnv}` +
          `) within ${Math.round((input.timeoutMs ?? 60_000) / 1000)} s; check both message logs`,
      );
    }
    // A gap left by a short-lived writer is only re-requested when the next message arrives
    // (seen on loopback): a checkpoint on the master is such a message.
    if (!nudged && Date.now() - started > 3_000) {
      await runTool('checkpoint', ['-1', '-h', masterEnv], { timeoutMs: 60_000 });
      nudged = true;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const seenAfterMs = Date.now() - started;

  const attempt = await loadRecord(replicantEnv, `${key}-replicant-write`, 'must be refused');
  const refusal = toolErrors(attempt);
  if (attempt.code === 0) {
    throw new ReplicationCheckError(
      `the replicant (${replicantEnv}) accepted a write: it is not read-only; stop it and check its ` +
        `DB_CONFIG (rep_set_priority 0) before using it`,
    );
  }
  if (!refusal.includes('BDB0111')) {
    throw new ReplicationCheckError(
      `the write on the replicant (${replicantEnv}) failed, but not as read-only (BDB0111): ${refusal}`,
    );
  }
  const readOnlyError = refusal.split('; ').find((l) => l.includes('BDB0111')) ?? refusal;
  return { token, seenAfterMs, readOnlyError: readOnlyError.replace(/^.*?: (?=BDB0111)/, '') };
}
