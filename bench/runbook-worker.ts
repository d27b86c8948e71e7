// What a bench worker serving the runbooks is made of, shared by bench/run.ts and bench/profile-overhead.ts.
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { createUpgradeActivities } from '../activities/personalization-upgrade/activities.js';
import { createFleetGuardActivities } from '../activities/personalization-upgrade/fleet-guard.js';
import { createReportActivities } from '../activities/report/index.js';
import type { PortsFor } from '../activities/personalization-upgrade/activities.js';

/**
 * The `workflowBundle` and `activities` of Worker.create for the runbooks: workflows/index.ts bundled (run
 * from the repository's root), and the upgrade's, fleet guard's and report's activities over `portsFor`, the
 * last two reading through `client`.
 */
export async function runbookWorkerParts(client: Client, portsFor: PortsFor) {
  return {
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: resolve('workflows/index.ts'),
      logger: new DefaultLogger('WARN'),
    }),
    activities: {
      ...createUpgradeActivities(portsFor),
      ...createFleetGuardActivities(async () => client, portsFor),
      ...createReportActivities(async () => client),
    },
  };
}
