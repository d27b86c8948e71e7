// The run report, rebuilt from the workflow history (and its children's) alone, so it can be
// made again at any time and cannot disagree with the record: step timeline from the `replup`
// memo events, every activity with its summary, attempts and errors, every operator decision
// from the Update events, sync rounds and verification from the activities' results. Pure.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { StepMemo } from '../../workflows/engine/publish.js';
import type { UpgradeActivities } from '../personalization-upgrade/activities.js';
import { tagOf } from '../../common/activity-call.js';
import { recordsOf } from './typed-record.js';
import { endedByReplup, isAwaiting, isOpen } from '../../common/run-status.js';
import {
  dbConfigWrites,
  runbookVerification,
  type DbConfigReport,
  type RunbookVerification,
} from './runbook-checks.js';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** The activity the workflow calls to write its own report; the record ends where it is scheduled. */
export const REPORT_ACTIVITY = 'writeRunReport';

import type { PublicationConfig } from '../ports.js';
import type { ConfigDifference } from '../personalization-upgrade/replication-config.js';
import type { MergeAgentJob } from '../ports.js';
import { describeTiming } from '../personalization-upgrade/preflight.js';
import { count } from '../../common/count.js';

export interface StepError {
  /** The step attempt that failed (1 + operator retries before it). */
  attempt: number;
  at: string;
  message: string;
}

export interface ReportStep {
  id: string;
  status: string;
  /** How often the step's body ran: 1 + operator retries. Activity retries are per activity. */
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  /** Of the duration, the time the step stood waiting for a person (decision, approval, confirmation). */
  waitingSeconds: number;
  errors: StepError[];
  activities: number;
}

export type ActivityOutcome = 'completed' | 'failed' | 'timed-out' | 'canceled' | 'open';

export interface ReportActivity {
  /** The step the activity served (its summary's prefix); `abort` for abort cleanup. */
  step: string;
  /** Which attempt of that step scheduled it; 0 when the activity belongs to no step. */
  stepAttempt: number;
  type: string;
  summary: string;
  scheduledAt: string;
  endedAt?: string;
  durationSeconds?: number;
  /** Attempts of the activity itself: more than 1 when Temporal retried a transient error. */
  attempts: number;
  outcome: ActivityOutcome;
  error?: string;
  /** The error of the attempt before the last one; Temporal's history keeps only that one. */
  lastRetriedError?: string;
  /** The workflow that ran it: the run itself, or one of its batch child workflows. */
  workflowId: string;
}

export interface ReportDecision {
  /** retry, skip, abort, approve, confirm, pause, resume (the Update's name, or decide's action). */
  kind: string;
  step?: string;
  actor: string;
  reason?: string;
  at: string;
  /** The client that sent the Update (Temporal's identity, e.g. pid@host). */
  identity?: string;
}

export interface SyncRoundReport {
  step: string;
  /** The step attempt the round belongs to: rounds start again at 1 after an operator retry. */
  stepAttempt: number;
  round: number;
  merges: number;
  moved: number;
  conflicts: number;
  pending: number;
  /** Conflicting rows that need a person (failed changes) the conflict check after this round found. */
  conflictRows: number;
  /** Rows the resolver had already settled, found by the same check: reported, not a reason to stop. */
  settledConflictRows: number;
  quiet: boolean;
}

/** One subscription's merge validation (issue #20 §1), as its validateSubscription activity returned it. */
/** One merge agent job's schedules before the run (preflight) and as restore-service left them (issue #20 §5). */
export interface AgentScheduleReport {
  publisher: string;
  /** `Data → SUB/db` */
  subscription: string;
  before: string;
  /** Absent until restore-service (or abort) put them back. */
  after?: string;
}

export interface ReplicationConfigReport {
  publisher: string;
  /** sysmergepublications / sysmergearticles as recorded before remove-replication. */
  before: PublicationConfig[];
  /** As after enable-replication put back what it could (absent until then). */
  after?: PublicationConfig[];
  reapplied: ConfigDifference[];
  /** Differences left for a person (the step parked on them). */
  left: ConfigDifference[];
}

export interface ConvergenceReport {
  step: string;
  stepAttempt: number;
  publication: string;
  subscriber: string;
  /** identical, differs, or not-validated (the merge agent recorded none). */
  outcome: string;
  /** Tables the merge agent reported out of sync. */
  tables: string[];
}

export interface VerificationReport {
  status: string;
  stepAttempt: number;
  canary?: string;
  publishers: string[];
  subscribersChecked: number;
  arrived: string[];
  missing: string[];
  conflicts: number;
}

/** What the abort cleanup of an aborted run did: its activities, and what that means for the fleet. */
export interface AbortCleanupReport {
  /** One line per cleanup activity: its summary and outcome. */
  actions: { summary: string; outcome: ActivityOutcome; error?: string }[];
  /** In the operator's words: users admitted again or kept out, services restarted. */
  summary: string;
}

