// TapeTrack: turn a standalone Berkeley DB server into master + read-only replicant, as the
// vendor's "Enabling Replication" gives it (seed 001, shared/DOMAIN.md §2): back up the master,
// stop the replicant and wipe it except DB_CONFIG, uncomment its block, stop the master, uncomment
// its block, delete only its __db.* files, start the master, start the replicant until it has
// joined (it gives up after ~10 s while the master does not answer: try again), and check that a
// record on the master reaches the replicant and that the replicant refuses writes.
//
// Skip is allowed for backup-master (an operator may hold a backup made otherwise) and
// verify-replication (checked by hand through Tapemaster); every other step guards the data.
// Abort undoes only what is safe: a master this run stopped is started again (TapeTrack serves
// its users), a replicant this run started but did not verify is stopped (never mistaken for a
// working one); a wiped replicant stays stopped.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, sleep, workflowInfo } from '@temporalio/workflow';
import { bdbPlanSteps, type BdbReplicantPlan, type BdbSite, type BdbStepId } from '../plan/bdb-replicant/steps.js';
import type { BdbActivities } from '../activities/bdb-replicant/activities.js';
import type {
  BdbRole,
  DbConfigLineChange,
  DbConfigOptions,
  ReplicationPair,
} from '../activities/bdb-replicant/db-config.js';
import type { BdbService } from '../activities/bdb-replicant/service.js';
import { activities, describeFailure, Runbook, type RetrySettings, type StepContext } from './engine/index.js';
import type { RunResult } from './messages.js';
import { BdbFailure } from '../common/failures.js';
import { count } from '../common/count.js';

export interface BdbReplicantInput {
  plan: BdbReplicantPlan;
  /** Who started the run (OS user or --actor). */
  requestedBy: string;
}

const TITLES: Record<BdbStepId, string> = {
  'trusted-network': 'Approve unencrypted replication traffic',
  'backup-master': 'Full backup of the master environment',
  'stop-replicant': 'Stop the replicant service',
  'wipe-replicant': "Delete the replicant's database files except DB_CONFIG",
  'configure-replicant': 'Uncomment the replicant block of DB_CONFIG',
  'stop-master': 'Stop the master service',
  'configure-master': 'Uncomment the master block of DB_CONFIG',
  'delete-region-files': 'Delete only the __db.* files on the master',
  'start-master': 'Start the master; db5.3_stat -r says master',
  'start-replicant': 'Start the replicant until it has joined',
  'verify-replication': 'A master record reaches the read-only replicant',
};

const SKIPPABLE = new Set<BdbStepId>(['backup-master', 'verify-replication']);

/** One try of starting the replicant per activity: each try is its own event, summary and error. */
const ONE_TRY: RetrySettings = { initialSeconds: 1, maximumSeconds: 1, maximumAttempts: 1 };

/** One run per master/replicant pair at a time. */
export function bdbReplicantWorkflowId(plan: Pick<BdbReplicantPlan, 'master' | 'replicant'>): string {
  return `bdb-replicant:${address(plan.master)}/${address(plan.replicant)}`;
}

const address = (s: Pick<BdbSite, 'host' | 'port'>) => `${s.host}:${s.port}`;
const where = (s: BdbSite) => `${address(s)} (${s.envDir})`;
const service = (role: BdbRole, s: BdbSite): BdbService => ({
  role,
  host: s.host,
  envDir: s.envDir,
  control: s.service,
  messageLog: s.messageLog,
});
/** Temporal keeps activity summaries short (a few hundred bytes); the full text is in the progress facts. */
const clip = (text: string, max = 300) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

const acts = activities<BdbActivities>({ clip });
const oneTry = activities<BdbActivities>({ clip, retry: ONE_TRY });

/**
 * `file:24: "rep-set-priority" corrected to "rep_set_priority": ...` →
 * `line 24 "rep-set-priority" → "rep_set_priority"`.
 */
export function correctionsOf(warnings: string[]): string[] {
  return warnings.flatMap((w) => {
    const fix = /:(\d+): "([^"]+)" corrected to "([^"]+)"/.exec(w);
    if (fix) return [`line ${fix[1]} "${fix[2]}" → "${fix[3]}"`];
    return /Windows line endings \(CRLF\) converted/.test(w) ? ['CRLF → LF'] : [];
  });
}

