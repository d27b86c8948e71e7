// `replup retry|skip|abort <id> --step S --reason R`: an operator's decision on a parked step.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { decide, defaultActor, resolveRunId } from '../lib/runs.js';

export const registerDecide: Register = (program) => {
  const blurb = {
    retry: 'Run a parked step again',
    skip: 'Skip a parked step (only steps that allow it; recorded with your reason)',
    abort: 'Abort the run, waiting, running or paused: it stops after the activity running now and runs the cleanup that is safe there',
  } as const;
  for (const action of ['retry', 'skip', 'abort'] as const) {
    const cmd = program.command(`${action} [id]`).description(blurb[action]);
    // Abort needs no step: it stops the run wherever it is (the step is recorded with the decision).
    if (action === 'abort') cmd.option('--step <step>', 'the step the run is at (default: where it is now)');
    else cmd.requiredOption('--step <step>', 'the step that waits');
    cmd
      .requiredOption('--reason <text>', 'why (recorded in the audit)')
      .option('--actor <name>', 'who decides (recorded)', defaultActor())
      .option('--json', 'print the new progress state as JSON')
      .action(async (id: string | undefined, opts: { step?: string; reason: string; actor: string; json?: boolean }) => {
        const client = await connectClient();
        const runId = await resolveRunId(client, id);
        const p = await decide(client, runId, opts.step, action, opts.reason, opts.actor);
        const d = p.decisions[p.decisions.length - 1];
        const step = opts.step ?? d?.step ?? '?';
        if (opts.json) process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
        else {
          process.stdout.write(`${action} of ${step} recorded for ${runId} (by ${opts.actor}: ${opts.reason})\n`);
          // A run that was busy stops after its current activity; say how to see it end.
          if (action === 'abort' && !p.steps.find((s) => s.id === step)?.status.startsWith('awaiting-')) {
            process.stdout.write(`  the run stops after the activity running now, then runs its abort cleanup: replup watch '${runId}'\n`);
          }
        }
      });
  }
};
