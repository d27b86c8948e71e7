// The run report, rebuilt from the workflow history (and its children's) alone, so it can be
// made again at any time and cannot disagree with the record: step timeline from the `replup`
// memo events, every activity with its summary, attempts and errors, every operator decision
// from the Update events, sync rounds and verification from the activities' results. Pure.
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { StepMemo } from '../../workflows/runbook.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** The activity the workflow calls to write its own report; the record ends where it is scheduled. */
export const REPORT_ACTIVITY = 'writeRunReport';

export interface ReportStep {
  id: string;
  status: string;
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  durationSeconds?: number;
  errors: string[];
  activities: number;
}

export interface ReportActivity {
  step: string;
  type: string;
  summary: string;
  scheduledAt: string;
  endedAt?: string;
  attempts: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'canceled' | 'open';
  error?: string;
  /** Errors of earlier attempts that were retried. */
  retriedErrors: string[];
  workflowId: string;
}

export interface ReportDecision {
  kind: string;
  step?: string;
  actor: string;
  reason?: string;
  at: string;
}

export interface SyncRoundReport {
  step: string;
  round: number;
  merges: number;
  moved: number;
  conflicts: number;
  pending: number;
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
  status: string;
  outcome?: string;
  steps: ReportStep[];
  activities: ReportActivity[];
  decisions: ReportDecision[];
  syncRounds: SyncRoundReport[];
  verification?: { canary: string; subscribersChecked: number; missing: string[] };
  childWorkflows: string[];
  events: number;
}

function time(ev: HistoryEvent): string {
  const t = ev.eventTime;
  const ms = Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function decode<T = unknown>(p: Payload | null | undefined): T | undefined {
  if (!p) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(p as any) as T;
  } catch {
    return undefined;
  }
}

function failureMessage(f: temporal.api.failure.v1.IFailure | null | undefined): string {
  // The deepest cause is the activity's own error; outer layers say "activity failed".
  let cur = f;
  let msg = '';
  while (cur) {
    if (cur.applicationFailureInfo) msg = `${cur.applicationFailureInfo.type ? `${cur.applicationFailureInfo.type}: ` : ''}${cur.message ?? ''}`;
    else if (!msg) msg = cur.message ?? '';
    cur = cur.cause;
  }
  return msg;
}

/** `sync-until-quiet: merge Config → X, round 2` → step `sync-until-quiet`. */
const stepOfSummary = (summary: string) => summary.split(':')[0]!.trim();

/** Activities of one workflow's history (parent or child), up to the report activity. */
function activitiesOf(events: HistoryEvent[], workflowId: string): { activities: ReportActivity[]; results: Map<ReportActivity, unknown> } {
  const byScheduled = new Map<string, ReportActivity>();
  const results = new Map<ReportActivity, unknown>();
  for (const ev of events) {
    const id = String(ev.eventId);
    if (ev.activityTaskScheduledEventAttributes) {
      const a = ev.activityTaskScheduledEventAttributes;
      const summary = decode<string>(ev.userMetadata?.summary) ?? a.activityType?.name ?? '';
      byScheduled.set(id, {
        step: stepOfSummary(summary),
        type: a.activityType?.name ?? '',
        summary,
        scheduledAt: time(ev),
        attempts: 0,
        outcome: 'open',
        retriedErrors: [],
        workflowId,
      });
    } else if (ev.activityTaskStartedEventAttributes) {
      const a = ev.activityTaskStartedEventAttributes;
      const act = byScheduled.get(String(a.scheduledEventId));
      if (act) {
        act.attempts = a.attempt ?? 1;
        if (a.lastFailure) act.retriedErrors.push(failureMessage(a.lastFailure));
      }
    } else if (ev.activityTaskCompletedEventAttributes) {
      const act = byScheduled.get(String(ev.activityTaskCompletedEventAttributes.scheduledEventId));
      if (act) {
        act.outcome = 'completed';
        act.endedAt = time(ev);
        results.set(act, decode(ev.activityTaskCompletedEventAttributes.result?.payloads?.[0]));
      }
    } else if (ev.activityTaskFailedEventAttributes) {
      const act = byScheduled.get(String(ev.activityTaskFailedEventAttributes.scheduledEventId));
      if (act) {
        act.outcome = 'failed';
        act.endedAt = time(ev);
        act.error = failureMessage(ev.activityTaskFailedEventAttributes.failure);
      }
    } else if (ev.activityTaskTimedOutEventAttributes) {
      const act = byScheduled.get(String(ev.activityTaskTimedOutEventAttributes.scheduledEventId));
      if (act) {
        act.outcome = 'timed-out';
        act.endedAt = time(ev);
        act.error = failureMessage(ev.activityTaskTimedOutEventAttributes.failure);
      }
    } else if (ev.activityTaskCanceledEventAttributes) {
      const act = byScheduled.get(String(ev.activityTaskCanceledEventAttributes.scheduledEventId));
      if (act) {
        act.outcome = 'canceled';
        act.endedAt = time(ev);
      }
    }
  }
  return { activities: [...byScheduled.values()], results };
}

