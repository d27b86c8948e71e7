// Which steps of the set-up apply to a plan, and why, in the operator's words. Pure: the workflow
// imports it to decide what to run, and `replup plan show` prints the same answer.
import type { StepView } from '../kind.js';
import { isBranchOffice, SETUP_STEP_IDS, type SetupPlan, type SetupStepId } from './types.js';
import { count } from '../../common/count.js';

/** Each Snapshot Agent is waited for this long by default (options.snapshotTimeoutMinutes). */
export const DEFAULT_SETUP_SNAPSHOT_MINUTES = 30;

export interface SetupStep extends StepView {
  id: SetupStepId;
}

export function setupSteps(plan: SetupPlan): SetupStep[] {
  const central = plan.publisher.key;
  const centralData = plan.publications.some((p) => p.kind === 'Data' && p.publisher === central);
  const branchData = plan.publications.filter((p) => p.kind === 'Data' && p.publisher !== central);
  const subs = (kind: 'Config' | 'Data') =>
    plan.publications.filter((p) => p.kind === kind).reduce((n, p) => n + p.subscribers.length, 0);
  const rcsiOn = plan.readCommittedSnapshot.filter((c) => c.on).length;
  const reasons: Record<SetupStepId, { applies: boolean; reason: string }> = {
    preflight: {
      applies: true,
      reason:
        'sysadmin, SQL Server Agent, versions (publisher ≥ subscribers), distributors, scripts, databases ' +
        'present and not replicated yet',
    },
    'configure-distributor': {
      applies: true,
      reason:
        `a distributor at each publishing server that distributes for itself and has none yet (sp_get_distributor)` +
        (plan.snapshotFolder ? `, snapshot folder ${plan.snapshotFolder}` : ', snapshot folder ReplData (the default)'),
    },
    'read-committed-snapshot': {
      applies: true,
      reason: `read committed snapshot on ${rcsiOn} of ${count(plan.sites.length, 'database')} (the plan's choice)`,
    },
    'publish-config': {
      applies: true,
      reason: `Config publication at ${central}, then wait for its Snapshot Agent`,
    },
    'publish-data': {
      applies: centralData,
      reason: centralData
        ? `Data publication at ${central}, then wait for its Snapshot Agent`
        : 'the central database is a Config master (branch-office form): each branch publishes its Data',
    },
    'subscribe-config': {
      applies: subs('Config') > 0,
      reason: `${count(subs('Config'), 'subscriber')} to Config (a subscriber's data is replaced by the snapshot)`,
    },
    'publish-branch-data': {
      applies: branchData.length > 0,
      reason: branchData.length
        ? `Data publication at each of ${count(branchData.length, 'branch')}, its own distributor`
        : 'no branches',
    },
    'subscribe-data': {
      applies: subs('Data') > 0,
      reason: `${count(subs('Data'), 'subscriber')} to Data${isBranchOffice(plan) ? ' (each recovery database)' : ''}`,
    },
    'verify-replication': {
      applies: subs('Config') + subs('Data') > 0,
      reason: 'every subscription merged once and active; every publication has its articles',
    },
  };
  return SETUP_STEP_IDS.map((id) => {
    const { applies, reason } = reasons[id];
    const gated = applies && plan.options.approvals.includes(id);
    return {
      id,
      applies,
      reason: gated ? `${reason}; waits for \`replup approve\` first (options.approvals)` : reason,
    };
  });
}