export interface RunReport {
  workflowId: string;
  runId: string;
  workflowType: string;
  planName?: string;
  fleet?: string;
  from?: string;
  to?: string;
  requestedBy?: string;
  startedAt: string;
  endedAt?: string;
  durationSeconds?: number;
  status: string;
  outcome?: string;
  steps: ReportStep[];
  activities: ReportActivity[];
  decisions: ReportDecision[];
  syncRounds: SyncRoundReport[];
  verification?: VerificationReport;
  /** Berkeley DB and OpenEdge runs: what their runbook checked (listed under Verification instead of the canary). */
  runbookVerification?: RunbookVerification;
  /** Berkeley DB runs: every DB_CONFIG line the run changed, before → after. */
  dbConfig?: DbConfigReport[];
  /**
   * The convergence proof: every merge validation, after the quiet rounds and after re-enable
   * (absent in reports of runs without it).
   */
  convergence?: ConvergenceReport[];
  /**
   * Each publisher's replication configuration before removal and after re-enable, what was put back
   * and what was left for a person (issue #20 §5; absent in runs from before).
   */
  replicationConfig?: ReplicationConfigReport[];
  /** Each merge agent job's schedules before the run and after restore-service (absent in runs from before). */
  agentSchedules?: AgentScheduleReport[];
  /** Set when the run ended aborted. */
  abortCleanup?: AbortCleanupReport;
  childWorkflows: string[];
  events: number;
}

function time(ev: HistoryEvent): string {
  const t = ev.eventTime;
  const ms = Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

const seconds = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10;

function decode<T = unknown>(p: Payload | null | undefined): T | undefined {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload<T>(p);
  } catch {
    return undefined;
  }
}

function failureMessage(f: temporal.api.failure.v1.IFailure | null | undefined): string {
  // The deepest application failure is the activity's own error; outer layers say "activity failed".
  let cur = f;
  let msg = '';
  while (cur) {
    if (cur.applicationFailureInfo)
      msg = `${cur.applicationFailureInfo.type ? `${cur.applicationFailureInfo.type}: ` : ''}${cur.message ?? ''}`;
    else if (!msg) msg = cur.message ?? '';
    cur = cur.cause;
  }
  return msg;
}

/**
 * Runs recorded before activity inputs carried their step (common/activity-call.ts), and the
 * activities that do not take a FleetContext: the step is the UI summary's prefix,
 * `sync-until-quiet: merge Config → X, round 2` → `sync-until-quiet`.
 */
const stepOfSummary = (summary: string) => summary.split(':')[0]!.trim();
/** The same runs' sync round: `…, round 2` → 2 (0 when the summary names none). */
const roundOfSummary = (summary: string) => Number(/round (\d+)/.exec(summary)?.[1] ?? 0);

const TERMINAL_STEP = ['done', 'skipped', 'aborted'];

/** One activity as read from a history, with where it sits in the parent's history (for ordering). */
export interface ActivityRecord {
  activity: ReportActivity;
  /** The parent event that led to it: its own scheduled event, or its batch's child-initiated event. */
  position: number;
  /** Its own scheduled event id (in the workflow that ran it). */
  eventId: number;
  args: unknown[];
  result: unknown;
  /** The sync round a merge belonged to (0 or absent for other activities). */
  round?: number;
}

/** The upgrade's activity records, read with the activities' own types. */
const upgrade = recordsOf<UpgradeActivities>();

/** Activities of one workflow's history (parent or child). */
function activitiesOf(events: HistoryEvent[], workflowId: string, position?: number): ActivityRecord[] {
  const byScheduled = new Map<string, ActivityRecord>();
  for (const ev of events) {
    const id = String(ev.eventId);
    const scheduled = ev.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const summary = decode<string>(ev.userMetadata?.summary) ?? scheduled.activityType?.name ?? '';
      const args = (scheduled.input?.payloads ?? []).map((p) => decode(p));
      // The step and round the call carries in its input (common/activity-call.ts); older runs: its summary.
      const tag = tagOf(args[0]);
      byScheduled.set(id, {
        activity: {
          step: tag?.step ?? stepOfSummary(summary),
          stepAttempt: 0,
          type: scheduled.activityType?.name ?? '',
          summary,
          scheduledAt: time(ev),
          attempts: 0,
          outcome: 'open',
          workflowId,
        },
        position: position ?? Number(ev.eventId),
        eventId: Number(ev.eventId),
        args,
        result: undefined,
        round: tag ? (tag.round ?? 0) : roundOfSummary(summary),
      });
      continue;
    }
    const started = ev.activityTaskStartedEventAttributes;
    if (started) {
      const rec = byScheduled.get(String(started.scheduledEventId));
      if (rec) {
        // With a retry policy Temporal writes one started event, for the last attempt, carrying
        // the failure of the attempt before it.
        rec.activity.attempts = started.attempt ?? 1;
        if (started.lastFailure) rec.activity.lastRetriedError = failureMessage(started.lastFailure);
      }
      continue;
    }
    const closed =
      (ev.activityTaskCompletedEventAttributes && {
        outcome: 'completed' as const,
        attrs: ev.activityTaskCompletedEventAttributes,
      }) ||
      (ev.activityTaskFailedEventAttributes && {
        outcome: 'failed' as const,
        attrs: ev.activityTaskFailedEventAttributes,
      }) ||
      (ev.activityTaskTimedOutEventAttributes && {
        outcome: 'timed-out' as const,
        attrs: ev.activityTaskTimedOutEventAttributes,
      }) ||
      (ev.activityTaskCanceledEventAttributes && {
        outcome: 'canceled' as const,
        attrs: ev.activityTaskCanceledEventAttributes,
      });
    if (!closed) continue;
    const rec = byScheduled.get(String(closed.attrs.scheduledEventId));
    if (!rec) continue;
    const a = rec.activity;
    a.outcome = closed.outcome;
    a.endedAt = time(ev);
    a.durationSeconds = seconds(a.scheduledAt, a.endedAt);
    if (ev.activityTaskCompletedEventAttributes)
      rec.result = decode(ev.activityTaskCompletedEventAttributes.result?.payloads?.[0]);
    if (ev.activityTaskFailedEventAttributes) a.error = failureMessage(ev.activityTaskFailedEventAttributes.failure);
    if (ev.activityTaskTimedOutEventAttributes)
      a.error = failureMessage(ev.activityTaskTimedOutEventAttributes.failure);
    // A started event is written only once an activity ends; one that ends without it never started.
    if (a.attempts === 0 && closed.outcome !== 'canceled') a.attempts = 1;
  }
  return [...byScheduled.values()];
}