/**
 * start-master, start-replicant: db5.3_stat -r must say the environment has `want`'s role; else the
 * step parks with what it said and `advice` (NotMaster, NotReplicant).
 */
async function requireRole(step: BdbStepId, envDir: string, want: 'master' | 'client', advice: string): Promise<void> {
  const role = await acts.bdbReplicationRole(`${step}: db5.3_stat -r -h ${envDir}`, envDir);
  if (role === want) return;
  const said = role === 'none' ? 'the environment is not configured for replication' : `it is a replication ${role}`;
  throw ApplicationFailure.nonRetryable(
    `db5.3_stat -r -h ${envDir} says ${said}, ${advice}`,
    want === 'master' ? BdbFailure.notMaster : BdbFailure.notReplicant,
  );
}

/** The replicant's master did not answer, or the worker running the try died: another try can succeed. */
function mayTryAgain(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  if (err.cause instanceof ApplicationFailure) return !err.cause.nonRetryable;
  return err.cause instanceof TimeoutFailure;
}

interface DbConfigRecord {
  file: string;
  changes: string[];
  /** Every line changed, before → after (absent in runs written before replup listed them). */
  lineChanges?: DbConfigLineChange[];
  corrections: string[];
  warnings: string[];
}

interface ReplicantTry {
  try: number;
  outcome: string;
}

