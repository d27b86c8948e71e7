// The step engine every runbook is written on, in parts: the step state machine (runbook.ts),
// operator messages and their validators (operator.ts), publishing of memo, search attributes and
// details (publish.ts), the Markdown step table (step-table.ts), typed activity calls
// (activity.ts), fan-out with batch children (fan-out.ts), and how runs fail (failure.ts).
export { Runbook, type RunbookOptions, type StepDef } from './runbook.js';
export { UPDATE_HELP } from './operator.js';
export type { StepMemo } from './publish.js';
export { renderStepTable } from './step-table.js';
export { activities, activityOptions, callActivity, DEFAULT_RETRY, type RetrySettings } from './activity.js';
export type * from './activity-types.js';
export { fanOut, fanOutBatch, type FanOutBatchInput, type FanOutOptions, type StepContext } from './fan-out.js';
export { describeFailure, isUnexpectedError } from './failure.js';
export type { RunbookDriver } from './driver.js';
export { calls, directActivities } from './activity-types.js';
export { temporalDriver, type TemporalDriverOptions } from './temporal-driver.js';
export { FleetCalls } from './fleet-calls.js';
export { boundedAll } from '../../common/bounded.js';
