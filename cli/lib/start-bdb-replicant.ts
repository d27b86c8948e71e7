// Starting the TapeTrack replicant runbook (`runbook: bdb-replicant`): what `replup start` calls
// for such a plan. One run per master/replicant pair at a time (the workflow id says which pair).
import type { BdbReplicantPlan, BdbSite } from '../../plan/bdb-replicant/schema.js';
import { bdbReplicant, bdbReplicantWorkflowId } from '../../workflows/bdb-replicant.js';
import { runbookStarter } from './runs.js';

const address = (s: BdbSite) => `${s.host}:${s.port}`;
const control = (s: BdbSite) =>
  s.service.kind === 'local'
    ? 'local service (db5.3_recover + db5.3_replicate)'
    : `commands (start: \`${s.service.start}\`)`;

function planDetails(plan: BdbReplicantPlan): string {
  return [
    `**${plan.name}**: TapeTrack standalone server → master + read-only replicant (Berkeley DB replication)`,
    '',
    `- master: ${address(plan.master)}, environment ${plan.master.envDir}, ${control(plan.master)}`,
    `- replicant: ${address(plan.replicant)}, environment ${plan.replicant.envDir}, ${control(plan.replicant)}`,
    `- backup into: ${plan.backupDir}/<run id>`,
    `- network: ` +
      (plan.network.trusted
        ? 'trusted (plan)'
        : 'not stated as trusted: the run waits for approval at trusted-network'),
    `- replicant start: up to ${plan.options.replicantStartAttempts} tries, ` +
      `${plan.options.replicantRetrySeconds} s apart`,
  ].join('\n');
}

/** `startBdbReplicant(client, plan, actor?, { taskQueue, workflowId }?)`: tests run pairs side by side. */
export const startBdbReplicant = runbookStarter(bdbReplicant, (plan: BdbReplicantPlan) => {
  const fleet = `${address(plan.master)} → ${address(plan.replicant)}`;
  return {
    workflowId: bdbReplicantWorkflowId(plan),
    fleet,
    staticSummary: `${plan.name}: make ${address(plan.replicant)} a read-only replicant of ${address(plan.master)}`,
    staticDetails: planDetails(plan),
    what: `a replicant run for ${fleet}`,
    oneAtATime:
      'one master/replicant pair is changed by one run at a time; abort that run first if it must be replaced',
  };
});
