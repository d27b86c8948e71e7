// `replup status [id] [--json]`: where a run is, each step's state, and what to type if it waits; with no
// worker to answer, what the run last published.
import type { Register } from './index.js';
import type { Client } from '@temporalio/client';
import { connectClient } from '../../worker/connection.js';
import { answerCommands, getProgress, NoWorkerAnswered, resolveRunId, uiUrl } from '../lib/runs.js';
import { exitForStatus, lastPublished, lastPublishedText } from '../lib/last-published.js';
import { renderProgress } from '../lib/render.js';
import { Reporter } from '../lib/reporter.js';
import { describeWindow, type MaintenanceWindow } from '../../plan/window.js';
import type { DecisionRecord, Progress } from '../../workflows/messages.js';

export const registerStatus: Register = (program, setExit, io) => {
  program
    .command('status [id]')
    .description(
      'Show a run: status, steps, decisions (id defaults to the only running upgrade); with no worker to answer, ' +
        'what the run last published, exiting 0, 1 or 3 by its state',
    )
    .option('--json', 'print the progress state as JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      const report = new Reporter(opts.json, io);
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const url = uiUrl(client, runId);
      const scheduled = await scheduledStart(client, runId);
      if (scheduled) {
        // Before its start delay has passed the run has no workflow code running to ask.
        report.result(
          { workflowId: runId, url, status: 'scheduled', ...scheduled },
          () =>
            `${runId}: scheduled, starts at ${scheduled.startsAt}\n  maintenance window: ` +
            `${describeWindow(scheduled.window)}\nWeb UI: ${url}\n`,
        );
        return;
      }
      let p: Progress;
      try {
        p = await getProgress(client, runId);
      } catch (err) {
        if (!(err instanceof NoWorkerAnswered)) throw err;
        // No worker to ask (none started, or stopped mid-run): what the run last published, labelled as such.
        const lp = await lastPublished(client, runId, url, err.message);
        report.warning(err.message);
        report.result(lp, () => lastPublishedText(lp));
        setExit(exitForStatus(lp.status));
        return;
      }
      report.result({ workflowId: runId, url, ...p }, () => statusText(p, runId, url, Date.now()));
    });
};

/** What `replup status` prints for people: the step table, the window, the decisions, the answers, the link. */
function statusText(p: Progress, runId: string, url: string, now: number): string {
  const window = windowLine(p, now);
  const answers = answerCommands(p, runId);
  return [
    `${renderProgress(p, runId, now)}\n`,
    window ? `${window}\n` : '',
    ...p.decisions.map((d) => `  ${decisionLine(d)}\n`),
    answers.length ? `\nAnswer with one of:\n${answers.map((a) => `  ${a}\n`).join('')}` : '',
    `Web UI: ${url}\n`,
  ].join('');
}

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
async function scheduledStart(
  client: Client,
  id: string,
): Promise<{ startsAt: string; window?: MaintenanceWindow } | undefined> {
  const desc = await client.workflow
    .getHandle(id)
    .describe()
    .catch(() => undefined);
  if (!desc || desc.status.name !== 'RUNNING' || !desc.executionTime || desc.executionTime.getTime() <= Date.now())
    return undefined;
  const window = desc.memo?.window as MaintenanceWindow | undefined;
  return { startsAt: desc.executionTime.toISOString(), ...(window && { window }) };
}
