// The step lists the tests expect of each runbook, written out on purpose rather than imported from
// the plan modules (UPGRADE_STEP_IDS, OPENEDGE_STEP_IDS): the workflows publish their steps from those
// constants, so a test that compared a run with them would still pass after a step was dropped from or
// moved in them. A change to a runbook's steps has to be made here too, where a reviewer sees it.

/** The personalization upgrade's steps, in runbook order (plan/personalization-upgrade/types.ts). */
export const EXPECTED_UPGRADE_STEPS = [
  'preflight',
  'drain-users',
  'sync-until-quiet',
  'backup',
  'remove-replication',
  'upgrade',
  'stop-background-services',
  'convert-row-guids',
  'prepare-scripts',
  'enable-replication',
  'verify-replication',
  'restore-service',
] as const;

/** The OpenEdge Replication start-up's steps, in runbook order (plan/openedge-startup/steps.ts). */
export const EXPECTED_OPENEDGE_STEPS = [
  'check-properties',
  'start-server',
  'connect-agents',
  'synchronize',
  'normal-processing',
] as const;
