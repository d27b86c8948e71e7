// `replup pause|resume <id>`: hold the run between steps (the current step finishes first).
import type { Register } from './index.js';
import { pause, resume } from '../lib/runs.js';
import { operatorCommand, REASON } from '../lib/operator-command.js';

export const registerPause: Register = (program, _setExit, io) => {
  for (const [verb, fn] of [
    ['pause', pause],
    ['resume', resume],
  ] as const) {
    operatorCommand<{ reason?: string }>(program, `${verb} [id]`, io, {
      description: verb === 'pause' ? 'Pause the run before its next step' : 'Resume a paused run',
      options: [REASON],
      actor: 'who (recorded)',
      send: async (client, runId, opts) => ({
        progress: await fn(client, runId, opts.reason, opts.actor),
        text: () => `${verb}d ${runId}${verb === 'pause' ? ' (the current step finishes first)' : ''}\n`,
      }),
    });
  }
};
