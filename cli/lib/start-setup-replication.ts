// Starting the set-up runbook (`runbook: setup-replication`): what `replup start` calls for such a
// plan. One set-up per fleet at a time (the workflow id names the master).
import type { SetupPlan } from '../../plan/setup-replication/types.js';
import { setupReplication, setupWorkflowId } from '../../workflows/setup-replication.js';
import { runbookStarter } from './runs.js';

const where = (s: { server: string; database: string }) => `${s.server}/${s.database}`;

function planDetails(plan: SetupPlan): string {
  const branches = plan.sites.filter((s) => s.role === 'publisher-subscriber').length;
  return [
    `**${plan.name}**: set up merge replication${branches ? ` (branch offices: ${branches})` : ''}`,
    '',
    `- master: ${where(plan.publisher)}, distributor ${where(plan.distributor)}`,
    `- publications: ${plan.publications.map((p) => `${p.name} at ${p.publisher}`).join(', ')}`,
    `- read committed snapshot: on at ${plan.readCommittedSnapshot.filter((c) => c.on).length} of ${plan.sites.length}`,
    `- scripts: ${plan.scripts.dir}`,
  ].join('\n');
}

/** `startSetupReplication(client, plan, actor?, { taskQueue, workflowId }?)`. */
export const startSetupReplication = runbookStarter(setupReplication, (plan: SetupPlan) => {
  const fleet = where(plan.publisher);
  return {
    workflowId: setupWorkflowId(plan),
    fleet,
    staticSummary: `${plan.name}: set up replication from ${fleet}`,
    staticDetails: planDetails(plan),
    what: `a set-up of ${fleet}`,
    oneAtATime: 'one fleet is set up by one run at a time; abort that run first if it must be replaced',
  };
});