export async function bdbReplicant(input: BdbReplicantInput): Promise<RunResult> {
  const { plan } = input;
  const run = new Runbook({
    runbook: plan.runbook,
    fleet: `${address(plan.master)} → ${address(plan.replicant)}`,
    planName: plan.name,
    approvals: plan.network.trusted ? [] : ['trusted-network'],
    ...(plan.notify && { notify: plan.notify }),
    steps: bdbPlanSteps(plan).map((s) => ({
      ...s,
      title: TITLES[s.id as BdbStepId],
      skippable: SKIPPABLE.has(s.id as BdbStepId),
    })),
  });
  const master = service('master', plan.master);
  const replicant = service('replicant', plan.replicant);
  const pair: ReplicationPair = {
    master: { host: plan.master.host, port: plan.master.port },
    replicant: { host: plan.replicant.host, port: plan.replicant.port },
  };
  const configOptions: DbConfigOptions = { logDir: plan.logDir };
  run.fact('requestedBy', input.requestedBy);
  const dbConfig: Partial<Record<BdbRole, DbConfigRecord>> = {};
  const state = { masterWasRunning: false, masterStarted: false, replicantStarted: false, verified: false };

  run.onAbort(async () => {
    const cleanup: string[] = [];
    run.fact('cleanup', cleanup);
    const undo = async (what: string, work: () => Promise<unknown>) => {
      try {
        await work();
        cleanup.push(`${what}: done`);
      } catch (err) {
        cleanup.push(`${what}: failed: ${describeFailure(err)}`);
      }
    };
    if (state.replicantStarted && !state.verified) {
      await undo(`stopped the unverified replicant on ${address(plan.replicant)}`, () =>
        acts.bdbStopService(`abort: stop the unverified replicant on ${where(plan.replicant)}`, replicant),
      );
    }
    if (state.masterWasRunning && !state.masterStarted) {
      await undo(`started the master on ${address(plan.master)} again`, () =>
        oneTry.bdbStartService(
          `abort: start the master on ${where(plan.master)} again`,
          master,
          plan.options.startupTimeoutSeconds,
        ),
      );
    }
    if (cleanup.length === 0)
      cleanup.push('nothing to undo: no service this run stopped is down, and no unverified replicant runs');
  });

  /** configure-replicant, configure-master: the seed's "uncomment the block", with every correction named. */
  async function configure(step: BdbStepId, role: BdbRole, site: BdbSite, s: StepContext): Promise<void> {
    const preview = await acts.bdbPreviewDbConfig(
      `${step}: read ${site.envDir}/DB_CONFIG`,
      site.envDir,
      role,
      pair,
      configOptions,
    );
    if (preview.errors.length > 0) {
      throw ApplicationFailure.nonRetryable(
        [
          `${preview.file} has errors that replup cannot fix; edit the file, then retry ${step}:`,
          ...preview.errors,
        ].join('\n'),
        BdbFailure.dbConfigInvalid,
      );
    }
    const corrections = correctionsOf(preview.warnings);
    let record: DbConfigRecord = { file: preview.file, changes: [], corrections: [], warnings: preview.warnings };
    if (preview.changed) {
      const fixing = corrections.length ? `, correcting ${corrections.join('; ')}` : '';
      const written = await acts.bdbWriteDbConfig(
        `${step}: write the ${role} block into ${preview.file}${fixing}`,
        site.envDir,
        role,
        pair,
        configOptions,
      );
      record = {
        file: written.file,
        changes: written.changes,
        lineChanges: written.lineChanges,
        corrections: correctionsOf(written.warnings),
        warnings: written.warnings,
      };
    }
    dbConfig[role] = record;
    run.fact('dbConfig', dbConfig);
    const block =
      record.changes.find((c) => c.includes(`${role} block`) && !c.startsWith('commented out')) ??
      `the ${role} block was already active`;
    const corrected = record.corrections.length ? `; corrected ${record.corrections.join('; ')}` : '';
    // The lines added for the tools, each with where it now is (every change is in facts.dbConfig and the report).
    const tools = (record.lineChanges ?? []).filter(
      (c) => c.before === undefined && record.changes.includes(`added "${c.after}"`),
    );
    const advice = record.warnings.length - record.corrections.length;
    const lines = tools.map((c) => `line ${c.line} "${c.after}"`).join(', ');
    const added = tools.length
      ? `; added ${lines} (the replication tools need ${tools.length === 1 ? 'it' : 'them'})`
      : '';
    s.note(`${block}${corrected}${added}${advice > 0 ? `; ${count(advice, 'more warning')} (facts.dbConfig)` : ''}`);
  }

  return run.run(async () => {
    run.describe(
      'trusted-network',
      `replication traffic between ${address(plan.master)} and ${address(plan.replicant)} is not ` +
        (`encrypted (the vendor's replication guide): approve only if both are on a trusted network or a VPN, ` +
          `or set network.trusted: `) +
        `true in the plan`,
    );
    await run.gate('trusted-network');
    await run.step('trusted-network', async (s) => {
      s.note('approved: the network between master and replicant is trusted (see the decision for who and why)');
    });

    await run.step('backup-master', async (s) => {
      // One folder per run: a later run never takes an older backup for its own.
      const runId = workflowInfo().firstExecutionRunId;
      const backup = await acts.bdbBackupEnvironment(
        `backup-master: full backup of ${where(plan.master)} into ${plan.backupDir}/${runId}`,
        plan.master.envDir,
        plan.backupDir,
        runId,
      );
      run.fact('backup', { dir: backup.backupDir, databases: backup.databases, files: backup.files.length });
      s.note(
        `${count(backup.databases.length, 'database')} ` +
          `(${backup.databases.join(', ') || 'none'}) ` +
          `copied by db5.3_hotbackup and checked by db5.3_verify in ${backup.backupDir}`,
      );
    });

    await run.step('stop-replicant', async (s) => {
      const r = await acts.bdbStopService(`stop-replicant: stop the service on ${where(plan.replicant)}`, replicant);
      s.note(r.wasRunning ? `stopped${r.pid ? ` (pid ${r.pid}, ${r.signal})` : ''}` : 'was not running');
    });

    await run.step('wipe-replicant', async (s) => {
      const w = await acts.bdbWipeReplicant(
        `wipe-replicant: delete every file in ${plan.replicant.envDir} except DB_CONFIG`,
        plan.replicant.envDir,
      );
      run.fact('wiped', w.deleted);
      s.note(
        `deleted ${count(w.deleted.length, 'file')}; ` +
          `kept ${w.kept.join(', ') || 'nothing (no DB_CONFIG yet: the next step writes one)'}`,
      );
    });

    await run.step('configure-replicant', (s) => configure('configure-replicant', 'replicant', plan.replicant, s));

    await run.step('stop-master', async (s) => {
      const r = await acts.bdbStopService(`stop-master: stop the service on ${where(plan.master)}`, master);
      state.masterWasRunning ||= r.wasRunning;
      s.note(r.wasRunning ? `stopped${r.pid ? ` (pid ${r.pid}, ${r.signal})` : ''}` : 'was not running');
    });

    await run.step('configure-master', (s) => configure('configure-master', 'master', plan.master, s));

    await run.step('delete-region-files', async (s) => {
      const d = await acts.bdbDeleteRegionFiles(
        `delete-region-files: delete only __db.* in ${plan.master.envDir}`,
        plan.master.envDir,
      );
      run.fact('regionFilesDeleted', d.deleted);
      s.note(
        `deleted ${count(d.deleted.length, 'region file')} ` +
          `(${d.deleted.join(', ') || 'none left'}); ` +
          `log and data files untouched`,
      );
    });

    await run.step('start-master', async (s) => {
      const r = await acts.bdbStartService(
        `start-master: start the master service on ${where(plan.master)}`,
        master,
        plan.options.startupTimeoutSeconds,
      );
      state.masterStarted = true;
      await requireRole(
        'start-master',
        plan.master.envDir,
        'master',
        `not the master; check the master block of its DB_CONFIG (rep_set_priority 1, db_group_creator ` +
          `on) and ${plan.master.messageLog}`,
      );
      s.note(
        `${r.alreadyRunning ? 'already running' : 'started'}${r.pid ? ` (pid ${r.pid})` : ''}; db5.3_stat ` +
          `-r: replication master`,
      );
    });

    await run.step('start-replicant', async (s) => {
      const { replicantStartAttempts: tries, replicantRetrySeconds: pause } = plan.options;
      const record: ReplicantTry[] = [];
      run.fact('replicantTries', record);
      for (let n = 1; ; n++) {
        try {
          state.replicantStarted = true;
          const r = await oneTry.bdbStartService(
            `start-replicant: start the replicant on ${where(plan.replicant)}, try ${n} of ${tries}`,
            replicant,
            plan.options.startupTimeoutSeconds,
          );
          record.push({ try: n, outcome: r.alreadyRunning ? 'already running and started up' : 'joined' });
          run.fact('replicantJoined', r.evidence);
          break;
        } catch (err) {
          if (!mayTryAgain(err)) throw err;
          const why = describeFailure(err);
          record.push({ try: n, outcome: why });
          if (n >= tries) {
            throw ApplicationFailure.nonRetryable(
              `the replicant did not join after ${tries} tries ${pause} s apart; last: ${why}. Check that ` +
                `the master runs and that port ${plan.master.port} on ${plan.master.host} is open, then retry`,
              BdbFailure.replicantNotJoined,
            );
          }
          s.note(`try ${n} of ${tries} failed (${why.split(':')[0]}); next try in ${pause} s`);
          await sleep(pause * 1000, { summary: `join-replicant: try ${n + 1} of ${tries} in ${pause} s` });
        }
      }
      await requireRole(
        'start-replicant',
        plan.replicant.envDir,
        'client',
        'not a client; check the replicant block of its DB_CONFIG (rep_set_priority 0)',
      );
      const tried =
        record.length === 1
          ? 'first try'
          : `try ${record.length} (${record.length - 1} while the master did not answer)`;
      s.note(`joined the master on ${tried}; db5.3_stat -r: replication client`);
    });

    await run.step('verify-replication', async (s) => {
      const { workflowId, firstExecutionRunId } = workflowInfo();
      const token = `${workflowId}.${firstExecutionRunId.slice(0, 8)}`.replace(/[^A-Za-z0-9._:-]/g, '-');
      const v = await acts.bdbVerifyReplication(
        `verify-replication: a record written on ${address(plan.master)} must appear on ${address(plan.replicant)}; ` +
          `a write there must fail read-only`,
        {
          masterEnv: plan.master.envDir,
          replicantEnv: plan.replicant.envDir,
          token,
          timeoutMs: plan.options.verifyTimeoutSeconds * 1000,
        },
      );
      state.verified = true;
      run.fact('verification', v);
      s.note(
        `the master's record reached the replicant after ${(v.seenAfterMs / 1000).toFixed(1)} s; the ` +
          `replicant refused a write: ${v.readOnlyError}`,
      );
    });
  });
}
