// `replup approve <id> --gate G`, `replup confirm <id> --step S`: the human checkpoints.
import type { Register } from './index.js';
import { approve, confirm } from '../lib/runs.js';
import { operatorCommand } from '../lib/operator-command.js';

export const registerApprove: Register = (program, _setExit, io) => {
  operatorCommand<{ gate: string; reason: string }>(program, 'approve [id]', io, {
    description: 'Approve a gated step (the plan lists its gates, and who may approve them, in options.approvals)',
    // Every decision carries who and why (the audit): an approval's why is its change ticket or reason.
    options: [
      ['--gate <step>', 'the gate that waits, e.g. remove-replication', 'required'],
      ['--reason <text>', 'why (recorded in the audit), e.g. the change ticket', 'required'],
    ],
    actor: 'who approves (recorded)',
    send: async (client, runId, opts) => {
      const progress = await approve(client, runId, opts.gate, opts.reason, opts.actor);
      // With approvers in the plan the gate may need more: the step's note says how many and from whom.
      const gate = progress.steps.find((s) => s.id === opts.gate);
      const waits = gate?.status === 'awaiting-approval' && gate.note;
      return {
        progress,
        text: () =>
          `approved ${opts.gate} for ${runId} (by ${opts.actor}: ${opts.reason})\n` +
          (waits ? `  the gate still waits: ${gate.note}\n` : ''),
      };
    },
  });
  operatorCommand<{ step: string; note?: string }>(program, 'confirm [id]', io, {
    description: 'Confirm a manual step is done (the upgrade when hosts.upgrade is manual)',
    options: [
      ['--step <step>', 'the step that waits for confirmation', 'required'],
      ['--note <text>', 'what was done (recorded)'],
    ],
    actor: 'who confirms (recorded)',
    send: async (client, runId, opts) => ({
      progress: await confirm(client, runId, opts.step, opts.note, opts.actor),
      text: () => `confirmed ${opts.step} for ${runId} (by ${opts.actor})\n`,
    }),
  });
};
