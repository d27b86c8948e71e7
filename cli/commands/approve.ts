// `replup approve <id> --gate G`, `replup confirm <id> --step S`: the human checkpoints.
import type { Register } from './index.js';
import { connectClient } from '../../worker/connection.js';
import { approve, confirm, defaultActor, resolveRunId } from '../lib/runs.js';

export const registerApprove: Register = (program) => {
  program
    .command('approve [id]')
    .description('Approve a gated step (the plan lists its gates, and who may approve them, in options.approvals)')
    .requiredOption('--gate <step>', 'the gate that waits, e.g. remove-replication')
    .option('--reason <text>', 'why (recorded)')
    .option('--actor <name>', 'who approves (recorded)', defaultActor())
    .option('--json', 'print the new progress state as JSON')
    .action(async (id: string | undefined, opts: { gate: string; reason?: string; actor: string; json?: boolean }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const p = await approve(client, runId, opts.gate, opts.reason, opts.actor);
      if (opts.json) process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
      else {
        // With approvers in the plan the gate may need more: the step's note says how many and from whom.
        const note = p.steps.find((s) => s.id === opts.gate)?.note;
        process.stdout.write(`approved ${opts.gate} for ${runId} (by ${opts.actor})${note ? `: ${note}` : ''}\n`);
      }
    });
  program
    .command('confirm [id]')
    .description('Confirm a manual step is done (the upgrade when hosts.upgrade is manual)')
    .requiredOption('--step <step>', 'the step that waits for confirmation')
    .option('--note <text>', 'what was done (recorded)')
    .option('--actor <name>', 'who confirms (recorded)', defaultActor())
    .option('--json', 'print the new progress state as JSON')
    .action(async (id: string | undefined, opts: { step: string; note?: string; actor: string; json?: boolean }) => {
      const client = await connectClient();
      const runId = await resolveRunId(client, id);
      const p = await confirm(client, runId, opts.step, opts.note, opts.actor);
      if (opts.json) process.stdout.write(`${JSON.stringify(p, null, 2)}\n`);
      else process.stdout.write(`confirmed ${opts.step} for ${runId} (by ${opts.actor})\n`);
    });
};