/** The parent's events up to (not including) the scheduling of the report activity. */
export function recordedPart(events: HistoryEvent[]): HistoryEvent[] {
  const cut = events.findIndex((ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name === REPORT_ACTIVITY);
  return cut < 0 ? events : events.slice(0, cut);
}

export function buildReport(workflowId: string, parentEvents: HistoryEvent[], children: Map<string, HistoryEvent[]>): RunReport {
  const events = recordedPart(parentEvents);
  const first = events[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  const input = decode<{ plan?: { name?: string; from?: string; to?: string; publisher?: { server: string; database: string } }; requestedBy?: string }>(
    started?.input?.payloads?.[0],
  );
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

  // Step timeline from the memo events.
  const steps = new Map<string, ReportStep>();
  const errorsSeen = new Map<string, Set<string>>();
  for (const ev of events) {
    const memo = decode<StepMemo>(ev.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.replup);
    if (!memo) continue;
    const at = time(ev);
    report.status = memo.status;
    if (memo.outcome) report.outcome = memo.outcome;
    if (['completed', 'aborted', 'failed'].includes(memo.status)) report.endedAt = at;
    for (const [id, status, attempts, lastError] of memo.steps) {
      let s = steps.get(id);
      if (!s) {
        s = { id, status, attempts, errors: [], activities: 0 };
        steps.set(id, s);
        errorsSeen.set(id, new Set());
      }
      if (status !== 'pending' && status !== 'not-applicable' && !s.startedAt) s.startedAt = at;
      if (['done', 'skipped', 'aborted'].includes(status) && !['done', 'skipped', 'aborted'].includes(s.status)) s.endedAt = at;
      if (lastError && !errorsSeen.get(id)!.has(lastError)) {
        errorsSeen.get(id)!.add(lastError);
        s.errors.push(lastError);
      }
      s.status = status;
      s.attempts = attempts;
    }
  }
  for (const s of steps.values()) {
    if (s.startedAt && s.endedAt) s.durationSeconds = Math.round((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 100) / 10;
  }

  // Decisions: the accepted Updates, with their arguments.
  for (const ev of events) {
    const req = ev.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (!req?.input?.name) continue;
    const arg = decode<{ step?: string; gate?: string; action?: string; actor: string; reason?: string; note?: string }>(req.input.args?.payloads?.[0]);
    if (!arg) continue;
    const name = req.input.name;
    report.decisions.push({
      kind: name === 'decide' ? (arg.action ?? 'decide') : name,
      step: arg.step ?? arg.gate,
      actor: arg.actor,
      reason: arg.reason ?? arg.note,
      at: time(ev),
    });
  }

  // Activities of the parent and of every child batch.
  const all = activitiesOf(events, report.workflowId);
  const results = new Map(all.results);
  const activities = [...all.activities];
  for (const ev of events) {
    const child = ev.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (child && !report.childWorkflows.includes(child)) report.childWorkflows.push(child);
  }
  for (const id of report.childWorkflows) {
    const c = activitiesOf(children.get(id) ?? [], id);
    activities.push(...c.activities);
    for (const [k, v] of c.results) results.set(k, v);
  }
  activities.sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt) || a.summary.localeCompare(b.summary));
  report.activities = activities;
  for (const a of activities) {
    const s = steps.get(a.step);
    if (s) s.activities += 1;
  }
  report.steps = [...steps.values()];

  // Sync rounds: the merge activities' own counts, grouped by step and round.
  const rounds = new Map<string, SyncRoundReport>();
  for (const a of activities) {
    if (a.type !== 'mergeSubscription' || a.outcome !== 'completed') continue;
    const round = Number(/round (\d+)/.exec(a.summary)?.[1] ?? 0);
    const key = `${a.step}#${round}`;
    const r = rounds.get(key) ?? { step: a.step, round, merges: 0, moved: 0, conflicts: 0, pending: 0 };
    const res = results.get(a) as { session: { upload: Counts; download: Counts }; pending: { upload: number; download: number } } | undefined;
    if (res) {
      const { upload: up, download: down } = res.session;
      r.merges += 1;
      r.moved += up.inserts + up.updates + up.deletes + down.inserts + down.updates + down.deletes;
      r.conflicts += up.conflicts + down.conflicts;
      r.pending += res.pending.upload + res.pending.download;
    }
    rounds.set(key, r);
  }
  report.syncRounds = [...rounds.values()];

  // Verification: the canary reads.
  const canaries = activities.filter((a) => a.type === 'readCanary' && a.outcome === 'completed');
  if (canaries.length) {
    const reads = canaries.map((a) => results.get(a) as { db: { server: string; database: string }; arrived: boolean });
    const where = (d: { server: string; database: string }) => `${d.server}/${d.database}`;
    const canaryWrite = activities.find((a) => a.type === 'writeCanary');
    report.verification = {
      canary: canaryWrite?.summary ?? '',
      subscribersChecked: new Set(reads.map((r) => where(r.db))).size,
      missing: [...new Set(reads.filter((r) => !r.arrived).map((r) => where(r.db)))],
    };
  }
  return report;
}

interface Counts {
  inserts: number;
  updates: number;
  deletes: number;
  conflicts: number;
}

/** The report for people. */
export function renderReportMarkdown(r: RunReport): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# Run report: ${r.planName ?? r.workflowId}`,
    '',
    `- workflow: \`${r.workflowId}\` (run \`${r.runId}\`), ${r.workflowType}`,
    r.fleet ? `- fleet: ${r.fleet}${r.from ? `, ${r.from} → ${r.to}` : ''}` : '',
    r.requestedBy ? `- started by: ${r.requestedBy}` : '',
    `- started: ${r.startedAt}${r.endedAt ? `, ended: ${r.endedAt}` : ''}`,
    `- status: **${r.status}**${r.outcome ? ` — ${r.outcome}` : ''}`,
    `- history: ${r.events} events in the parent, ${r.childWorkflows.length} child workflows, ${r.activities.length} activities`,
    '',
    '## Steps',
    '',
    '| step | status | attempts | started | duration (s) | activities | errors |',
    '|---|---|---|---|---|---|---|',
    ...r.steps.map((s) => `| ${s.id} | ${s.status} | ${s.attempts} | ${s.startedAt ?? ''} | ${s.durationSeconds ?? ''} | ${s.activities} | ${esc(s.errors.join('; '))} |`),
    '',
    '## Operator decisions',
    '',
    ...(r.decisions.length
      ? ['| when | decision | step | actor | reason |', '|---|---|---|---|---|', ...r.decisions.map((d) => `| ${d.at} | ${d.kind} | ${d.step ?? ''} | ${esc(d.actor)} | ${esc(d.reason ?? '')} |`)]
      : ['none']),
    '',
    '## Sync rounds',
    '',
    ...(r.syncRounds.length
      ? ['| step | round | merges | rows moved | conflicts | pending |', '|---|---|---|---|---|---|', ...r.syncRounds.map((x) => `| ${x.step} | ${x.round} | ${x.merges} | ${x.moved} | ${x.conflicts} | ${x.pending} |`)]
      : ['none']),
    '',
    '## Verification',
    '',
    r.verification
      ? `canary checked at ${r.verification.subscribersChecked} subscribers; missing: ${r.verification.missing.join(', ') || 'none'}`
      : 'not run',
    '',
    '## Activities',
    '',
    '| scheduled | summary | attempts | outcome | error |',
    '|---|---|---|---|---|',
    ...r.activities.map((a) => `| ${a.scheduledAt} | ${esc(a.summary)} | ${a.attempts} | ${a.outcome} | ${esc(a.error ?? a.retriedErrors.join('; '))} |`),
    '',
  ];
  return lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n');
}
