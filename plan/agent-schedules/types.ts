// The merge agent schedules plan (runbook `agent-schedules`, the seed's "Modifying Replication Schedules"):
// its normalized shape and step ids. Pure: the workflow imports it (zod stays in schema.ts).
import type { Credentials, DbRef, Target } from '../personalization-upgrade/types.js';
import type { NotifySettings } from '../notify.js';

export const AGENT_SCHEDULES_RUNBOOK = 'agent-schedules';
export const AGENT_SCHEDULES_STEP_IDS = ['preflight', 'set-schedules', 'verify'] as const;
export type AgentSchedulesStepId = (typeof AGENT_SCHEDULES_STEP_IDS)[number];
/** The gate a plan gets unless it says otherwise: nothing is changed until an operator approves. */
export const DEFAULT_AGENT_SCHEDULES_APPROVALS: AgentSchedulesStepId[] = ['set-schedules'];
/** How long a Data merge may take (minutes): Config starts no job in that time after Data's start. */
export const DEFAULT_DATA_WINDOW_MINUTES = 60;

/**
 * A daily merge agent schedule (sysschedules freq_type 4, every day). Times are hhmmss ints, as
 * msdb.dbo.sysschedules holds them.
 */
export interface DailySchedule {
  /** Minutes between starts (freq_subday_type 4) from `from` to `to`; absent: once a day at `from` (type 1). */
  everyMinutes?: number;
  from: number;
  to: number;
}

export interface AgentSchedulesPlan {
  name: string;
  runbook: typeof AGENT_SCHEDULES_RUNBOOK;
  target: Target;
  credentials: Credentials;
  /** The publication database whose push subscriptions' merge agent jobs are checked and set. */
  publisher: DbRef;
  /** Where the merge agent jobs live (msdb of the distributor): default the publisher's server. */
  distributor: DbRef;
  /** The publications' names (default Config and Data). */
  publications: { config: string; data: string };
  /**
   * The schedules the jobs should have. Default (the seed's, with Config moved out of Data's window): Config
   * every 5 minutes from 01:00:00 to 23:55:00, Data daily at 00:00:00, local to the distributor (the master).
   */
  schedules: { config: DailySchedule; data: DailySchedule; dataWindowMinutes: number };
  options: {
    /** Read and compare only: the run changes nothing (set-schedules and verify do not apply). */
    checkOnly: boolean;
    /** Step ids that wait for `replup approve` before they run. */
    approvals: string[];
    retry?: { initialSeconds: number; maximumSeconds: number; maximumAttempts: number };
  };
  notify?: NotifySettings;
}
