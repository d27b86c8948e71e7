// The add-subscriber plan (seed 000, AddSubscriber): one database subscribes to the master's Config
// and Data publications with a snapshot, after an approval that names what the snapshot deletes.
import { z } from 'zod';
import type { PlanKind } from '../kind.js';
import { addSubscriberSteps } from './steps.js';
import { parsePlanSource, type SourceResult } from '../source.js';
import { VENDOR_SCRIPT_FILES } from '../personalization-upgrade/schema.js';
import { resolveFrom } from '../bdb-replicant/steps.js';
import {
  describeSubscriberPlan,
  planFolder,
  subscriberFields,
  subscriberRules,
  toSubscriberBase,
} from './common-schema.js';
import {
  ADD_SUBSCRIBER_RUNBOOK,
  ADD_SUBSCRIBER_STEP_IDS,
  REPLACE_GATE,
  where,
  type AddSubscriberPlan,
} from './types.js';

export { addSubscriberSteps };

export const addSubscriberPlanSchema = z.strictObject({
  ...subscriberFields(ADD_SUBSCRIBER_STEP_IDS, REPLACE_GATE),
  runbook: z.literal(ADD_SUBSCRIBER_RUNBOOK),
  scripts: z
    .strictObject({
      dir: z.string().min(1).default('.'),
      files: z
        .strictObject({
          createConfigSubscription: z.string().min(1).default(VENDOR_SCRIPT_FILES.createConfigSubscription),
          createDataSubscription: z.string().min(1).default(VENDOR_SCRIPT_FILES.createDataSubscription),
        })
        .prefault({}),
      variables: z.record(z.string(), z.string()).optional(),
    })
    .prefault({}),
});

export function parseAddSubscriberPlan(text: string, file: string): SourceResult<AddSubscriberPlan> {
  const result = parsePlanSource(text, addSubscriberPlanSchema, subscriberRules);
  if (!result.ok) return result;
  const input = result.value;
  return {
    ok: true,
    value: {
      ...toSubscriberBase(input, file),
      runbook: ADD_SUBSCRIBER_RUNBOOK,
      scripts: {
        dir: resolveFrom(planFolder(file), input.scripts.dir),
        files: input.scripts.files,
        ...(input.scripts.variables && { variables: input.scripts.variables }),
      },
    },
  };
}

export const addSubscriberPlanKind: PlanKind<AddSubscriberPlan> = {
  runbook: ADD_SUBSCRIBER_RUNBOOK,
  title: 'Add a subscriber to the Config and Data publications (with a snapshot, after approval)',
  parse: parseAddSubscriberPlan,
  steps: addSubscriberSteps,
  describe: (plan) => {
    const d = describeSubscriberPlan(plan, ADD_SUBSCRIBER_RUNBOOK);
    d.summary.push(
      `scripts:      ${plan.scripts.dir} (${plan.scripts.files.createConfigSubscription}, ` +
        `${plan.scripts.files.createDataSubscription}; sync type automatic)`,
      `caution:      the snapshot deletes every row of ${where(plan.subscriber)} and replaces it with the master's`,
    );
    return d;
  },
};
