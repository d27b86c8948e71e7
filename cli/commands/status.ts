// `replup status [id] [--json]`: where a run is, each step's state, and what to type if it waits.
import type { Register } from './index.js';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../worker/connection.js';
import { answerCommands, getProgress, resolveRunId, uiUrl } from '../lib/runs.js';
import { renderProgress } from '../lib/render.js';
import { describeWindow, type MaintenanceWindow } from '../../plan/window.js';
import type { DecisionRecord, Progress } from '../../workflows/messages.js';

export const registerStatus: Register = (program) => {
  program
    .command('status [id]')
    .description('Show a run: status, steps, decisions (id defaults to the only running upgrade)')
    .option('--json', 'print the progress state as JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const scheduled = await scheduledStart(client, runId);
      if (scheduled) {
        // Before its start delay has passed the run has no workflow code running to ask.
        if (opts.json) process.stdout.write(`${JSON.stringify({ workflowId: runId, url: uiUrl(client, runId), status: 'scheduled', ...scheduled }, null, 2)}\n`);
        else process.stdout.write(`${runId}: scheduled, starts at ${scheduled.startsAt}\n  maintenance window: ${describeWindow(scheduled.window)}\nWeb UI: ${uiUrl(client, runId)}\n`);
        return;
      }
      const p = await getProgress(client, runId);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ workflowId: runId, url: uiUrl(client, runId), ...p }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${renderProgress(p, runId, Date.now())}\n`);
      const window = windowLine(p, Date.now());
      if (window) process.stdout.write(`${window}\n`);
      for (const d of p.decisions) process.stdout.write(`  ${decisionLine(d)}\n`);
      const answers = answerCommands(p, runId);
      if (answers.length) process.stdout.write(`\nAnswer with one of:\n${answers.map((a) => `  ${a}\n`).join('')}`);
      process.stdout.write(`Web UI: ${uiUrl(client, runId)}\n`);
    });
};

/** One decision: who (and the Temporal client identity they sent, when any), what, why. */
export function decisionLine(d: DecisionRecord): string {
  const who = `${d.actor}${d.identity ? ` (client ${d.identity})` : ''}`;
  return `${d.at} ${d.kind}${d.step ? ` ${d.step}` : ''} by ${who}${d.reason ? `: ${d.reason}` : ''}`;
}

/** "Maintenance window: from …, not after … (closed)", or undefined when the run has none. */
export function windowLine(p: Pick<Progress, 'window'>, now: number): string | undefined {
  if (!p.window) return undefined;
  const closed = p.window.notAfter !== undefined && now > Date.parse(p.window.notAfter);
  return `Maintenance window: ${describeWindow(p.window)}${closed ? ' — closed' : ''}`;
}

/** A run still inside its start delay: when it starts and its window (from the start memo). */
async function scheduledStart(client: Client, id: string): Promise<{ startsAt: string; window?: MaintenanceWindow } | undefined> {
  const desc = await client.workflow.getHandle(id).describe().catch(() => undefined);
  if (!desc || desc.status.name !== 'RUNNING' || !desc.executionTime || desc.executionTime.getTime() <= Date.now()) return undefined;
  const window = desc.memo?.window as MaintenanceWindow | undefined;
  return { startsAt: desc.executionTime.toISOString(), ...(window && { window }) };
}
