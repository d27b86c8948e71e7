// `replup connect-agent [id] [--agent NAME|ALL]`: while an OpenEdge start-up waits in deferred agent
// start-up, try the agents now (dsrutil -C connectagent) instead of waiting for the next interval.
import type { Register } from './index.js';
import { connectAgentNow } from '../lib/start-openedge-startup.js';
import { operatorCommand, REASON } from '../lib/operator-command.js';

export const registerConnectAgent: Register = (program, _setExit, io) => {
  operatorCommand<{ agent: string; reason?: string }>(program, 'connect-agent [id]', io, {
    description: 'OpenEdge start-up in deferred agent start-up: try to connect an agent (or ALL) now',
    options: [['--agent <name>', 'the agent to try, or ALL', { default: 'ALL' }], REASON],
    actor: 'who asks (recorded)',
    send: async (client, runId, opts) => {
      const { progress, latest } = await connectAgentNow(client, runId, opts.agent, opts.reason, opts.actor);
      const agents =
        latest &&
        Object.entries(latest.agents)
          .map(([a, s]) => `${a} ${s}`)
          .join(', ');
      const seen = latest ? `: server ${latest.server}; ${agents}` : '';
      return { progress, text: () => `connectagent ${opts.agent} for ${runId} (by ${opts.actor})${seen}\n` };
    },
  });
};
