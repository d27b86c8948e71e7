// `replup status [id] [--json]`: where a run is, each step's state, and what to type if it waits.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { answerCommands, getProgress, resolveRunId, uiUrl } from '../lib/runs.js';
import { renderProgress } from '../lib/render.js';

export const registerStatus: Register = (program) => {
  program
    .command('status [id]')
    .description('Show a run: status, steps, decisions (id defaults to the only running upgrade)')
    .option('--json', 'print the progress state as JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const p = await getProgress(client, runId);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ workflowId: runId, url: uiUrl(client, runId), ...p }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${renderProgress(p, runId, Date.now())}\n`);
      for (const d of p.decisions) process.stdout.write(`  ${d.at} ${d.kind}${d.step ? ` ${d.step}` : ''} by ${d.actor}${d.reason ? `: ${d.reason}` : ''}\n`);
      const answers = answerCommands(p, runId);
      if (answers.length) process.stdout.write(`\nAnswer with one of:\n${answers.map((a) => `  ${a}\n`).join('')}`);
      process.stdout.write(`Web UI: ${uiUrl(client, runId)}\n`);
    });
};
