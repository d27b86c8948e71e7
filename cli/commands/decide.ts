// `replup retry|skip|abort <id> --step S --reason R`: an operator's decision on a parked step.
import type { Register } from './index.js';
import { decide } from '../lib/runs.js';
import { operatorCommand } from '../lib/operator-command.js';
import { isAwaiting } from '../../common/run-status.js';

export const registerDecide: Register = (program, _setExit, io) => {
  const blurb = {
    retry: 'Run a parked step again',
    skip: 'Skip a parked step (only steps that allow it; recorded with your reason)',
    abort:
      'Abort the run, waiting, running or paused: ' +
      'it stops after the activity running now and runs the cleanup that is safe there',
  } as const;
  for (const action of ['retry', 'skip', 'abort'] as const) {
    operatorCommand<{ step?: string; reason: string }>(program, `${action} [id]`, io, {
      description: blurb[action],
      options: [
        // Abort needs no step: it stops the run wherever it is (the step is recorded with the decision).
        action === 'abort'
          ? ['--step <step>', 'the step the run is at (default: where it is now)']
          : ['--step <step>', 'the step that waits', 'required'],
        ['--reason <text>', 'why (recorded in the audit)', 'required'],
      ],
      actor: 'who decides (recorded)',
      send: async (client, runId, opts) => {
        const progress = await decide(client, runId, opts.step, action, opts.reason, opts.actor);
        const step = opts.step ?? progress.decisions[progress.decisions.length - 1]?.step ?? '?';
        const text = () => {
          const said = `${action} of ${step} recorded for ${runId} (by ${opts.actor}: ${opts.reason})\n`;
          // A run that was busy stops after its current activity; say how to see it end.
          const busy = action === 'abort' && !isAwaiting(progress.steps.find((s) => s.id === step)?.status);
          return busy
            ? `${said}  the run stops after the activity running now, then runs its abort cleanup: ` +
                `replup watch '${runId}'\n`
            : said;
        };
        return { progress, text };
      },
    });
  }
};
