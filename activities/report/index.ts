// Fetching a run's histories (the workflow and its child batches) and writing its report files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import { boundedAll } from '../../common/bounded.js';
import { buildReport, childKeys, renderReportMarkdown, type HistoryEvent, type RunReport } from './build.js';

export { buildReport, renderReportMarkdown, type RunReport } from './build.js';

/**
 * A run's history and its batch child workflows' histories, by child workflow id (in the order the
 * parent started them). `onChild` is called after each child history arrives: a thousand-subscriber
 * run has hundreds, and the activity that writes the report heartbeats there.
 */
export async function fetchHistories(
  client: Client,
  workflowId: string,
  runId?: string,
  onChild?: (fetched: number, total: number) => void,
): Promise<{ parent: HistoryEvent[]; children: Map<string, HistoryEvent[]> }> {
  const parent = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  // Each child this run started, under its key (childKeys: runs of older replup reused an id).
  // Child ids repeat when the same fleet is upgraded again: only the run this parent started is
  // its batch; a child that never started has no history.
  const keys = childKeys(parent);
  const childRuns = new Map<string, { id: string; runId?: string }>();
  for (const ev of parent) {
    const id = ev.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (id) childRuns.set(keys.get(Number(ev.eventId))!, { id });
    const started = ev.childWorkflowExecutionStartedEventAttributes;
    const key = started && keys.get(Number(started.initiatedEventId));
    if (key) childRuns.get(key)!.runId = started.workflowExecution?.runId ?? undefined;
  }
  const entries = [...childRuns];
  let fetched = 0;
  const histories = await boundedAll(entries, CHILD_FETCHES_AT_ONCE, async ([, child]) => {
    const events = child.runId
      ? ((await client.workflow.getHandle(child.id, child.runId).fetchHistory()).events ?? [])
      : [];
    onChild?.(++fetched, entries.length);
    return events;
  });
  return { parent, children: new Map(entries.map(([key], i) => [key, histories[i]!])) };
}

const CHILD_FETCHES_AT_ONCE = 8;

export async function reportFromHistory(
  client: Client,
  workflowId: string,
  runId?: string,
  onChild?: (fetched: number, total: number) => void,
): Promise<RunReport> {
  const h = await fetchHistories(client, workflowId, runId, onChild);
  return buildReport(workflowId, h.parent, h.children);
}

export const reportsDir = () => resolve(process.env.REPLUP_REPORTS_DIR ?? 'reports');
/**
 * `<workflow id>.<run id>`, made safe for a file name: every run keeps its own report (the
 * workflow id is the fleet's, so the next run of the same fleet would otherwise overwrite it).
 */
export const reportBaseName = (workflowId: string, runId: string) =>
  `${workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.${runId.replace(/[^A-Za-z0-9-]+/g, '_')}`;

export async function writeReportFiles(
  report: RunReport,
  dir = reportsDir(),
): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, reportBaseName(report.workflowId, report.runId));
  await writeFile(`${base}.md`, renderReportMarkdown(report));
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  return { markdown: `${base}.md`, json: `${base}.json` };
}

export interface ReportActivityOptions {
  /**
   * Called once the report of a run is written, with the plan's `target` read from the run's
   * first event: the run has ended, so the worker lets go of what it held for it (a lab's lock).
   */
  runEnded?: (target: { kind: string; state?: string }) => Promise<void>;
}

/** The activity the workflow calls last: its report, from its own history so far. */
export function createReportActivities(client: () => Promise<Client>, opts: ReportActivityOptions = {}) {
  return {
    async writeRunReport(input: { workflowId: string; runId: string }) {
      const ctx = Context.current();
      const h = await fetchHistories(await client(), input.workflowId, input.runId, (fetched, total) =>
        ctx.heartbeat(`child histories ${fetched}/${total}`),
      );
      const files = await writeReportFiles(buildReport(input.workflowId, h.parent, h.children));
      const target = planTarget(h.parent);
      if (target && opts.runEnded) await opts.runEnded(target);
      return files;
    },
  };
}

/**
 * The plan's target from a run's first event (every runbook's input is `{ plan, … }`); undefined for
 * other inputs.
 */
export function planTarget(events: HistoryEvent[]): { kind: string; state?: string } | undefined {
  const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  try {
    const input = defaultPayloadConverter.fromPayload<{ plan?: { target?: { kind?: unknown; state?: unknown } } }>(
      payload,
    );
    const t = input?.plan?.target;
    return t && typeof t.kind === 'string'
      ? { kind: t.kind, ...(typeof t.state === 'string' && { state: t.state }) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The report activities as the workflow engine calls them (workflows/engine/runbook.ts). */
export type ReportActivities = ReturnType<typeof createReportActivities>;
