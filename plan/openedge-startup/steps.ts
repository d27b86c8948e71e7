// The OpenEdge start-up plan's shape, step ids and step rules (runbook
// `openedge-replication-startup`, seed 002, DOMAIN.md §3). Kept apart from the zod schema in
// openedge.ts: the workflow imports this file, and zod does not belong in the workflow bundle.
import type { StepView } from '../kind.js';
import type { NotifySettings } from '../notify.js';

export const OPENEDGE_RUNBOOK = 'openedge-replication-startup';
/** The server retries an unreachable agent every 5 minutes while deferred (seed 002). */
export const DEFAULT_RETRY_INTERVAL_SECONDS = 300;
/** How long the run waits on a halted, suspended, transitioning or unknown state before it asks an operator. */
export const DEFAULT_ASK_OPERATOR_AFTER_SECONDS = 600;
export const MAX_ASK_OPERATOR_AFTER_SECONDS = 86_400;

export const OPENEDGE_STEP_IDS = [
  'check-properties',
  'start-server',
  'connect-agents',
  'synchronize',
  'normal-processing',
] as const;
export type OpenEdgeStepId = (typeof OPENEDGE_STEP_IDS)[number];

export interface OpenEdgeAgent {
  name: string;
  host: string;
  port: number;
  connectTimeoutSeconds: number;
  replicationMethod: 'sync' | 'async';
  /** A critical agent that cannot connect ends the run failed. */
  critical: boolean;
}

export interface OpenEdgeStartupPlan {
  name: string;
  runbook: typeof OPENEDGE_RUNBOOK;
  source: { database: string };
  agents: OpenEdgeAgent[];
  /** 0 (no deferral) or 5-10080. */
  deferAgentStartupMinutes: number;
  retryIntervalSeconds: number;
  /**
   * An agent halted (3051-3054, 1003), replication suspended (6023), a transition (2080-2084, 3055,
   * 6022) or a code dsrutil's tables do not list: the step parks for an operator after this long
   * (0: at once). Absent in runs started before it existed: DEFAULT_ASK_OPERATOR_AFTER_SECONDS.
   */
  askOperatorAfterSeconds?: number;
  /** Command templates: dsrutil (real or simulated) and the server start ({db} = source database). */
  commands: { dsrutil: string; startServer: string };
  /** The source's replication properties file, checked before start-up when given (absolute). */
  propertiesFile?: string;
  /** Notifications of the run (plan/notify.ts). */
  notify?: NotifySettings;
}

export function openEdgePlanSteps(plan: OpenEdgeStartupPlan): StepView[] {
  const critical = plan.agents.filter((a) => a.critical).map((a) => a.name);
  const deferral =
    plan.deferAgentStartupMinutes > 0
      ? `an agent not reachable at first is retried every ${plan.retryIntervalSeconds} s for up to ` +
        `${plan.deferAgentStartupMinutes} minutes (deferred agent start-up); \`replup connect-agent\` tries at ` +
        `once`
      : 'deferAgentStartupMinutes is 0: an agent not reachable at the first try is not retried';
  const reasons: Record<OpenEdgeStepId, [boolean, string]> = {
    'check-properties': [
      plan.propertiesFile !== undefined,
      plan.propertiesFile ? `validate ${plan.propertiesFile} before starting` : 'no propertiesFile in the plan',
    ],
    'start-server': [true, `start the replication server of ${plan.source.database}`],
    'connect-agents': [
      true,
      `${deferral}` +
        `${critical.length > 0 ? `; critical agents (${critical.join(', ')}) that never connect fail the run` : ''}`,
    ],
    synchronize: [
      true,
      'handshake (identical databases, target made from source), then startup synchronization: schema ' +
        'changes are blocked meanwhile',
    ],
    'normal-processing': [
      true,
      `done when the server reports 6021 and every agent 3049 (Normal Processing); an agent halted or ` +
        `replication suspended parks the step for an operator after ` +
        `${plan.askOperatorAfterSeconds ?? DEFAULT_ASK_OPERATOR_AFTER_SECONDS} s`,
    ],
  };
  return OPENEDGE_STEP_IDS.map((id) => ({ id, applies: reasons[id][0], reason: reasons[id][1] }));
}
