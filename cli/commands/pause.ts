// `replup pause|resume <id>`: hold the run between steps (the current step finishes first).
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { defaultActor, pause, resolveRunId, resume } from '../lib/runs.js';

export const registerPause: Register = (program) => {
  for (const [verb, fn] of [['pause', pause], ['resume', resume]] as const) {
    program
      .command(`${verb} [id]`)
      .description(verb === 'pause' ? 'Pause the run before its next step' : 'Resume a paused run')
      .option('--reason <text>', 'why (recorded)')
      .option('--actor <name>', 'who (recorded)', defaultActor())
      .option('--json', 'print the new progress state as JSON')
      .action(async (id: string | undefined, opts: { reason?: string; actor: string; json?: boolean }) => {
        const client = await connectClient();
        const runId = await resolveRunId(client, id);
        const p = await fn(client, runId, opts.reason, opts.actor);
        if (opts.json) process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
        else process.stdout.write(`${verb}d ${runId}${verb === 'pause' ? ' (the current step finishes first)' : ''}\n`);
      });
  }
};
