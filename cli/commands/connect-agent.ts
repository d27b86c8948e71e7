// `replup connect-agent [id] [--agent NAME|ALL]`: while an OpenEdge start-up waits in deferred agent
// start-up, try the agents now (dsrutil -C connectagent) instead of waiting for the next interval.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { defaultActor, resolveRunId } from '../lib/runs.js';
import { connectAgentNow } from '../lib/start-openedge-startup.js';

export const registerConnectAgent: Register = (program) => {
  program
    .command('connect-agent [id]')
    .description('OpenEdge start-up in deferred agent start-up: try to connect an agent (or ALL) now')
    .option('--agent <name>', 'the agent to try, or ALL', 'ALL')
    .option('--reason <text>', 'why (recorded)')
    .option('--actor <name>', 'who asks (recorded)', defaultActor())
    .option('--json', 'print the new progress state as JSON')
    .action(async (id: string | undefined, opts: { agent: string; reason?: string; actor: string; json?: boolean }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const { progress, latest } = await connectAgentNow(client, runId, opts.agent, opts.reason, opts.actor);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(progress, null, 2)}\n`);
        return;
      }
      const seen = latest ? `: server ${latest.server}; ${Object.entries(latest.agents).map(([a, s]) => `${a} ${s}`).join(', ')}` : '';
      process.stdout.write(`connectagent ${opts.agent} for ${runId} (by ${opts.actor})${seen}\n`);
    });
};
