// The baseline the workflow is measured against: the upgrade's own steps (upgradeRunbook, the
// same step definitions the workflow runs) driven by a plain Node script (bench/script-driver.ts),
// the way a PowerShell or Node runbook script would do it. No Temporal: no durability, no
// retries, no audit; a failure ends the script.
import type { UpgradePlan } from '../plan/personalization-upgrade/types.js';
import { planSteps } from '../plan/personalization-upgrade/steps.js';
import type { UpgradeActivities } from '../activities/personalization-upgrade/activities.js';
import { upgradeRunbook, type UpgradeRunbookActivities } from '../workflows/personalization-upgrade.js';
import { scriptDriver } from './script-driver.js';

/** Runs the Personalization Server upgrade in sequence; returns how many activity calls it made and the sync rounds. */
export async function runbookScript(
  plan: UpgradePlan,
  acts: UpgradeActivities,
  runId: string,
): Promise<{ activities: number; syncRounds: number }> {
  const steps = planSteps(plan);
  let calls = 0;
  // The one-run-per-fleet guard's activities need a Temporal client: a script has none, so its
  // patch is not taken and they are never called.
  const driver = scriptDriver(acts as UpgradeRunbookActivities, {
    ids: { workflowId: `script-${runId}`, runId, firstRunId: runId },
    applies: (id) => steps.find((s) => s.id === id)?.applies ?? false,
    patched: (id) => id !== 'fleet-identity-at-preflight',
    onCall: () => (calls += 1),
  });
  await upgradeRunbook(driver, { plan, requestedBy: 'bench-script' });
  return { activities: calls, syncRounds: ((driver.facts.syncRounds as unknown[] | undefined) ?? []).length };
}
