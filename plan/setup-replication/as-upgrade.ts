// A set-up plan's fleet read as an upgrade plan. The set-up shares the upgrade's fleet sections, so its
// normalization (toSetupPlan) and the lab's fleet builder (activities/lab) take the upgrade plan's shape;
// the upgrade's own fields get these neutral values, which neither of them reads.
import type { UpgradePlan } from '../personalization-upgrade/types.js';

/** The upgrade's own fields for a plan that upgrades nothing: 10.4.0.0 to itself, hosts by hand, no backups. */
export const NO_UPGRADE = {
  runbook: 'em-personalization-upgrade',
  from: '10.4.0.0',
  to: '10.4.0.0',
  hosts: { upgrade: 'manual' },
  backup: { dir: '.', copyOnly: true },
} as const satisfies Pick<UpgradePlan, 'runbook' | 'from' | 'to' | 'hosts' | 'backup'>;