/** The parent's events up to (not including) the scheduling of the report activity. */
export function recordedPart(events: HistoryEvent[]): HistoryEvent[] {
  const cut = events.findIndex((ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name === REPORT_ACTIVITY);
  return cut < 0 ? events : events.slice(0, cut);
}

/** How a run ended when it did not end through its own code: terminated, canceled, timed out, failed. */
function closeOf(ev: HistoryEvent): { status: string; outcome: string } | undefined {
  if (ev.workflowExecutionTerminatedEventAttributes) {
    const t = ev.workflowExecutionTerminatedEventAttributes;
    return {
      status: 'terminated',
      outcome: `terminated${t.identity ? ` by ${t.identity}` : ''}${t.reason ? `: ${t.reason}` : ''}`,
    };
  }
  if (ev.workflowExecutionCanceledEventAttributes) return { status: 'canceled', outcome: 'canceled' };
  if (ev.workflowExecutionTimedOutEventAttributes)
    return { status: 'timed-out', outcome: 'timed out (workflow execution timeout)' };
  if (ev.workflowExecutionFailedEventAttributes)
    return {
      status: 'failed',
      outcome: `failed: ${failureMessage(ev.workflowExecutionFailedEventAttributes.failure)}`,
    };
  if (ev.workflowExecutionContinuedAsNewEventAttributes) {
    return {
      status: 'continued-as-new',
      outcome: `continued as new run ${ev.workflowExecutionContinuedAsNewEventAttributes.newExecutionRunId ?? ''}`,
    };
  }
  return undefined;
}

interface UpgradeInputShape {
  plan?: { name?: string; from?: string; to?: string; publisher?: { server: string; database: string } };
  requestedBy?: string;
}

/**
 * Each child workflow the parent started, by the id of the event that started it: its workflow
 * id, or `<id>~2`, `<id>~3`… when the run started that id again (older replup reused a fan-out's
 * batch ids within a step; each run of them is its own batch).
 */
export function childKeys(parentEvents: HistoryEvent[]): Map<number, string> {
  const seen = new Map<string, number>();
  const out = new Map<number, string>();
  for (const ev of parentEvents) {
    const id = ev.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (!id) continue;
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    out.set(Number(ev.eventId), n === 1 ? id : `${id}~${n}`);
  }
  return out;
}

export function buildReport(
  workflowId: string,
  parentEvents: HistoryEvent[],
  children: Map<string, HistoryEvent[]>,
): RunReport {
  const events = recordedPart(parentEvents);
  const first = events[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  const input = decode<UpgradeInputShape>(started?.input?.payloads?.[0]);
  const report: RunReport = {
    workflowId,
    runId: started?.originalExecutionRunId ?? '',
    workflowType: started?.workflowType?.name ?? '',
    planName: input?.plan?.name,
    fleet: input?.plan?.publisher ? `${input.plan.publisher.server}/${input.plan.publisher.database}` : undefined,
    from: input?.plan?.from,
    to: input?.plan?.to,
    requestedBy: input?.requestedBy,
    startedAt: first ? time(first) : '',
    status: 'running',
    steps: [],
    activities: [],
    decisions: [],
    syncRounds: [],
    childWorkflows: [],
    events: events.length,
  };

  // Step timeline from the memo events; `attemptsAt` remembers each step's attempt count by event
  // id, so an activity can be told apart by the step attempt that scheduled it.
  const steps = new Map<string, ReportStep>();
  const waitingSince = new Map<string, string>();
  const attemptsAt: { eventId: number; attempts: Map<string, number> }[] = [];
  for (const ev of events) {
    const memo = decode<StepMemo>(ev.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.replup);
    if (!memo) continue;
    const at = time(ev);
    report.status = memo.status;
    if (memo.outcome) report.outcome = memo.outcome;
    if (endedByReplup(memo.status)) report.endedAt ??= at;
    attemptsAt.push({
      eventId: Number(ev.eventId),
      attempts: new Map(memo.steps.map(([id, , attempts]) => [id, attempts])),
    });
    for (const [id, status, attempts, lastError] of memo.steps) {
      let s = steps.get(id);
      if (!s) {
        s = { id, status, attempts, waitingSeconds: 0, errors: [], activities: 0 };
        steps.set(id, s);
      }
      // A step marked aborted without ever running was never reached: it gets no start time.
      // (The memo says "not reached" for such steps since workflows/step-view.ts; older runs say "aborted".)
      const neverRan = (status === 'aborted' || (status as string) === NOT_REACHED) && attempts === 0;
      if (status !== 'pending' && status !== 'not-applicable' && !neverRan && !s.startedAt) s.startedAt = at;
      if (TERMINAL_STEP.includes(status) && !TERMINAL_STEP.includes(s.status)) s.endedAt = at;
      const since = waitingSince.get(id);
      if (since && !isAwaiting(status)) {
        s.waitingSeconds = Math.round((s.waitingSeconds + seconds(since, at)) * 10) / 10;
        waitingSince.delete(id);
      } else if (!since && isAwaiting(status)) waitingSince.set(id, at);
      // A failed attempt parks the step with its error; the error stays in the memo while the next attempt runs.
      if (lastError && status === 'awaiting-operator' && !s.errors.some((e) => e.attempt === attempts))
        s.errors.push({ attempt: attempts, at, message: lastError });
      s.status = status;
      s.attempts = attempts;
    }
  }
  for (const s of steps.values()) if (s.startedAt && s.endedAt) s.durationSeconds = seconds(s.startedAt, s.endedAt);

  // A run that did not end through its own code: the close event says how.
  const last = events[events.length - 1];
  const close = last && closeOf(last);
  if (close && !endedByReplup(report.status)) {
    report.status = close.status;
    report.outcome = close.outcome;
    report.endedAt = time(last);
  }
  if (report.endedAt && report.startedAt) report.durationSeconds = seconds(report.startedAt, report.endedAt);
  // Steps the run never got to once it ended (aborted, failed, terminated): "not reached".
  if (!isOpen(report.status) && report.status !== 'completed') {
    for (const s of steps.values()) {
      if (!s.startedAt && (s.status === 'pending' || s.status === 'aborted' || s.status === NOT_REACHED)) {
        s.status = NOT_REACHED;
        s.endedAt = undefined;
        s.durationSeconds = undefined;
      }
    }
  }

  // Decisions: the accepted Updates (a refused one never enters the history), with their arguments.
  for (const ev of events) {
    const req = ev.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (!req?.input?.name) continue;
    const arg = decode<{
      step?: string;
      gate?: string;
      action?: string;
      actor: string;
      reason?: string;
      note?: string;
    }>(req.input.args?.payloads?.[0]);
    if (!arg) continue;
    const name = req.input.name;
    const d: ReportDecision = {
      kind: name === 'decide' ? (arg.action ?? 'decide') : name,
      actor: arg.actor,
      at: time(ev),
    };
    const step = arg.step ?? arg.gate;
    const reason = arg.reason ?? arg.note;
    if (step) d.step = step;
    if (reason) d.reason = reason;
    if (req.meta?.identity) d.identity = req.meta.identity;
    report.decisions.push(d);
  }

  // Activities of the parent and of every child batch. Those scheduled before the report activity are
  // followed to their end in the whole history: the run's last notification is sent before the report
  // is written but settles after, and its outcome (a failed `notify:` delivery) belongs on the record.
  const recorded = new Set(events.map((ev) => Number(ev.eventId)));
  const records = activitiesOf(parentEvents, workflowId).filter((r) => recorded.has(r.eventId));
  for (const [eventId, child] of childKeys(events)) {
    report.childWorkflows.push(child);
    records.push(...activitiesOf(children.get(child) ?? [], child, eventId));
  }
  for (const rec of records) {
    const before = attemptsAt.filter((m) => m.eventId < rec.position).pop();
    rec.activity.stepAttempt = before?.attempts.get(rec.activity.step) ?? 0;
  }
  records.sort(
    (a, b) =>
      a.activity.scheduledAt.localeCompare(b.activity.scheduledAt) || a.position - b.position || a.eventId - b.eventId,
  );
  report.activities = records.map((r) => r.activity);
  for (const a of report.activities) {
    const s = steps.get(a.step);
    if (s) s.activities += 1;
  }
  report.steps = [...steps.values()];
  report.syncRounds = syncRounds(records);
  report.runbookVerification = runbookVerification(records, steps);
  if (!report.runbookVerification) report.verification = verification(records, steps.get('verify-replication'));
  const dbConfig = dbConfigWrites(records);
  if (dbConfig.length) report.dbConfig = dbConfig;
  report.convergence = convergence(records);
  const config = replicationConfig(records);
  if (config.length) report.replicationConfig = config;
  const schedules = agentSchedules(records);
  if (schedules.length) report.agentSchedules = schedules;
  if (report.status === 'aborted') report.abortCleanup = abortCleanup(report.activities, steps);
  return report;
}

/** The status of a step the run ended before: never started, so no start time either. */
export const NOT_REACHED = 'not reached';

/** The abort cleanup: the activities the engine ran under the `abort` step prefix, and what they mean. */
function abortCleanup(activities: ReportActivity[], steps: Map<string, ReportStep>): AbortCleanupReport {
  const mine = activities.filter((a) => a.step === 'abort');
  const actions = mine.map((a) => ({
    summary: a.summary.replace(/^abort:\s*/, ''),
    outcome: a.outcome,
    ...(a.error !== undefined && { error: a.error }),
  }));
  const done = (type: string) => mine.filter((a) => a.type === type && a.outcome === 'completed').length;
  const failed = mine.filter((a) => a.outcome !== 'completed');
  const parts: string[] = [];
  const admitted = done('undrainHost');
  const restarted = done('startBackgroundService');
  if (admitted) parts.push(`users admitted again on ${count(admitted, 'personalization server')}`);
  const removal = steps.get('remove-replication');
  if (!admitted && removal?.startedAt) {
    parts.push(
      'personalization servers left drained: replication was removed, and users would write into ' +
        'a fleet that no longer replicates',
    );
  }
  if (restarted) parts.push(`background service restarted on ${count(restarted, 'personalization server')}`);
  if (failed.length)
    parts.push(`${count(failed.length, 'cleanup action')} did not complete: see below and finish by hand`);
  if (!mine.length && !parts.length) parts.push('nothing to undo: no cleanup action ran');
  return { actions, summary: parts.join('; ') };
}

interface Counts {
  inserts: number;
  updates: number;
  deletes: number;
  conflicts: number;
}
interface MergeResult {
  session: { upload: Counts; download: Counts };
  pending: { upload: number; download: number };
}

/** Sync rounds: the merge activities' own counts, by step, step attempt and round. */
function syncRounds(records: ActivityRecord[]): SyncRoundReport[] {
  const rounds = new Map<string, SyncRoundReport & { position: number }>();
  const byPosition = [...records].sort((a, b) => a.position - b.position || a.eventId - b.eventId);
  for (const rec of byPosition) {
    const a = rec.activity;
    if (a.type === 'mergeSubscription' && a.outcome === 'completed') {
      const round = rec.round ?? 0;
      const key = `${a.step}#${a.stepAttempt}#${round}`;
      const r = rounds.get(key) ?? {
        step: a.step,
        stepAttempt: a.stepAttempt,
        round,
        merges: 0,
        moved: 0,
        conflicts: 0,
        pending: 0,
        conflictRows: 0,
        settledConflictRows: 0,
        quiet: false,
        position: rec.position,
      };
      const res = rec.result as MergeResult | undefined;
      if (res?.session) {
        const { upload: up, download: down } = res.session;
        r.merges += 1;
        r.moved += up.inserts + up.updates + up.deletes + down.inserts + down.updates + down.deletes;
        r.conflicts += up.conflicts + down.conflicts;
        r.pending += res.pending.upload + res.pending.download;
      }
      rounds.set(key, r);
    } else if (a.type === 'conflicts' && a.outcome === 'completed' && Array.isArray(rec.result)) {
      // The conflict check follows its round: the latest round of the same step attempt before it.
      const round = [...rounds.values()]
        .filter((r) => r.step === a.step && r.stepAttempt === a.stepAttempt && r.position < rec.position)
        .pop();
      // Rows the resolver settled are counted apart: the run went on past them.
      const settled = (rec.result as { verdict?: string }[]).filter((c) => c?.verdict === 'settled').length;
      if (round) {
        round.conflictRows += rec.result.length - settled;
        round.settledConflictRows += settled;
      }
    }
  }
  return [...rounds.values()].map(({ position: _, ...r }) => ({
    ...r,
    quiet: r.moved === 0 && r.conflicts === 0 && r.pending === 0 && r.conflictRows === 0,
  }));
}

const where = (d: { server: string; database: string }) => `${d.server}/${d.database}`;

/** Verification: the canary written at each publisher and read at each subscriber, in the step's last attempt. */
function verification(records: ActivityRecord[], step: ReportStep | undefined): VerificationReport | undefined {
  if (!step || step.status === 'not-applicable' || step.status === 'pending' || step.status === NOT_REACHED)
    return undefined;
  const mine = records.filter(
    (r) => r.activity.step === 'verify-replication' && r.activity.stepAttempt === step.attempts,
  );
  const writes = mine.filter((r) => r.activity.type === 'writeCanary');
  const reads = mine
    .filter((r) => r.activity.type === 'readCanary' && r.activity.outcome === 'completed')
    .map((r) => r.result as { db: { server: string; database: string }; arrived: boolean });
  const conflicts = syncRounds(mine).reduce((n, r) => n + r.conflicts + r.conflictRows, 0);
  const arrived = [...new Set(reads.filter((r) => r.arrived).map((r) => where(r.db)))].sort();
  return {
    status: step.status,
    stepAttempt: step.attempts,
    canary: writes.map((w) => upgrade.args(w, 'writeCanary')[2]).find((t): t is string => typeof t === 'string'),
    publishers: writes
      .filter((w) => w.activity.outcome === 'completed')
      .map((w) => where(upgrade.args(w, 'writeCanary')[1]!)),
    subscribersChecked: new Set(reads.map((r) => where(r.db))).size,
    arrived,
    // A subscriber is missing the canary if any of its subscriptions' reads did not find it.
    missing: [...new Set(reads.filter((r) => !r.arrived).map((r) => where(r.db)))].sort(),
    conflicts,
  };
}

function convergence(records: ActivityRecord[]): ConvergenceReport[] {
  return records
    .filter((r) => r.activity.type === 'validateSubscription' && r.activity.outcome === 'completed')
    .map((r) => {
      const v = r.result as {
        publication: string;
        subscriber: { server: string; database: string };
        outcome: string;
        tables: string[];
      };
      return {
        step: r.activity.step,
        stepAttempt: r.activity.stepAttempt,
        publication: v.publication,
        subscriber: where(v.subscriber),
        outcome: v.outcome,
        tables: v.tables,
      };
    });
}

/**
 * The configuration each publisher had before removal (the first record of it) and its last compare
 * after re-enable.
 */
function replicationConfig(records: ActivityRecord[]): ReplicationConfigReport[] {
  const out = new Map<string, ReplicationConfigReport>();
  for (const r of records) {
    if (r.activity.outcome !== 'completed') continue;
    // The record remove-replication made (preflight reads the same for its identity-range note).
    if (r.activity.type === 'replicationConfig' && r.activity.step === 'remove-replication') {
      const key = where(upgrade.args(r, 'replicationConfig')[1]!);
      if (!out.has(key))
        out.set(key, { publisher: key, before: r.result as PublicationConfig[], reapplied: [], left: [] });
    } else if (r.activity.type === 'reapplyConfig') {
      const res = r.result as {
        publisher: { server: string; database: string };
        before: PublicationConfig[];
        after: PublicationConfig[];
        reapplied: ConfigDifference[];
        left: ConfigDifference[];
      };
      const key = where(res.publisher);
      out.set(key, {
        publisher: key,
        before: out.get(key)?.before ?? res.before,
        after: res.after,
        reapplied: res.reapplied,
        left: res.left,
      });
    }
  }
  return [...out.values()];
}

/** A job's schedules on one line: name, when it runs, enabled or not. */
function schedulesLine(job: MergeAgentJob | undefined): string {
  if (!job) return 'no job';
  if (!job.schedules.length) return 'no schedule';
  return job.schedules
    .map(
      (s) =>
        `${s.name}: ${s.timing ? describeTiming(s.timing) : 'timing not recorded'}, ` +
        `${s.enabled ? 'enabled' : 'disabled'}`,
    )
    .join('; ');
}

/**
 * The schedules preflight read (its first record: a retried preflight reads the paused ones) and the
 * ones restore-service (or abort) read back after putting them back, matched by subscription.
 */
function agentSchedules(records: ActivityRecord[]): AgentScheduleReport[] {
  const before = new Map<string, MergeAgentJob[]>();
  const after = new Map<string, MergeAgentJob[]>();
  for (const r of records) {
    if (r.activity.outcome !== 'completed') continue;
    // Both take (ctx, publisher, …).
    const key = () =>
      where(upgrade.args(r, r.activity.type === 'agentSchedules' ? 'agentSchedules' : 'restoreAgentSchedules')[1]!);
    if (r.activity.type === 'agentSchedules' && r.activity.step === 'preflight' && !before.has(key()))
      before.set(key(), r.result as MergeAgentJob[]);
    const restored = r.result as { schedules?: MergeAgentJob[] } | undefined;
    if (r.activity.type === 'restoreAgentSchedules' && restored?.schedules) after.set(key(), restored.schedules);
  }
  const sub = (j: MergeAgentJob) => `${j.publication} → ${j.subscriber.server}/${j.subscriber.database}`;
  return [...before].flatMap(([publisher, jobs]) =>
    jobs.map((j) => {
      const now = after.get(publisher);
      return {
        publisher,
        subscription: sub(j),
        before: schedulesLine(j),
        ...(now && { after: schedulesLine(now.find((x) => sub(x).toLowerCase() === sub(j).toLowerCase())) }),
      };
    }),
  );
}

/** A table cell: pipes escaped, on one line. */
const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A table's header and separator rows, then `rows`; `none` when there are no rows. */
function tableOrNone(header: string[], rows: string[]): string[] {
  return rows.length ? [`| ${header.join(' | ')} |`, `|${header.map(() => '---|').join('')}`, ...rows] : ['none'];
}

/** A report section of one table: heading, a sentence on what it shows, the header row, the rows. */
function tableSection(title: string, intro: string, header: string[], rows: string[]): string[] {
  return [
    `## ${title}`,
    '',
    intro,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---|').join('')}`,
    ...rows,
    '',
  ];
}

function agentScheduleLines(r: RunReport): string[] {
  if (!r.agentSchedules?.length) return [];
  // The upgrade puts the schedules back at restore-service; the agent-schedules runbook sets them at set-schedules.
  const upgrade = isUpgrade(r);
  return tableSection(
    'Merge agent schedules',
    upgrade
      ? "Each merge agent job's schedules as preflight recorded them and as restore-service put them " +
          "back (the vendor's scripts re-create the jobs with their own)."
      : "Each merge agent job's schedules as preflight read them and as set-schedules left them.",
    ['publisher', 'subscription', 'before the run', upgrade ? 'after restore-service' : 'after set-schedules'],
    r.agentSchedules.map(
      (s) =>
        `| ${esc(s.publisher)} | ${esc(s.subscription)} | ${esc(s.before)} ` +
        `| ${s.after ? esc(s.after) : 'not put back yet'} |`,
    ),
  );
}

/** One publication's configuration on one line: what a DBA compares. */
function configLine(p: PublicationConfig | undefined): string {
  if (!p) return 'missing';
  const article = (a: PublicationConfig['articles'][number]) =>
    `${a.name}${a.columnTracking ? ' (column tracking)' : ''}` +
    `${a.subsetFilter ? ` (filter ${a.subsetFilter})` : ''}`;
  const articles = p.articles.map(article).join(', ');
  return (
    `retention ${count(p.retention, p.retentionUnit)}, conflict retention ${count(p.conflictRetentionDays, 'day')}` +
    `, level ${p.compatibilityLevel}, conflicts logged ${p.centralizedConflicts ? 'at the publisher' : ''}` +
    `${p.centralizedConflicts && p.decentralizedConflicts ? ' and ' : ''}` +
    `${p.decentralizedConflicts ? 'at the subscriber' : ''}; ` +
    `articles ${articles || 'none'}`
  );
}

function replicationConfigLines(r: RunReport): string[] {
  if (!r.replicationConfig?.length) return [];
  return [
    ...tableSection(
      'Replication configuration',
      'Each publication as recorded before remove-replication and as it is after enable-replication ' +
        'put back what it could.',
      ['publisher', 'publication', 'before removal', 'after re-enable'],
      r.replicationConfig.flatMap((c) =>
        c.before.map((b) => {
          const after = c.after?.find((a) => a.name.toLowerCase() === b.name.toLowerCase());
          return (
            `| ${esc(c.publisher)} | ${esc(b.name)} | ${esc(configLine(b))} ` +
            `| ${c.after ? esc(configLine(after)) : 'not compared yet'} |`
          );
        }),
      ),
    ),
    ...r.replicationConfig.flatMap((c) => [
      ...c.reapplied.map(
        (d) => `- put back on ${esc(c.publisher)}: ${esc(`${d.publication} ${d.what} ${d.after} → ${d.before}`)}`,
      ),
      ...c.left.map(
        (d) =>
          `- left for a person on ${esc(c.publisher)}: ` +
          esc(`${d.publication} ${d.what} was ${d.before}, is ${d.after}`),
      ),
    ]),
    '',
  ];
}

/** The upgrade's own sections (sync rounds, canary) apply to it alone; other runbooks' reports leave them out. */
const isUpgrade = (r: RunReport) => r.workflowType === 'personalizationUpgrade' || r.workflowType === '';

function verificationLines(r: RunReport): string[] {
  const own = r.runbookVerification;
  if (own) return [`${own.step}: ${own.status} (attempt ${own.stepAttempt})`, '', ...own.checks.map((c) => `- ${c}`)];
  if (isUpgrade(r)) return [verificationLine(r)];
  // Another runbook's verification is its verify step(s): how they ended (their notes are in the step table).
  const verifying = r.steps.filter((s) => s.id.startsWith('verify'));
  return verifying.length
    ? verifying.map((s) => `${s.id}: ${s.status} (attempt ${s.attempts})`)
    : ['this runbook has no verification step'];
}

function syncRoundLines(r: RunReport): string[] {
  if (!isUpgrade(r) && !r.syncRounds.length) return [];
  return [
    '## Sync rounds',
    '',
    ...tableOrNone(
      ['step', 'attempt', 'round', 'merges', 'rows moved', 'conflicts', 'conflicting rows', 'pending', 'quiet'],
      r.syncRounds.map(
        (x) =>
          `| ${x.step} | ${x.stepAttempt} | ${x.round} | ${x.merges} | ${x.moved} | ${x.conflicts} | ` +
          `${x.conflictRows} | ${x.pending} | ${x.quiet ? 'yes' : 'no'} |`,
      ),
    ),
    '',
  ];
}

function verificationLine(r: RunReport): string {
  const v = r.verification;
  if (!v)
    return r.steps.find((s) => s.id === 'verify-replication')?.status === NOT_REACHED
      ? 'not reached: the run ended before verify-replication'
      : 'not run';
  const written =
    v.canary && v.publishers.length
      ? `canary \`${v.canary}\` written at ${v.publishers.join(', ')}`
      : 'no canary written';
  return (
    `${v.status} (attempt ${v.stepAttempt}): ${written}; arrived at ${v.arrived.length} of ${v.subscribersChecked} ` +
    `subscribers; missing: ${v.missing.join(', ') || 'none'}; conflicts: ${v.conflicts}`
  );
}

/** The report for people. */
export function renderReportMarkdown(r: RunReport): string {
  const lines = [
    `# Run report: ${r.planName ?? r.workflowId}`,
    '',
    `- workflow: \`${r.workflowId}\` (run \`${r.runId}\`), ${r.workflowType}`,
    r.fleet ? `- fleet: ${r.fleet}${r.from ? `, ${r.from} → ${r.to}` : ''}` : undefined,
    r.requestedBy ? `- started by: ${r.requestedBy}` : undefined,
    `- started: ${r.startedAt}${r.endedAt ? `, ended: ${r.endedAt} (${r.durationSeconds} s)` : ''}`,
    `- status: **${r.status}**${r.outcome ? ` — ${r.outcome}` : ''}`,
    `- history: ${r.events} events in the run, ${r.childWorkflows.length} batch child workflows, ` +
      `${r.activities.length} activities` +
      ` (${r.activities.filter((a) => a.attempts > 1).length} retried by Temporal)`,
    '',
    '## Steps',
    '',
    '| step | status | attempts | started | ended | duration (s) | waiting for a person (s) | activities | errors |',
    '|---|---|---|---|---|---|---|---|---|',
    ...r.steps.map(
      (s) =>
        `| ${s.id} | ${s.status} | ${s.attempts} | ${s.startedAt ?? ''} ` +
        `| ${s.endedAt ?? ''} | ${s.durationSeconds ?? ''} ` +
        `| ${s.waitingSeconds || ''} | ${s.activities} ` +
        `| ${esc(s.errors.map((e) => `attempt ${e.attempt}: ${e.message}`).join('; '))} |`,
    ),
    '',
    '## Operator decisions',
    '',
    ...tableOrNone(
      ['when', 'decision', 'step', 'actor', 'reason'],
      r.decisions.map((d) => `| ${d.at} | ${d.kind} | ${d.step ?? ''} | ${esc(d.actor)} | ${esc(d.reason ?? '')} |`),
    ),
    '',
    ...syncRoundLines(r),
    '## Verification',
    '',
    ...verificationLines(r),
    '',
    ...(r.dbConfig
      ? [
          '## DB_CONFIG changes',
          '',
          ...r.dbConfig.flatMap((d) => [`${d.step}: \`${d.file}\``, '', ...d.changes.map((c) => `- ${c}`), '']),
        ]
      : []),
    ...replicationConfigLines(r),
    ...agentScheduleLines(r),
    // Runs from before the convergence proof (issue #20) have no validations: no section.
    ...(r.convergence?.length
      ? [
          '## Convergence proof',
          '',
          'Merge validation (row counts and binary checksums) of every subscription; the pending counts ' +
            'above are progress, not proof.',
          '',
          '| step | attempt | subscription | outcome | tables out of sync |',
          '|---|---|---|---|---|',
          ...r.convergence.map(
            (c) =>
              `| ${c.step} | ${c.stepAttempt} | ${esc(`${c.publication} → ${c.subscriber}`)} | ${c.outcome} ` +
              `| ${esc(c.tables.join(', '))} |`,
          ),
          '',
        ]
      : []),
    ...(r.abortCleanup
      ? [
          '## Abort cleanup',
          '',
          r.abortCleanup.summary,
          '',
          ...r.abortCleanup.actions.map(
            (a) => `- ${esc(a.summary)}: ${a.outcome}${a.error ? ` (${esc(a.error)})` : ''}`,
          ),
          '',
        ]
      : []),
    '## Activities',
    '',
    '| scheduled | summary | step attempt | attempts | outcome | duration (s) | error | ran in |',
    '|---|---|---|---|---|---|---|---|',
    ...r.activities.map(
      (a) =>
        `| ${a.scheduledAt} | ${esc(a.summary)} | ${a.stepAttempt || ''} | ${a.attempts} | ${a.outcome} ` +
        `| ${a.durationSeconds ?? ''} | ${esc(
          a.error ?? (a.lastRetriedError ? `retried after: ${a.lastRetriedError}` : ''),
        )} | ${a.workflowId === r.workflowId ? '' : esc(a.workflowId.slice(r.workflowId.length + 1))} |`,
    ),
    '',
  ];
  const present = lines.filter((l): l is string => l !== undefined);
  return present.filter((l, i) => l !== '' || present[i - 1] !== '').join('\n');
}
