// A set-up plan's fleet read as an upgrade plan. The set-up shares the upgrade's fleet sections, so its
// normalization (toSetupPlan) and the lab's fleet builder (activities/lab) take the upgrade plan's shape;
// the upgrade's own fields get these values. toSetupPlan keeps none of them. The lab reads `from` as the
// version of its databases and Personalization Servers (activities/lab/model.ts, createLabState): 10.4.0.0 is
// not before ROWGUID_THRESHOLD (8.3.253.0), so the subscribers' rows get no legacy (byte-swapped) row GUIDs
// needing ConvertRowGuids.sql; `to` is the same version, so the lab's fleet is already at its target.
import type { UpgradePlan } from '../personalization-upgrade/types.js';

/** The upgrade's own fields for a plan that upgrades nothing: 10.4.0.0 to itself, hosts by hand, no backups. */
export const NO_UPGRADE = {
  runbook: 'em-personalization-upgrade',
  from: '10.4.0.0',
  to: '10.4.0.0',
  hosts: { upgrade: 'manual' },
  backup: { dir: '.', copyOnly: true },
} as const satisfies Pick<UpgradePlan, 'runbook' | 'from' | 'to' | 'hosts' | 'backup'>;
