// Fetching a run's histories (the workflow and its child batches) and writing its report files.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { buildReport, renderReportMarkdown, type HistoryEvent, type RunReport } from './build.js';

export { buildReport, renderReportMarkdown, type RunReport } from './build.js';

/** A run's history and its batch child workflows' histories, by child workflow id. */
export async function fetchHistories(client: Client, workflowId: string, runId?: string): Promise<{ parent: HistoryEvent[]; children: Map<string, HistoryEvent[]> }> {
  const parent = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const children = new Map<string, HistoryEvent[]>();
  for (const ev of parent) {
    const id = ev.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (id && !children.has(id)) {
      const started = parent.find((e) => e.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.workflowId === id);
      const childRun = started?.childWorkflowExecutionStartedEventAttributes?.workflowExecution?.runId;
      // Child ids repeat when the same fleet is upgraded again: only the run this parent started is
      // its batch; a child that never started has no history.
      children.set(id, childRun ? ((await client.workflow.getHandle(id, childRun).fetchHistory()).events ?? []) : []);
    }
  }
  return { parent, children };
}

export async function reportFromHistory(client: Client, workflowId: string, runId?: string): Promise<RunReport> {
  const h = await fetchHistories(client, workflowId, runId);
  return buildReport(workflowId, h.parent, h.children);
}

export const reportsDir = () => resolve(process.env.REPLUP_REPORTS_DIR ?? 'reports');
export const reportBaseName = (workflowId: string) => workflowId.replace(/[^A-Za-z0-9._-]+/g, '_');

export async function writeReportFiles(report: RunReport, dir = reportsDir()): Promise<{ markdown: string; json: string }> {
  await mkdir(dir, { recursive: true });
  const base = join(dir, reportBaseName(report.workflowId));
  await writeFile(`${base}.md`, renderReportMarkdown(report));
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  return { markdown: `${base}.md`, json: `${base}.json` };
}

/** The activity the workflow calls last: its report, from its own history so far. */
export function createReportActivities(client: () => Promise<Client>) {
  return {
    async writeRunReport(input: { workflowId: string; runId: string }) {
      const report = await reportFromHistory(await client(), input.workflowId, input.runId);
      return writeReportFiles(report);
    },
  };
}
