// The OpenEdge Replication start-up plan (runbook `openedge-replication-startup`, seed 002,
// DOMAIN.md §3). Pure (no Node imports): the workflow imports the types and step ids.
import { z } from 'zod';
import { agentNameProblem, deferMinutesProblem } from '../../activities/openedge-startup/properties.js';
import { parsePlanFile } from '../plan-file.js';
import { resolveFrom } from '../plan-path.js';
import type { FleetTable, PlanKind } from '../kind.js';
import { describeNotify, notifySchema } from '../notify.js';
import { whenMissing, type RuleViolation, type SourceResult } from '../source.js';
import {
  DEFAULT_ASK_OPERATOR_AFTER_SECONDS,
  DEFAULT_RETRY_INTERVAL_SECONDS,
  MAX_ASK_OPERATOR_AFTER_SECONDS,
  OPENEDGE_RUNBOOK,
  openEdgePlanSteps,
  type OpenEdgeStartupPlan,
} from './steps.js';

export * from './steps.js';

function nameCheck(name: string, ctx: z.RefinementCtx): void {
  const problem = agentNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', input: name, message: problem });
}

const agent = z.strictObject(
  {
    name: z
      .string(whenMissing('the agent name (the NAME of [control-agent.NAME]), at most 15 characters'))
      .superRefine(nameCheck),
    host: z.string(whenMissing("the target machine's host name or address")).min(1),
    port: z.int(whenMissing("the target database broker's port")).min(1).max(65535),
    connectTimeoutSeconds: z.int().min(1).default(120),
    replicationMethod: z.enum(['sync', 'async']).default('async'),
    critical: z.boolean().default(false),
  },
  whenMissing('an agent: name, host, port'),
);

export const openEdgePlanSchema = z.strictObject({
  name: z.string(whenMissing('a name for this start-up, e.g. name: sports-replication')).min(1),
  runbook: z.literal(OPENEDGE_RUNBOOK),
  source: z.strictObject(
    { database: z.string(whenMissing('the source database, e.g. database: /db/sports')).min(1) },
    whenMissing('source: database'),
  ),
  agents: z.array(agent, whenMissing('the replication agents (targets): a list of name, host, port')).min(1),
  deferAgentStartupMinutes: z
    .int()
    .default(0)
    .superRefine((minutes, ctx) => {
      const problem = deferMinutesProblem(minutes);
      if (problem)
        ctx.addIssue({
          code: 'custom',
          input: minutes,
          message: problem.replace('defer-agent-startup', 'deferAgentStartupMinutes'),
        });
    }),
  retryIntervalSeconds: z.int().min(1).default(DEFAULT_RETRY_INTERVAL_SECONDS),
  askOperatorAfterSeconds: z
    .int('askOperatorAfterSeconds must be a whole number of seconds')
    .min(0, 'askOperatorAfterSeconds must be 0 (ask at once) or more seconds')
    .max(
      MAX_ASK_OPERATOR_AFTER_SECONDS,
      `askOperatorAfterSeconds must be at most ${MAX_ASK_OPERATOR_AFTER_SECONDS} (one day): a halted agent ` +
        `should not wait longer unseen`,
    )
    .default(DEFAULT_ASK_OPERATOR_AFTER_SECONDS),
  commands: z
    .strictObject({
      dsrutil: z.string().min(1).default('dsrutil'),
      startServer: z.string().min(1).default('proserve {db} -DBService replserv'),
    })
    .prefault({}),
  propertiesFile: z.string().min(1).optional(),
  notify: notifySchema.optional(),
});

export type OpenEdgePlanInput = z.output<typeof openEdgePlanSchema>;

/** Agent names unique; deferred start-up needs asynchronous agents (seed 002 / properties rules). */
export function openEdgePlanRules(raw: unknown): RuleViolation[] {
  const doc = (raw ?? {}) as { agents?: unknown; deferAgentStartupMinutes?: unknown };
  if (!Array.isArray(doc.agents)) return [];
  const agents = doc.agents as Array<Record<string, unknown> | null>;
  const violations: RuleViolation[] = [];
  agents.forEach((a, i) => {
    if (!a) return;
    if (typeof a.name === 'string' && agents.findIndex((o) => o?.name === a.name) !== i) {
      violations.push({ path: ['agents', i, 'name'], message: `agent "${a.name}" is listed twice` });
    }
    const defer = doc.deferAgentStartupMinutes;
    if (typeof defer === 'number' && defer > 0 && a.replicationMethod === 'sync') {
      violations.push({
        path: ['agents', i, 'replicationMethod'],
        message:
          `deferred agent start-up (deferAgentStartupMinutes: ${defer}) needs replicationMethod: async for ` +
          `every agent`,
      });
    }
  });
  return violations;
}

export function toOpenEdgePlan(input: OpenEdgePlanInput, planFolder: string): OpenEdgeStartupPlan {
  return {
    name: input.name,
    runbook: input.runbook,
    source: input.source,
    agents: input.agents,
    deferAgentStartupMinutes: input.deferAgentStartupMinutes,
    retryIntervalSeconds: input.retryIntervalSeconds,
    askOperatorAfterSeconds: input.askOperatorAfterSeconds,
    commands: input.commands,
    ...(input.propertiesFile !== undefined && { propertiesFile: resolveFrom(planFolder, input.propertiesFile) }),
    ...(input.notify !== undefined && { notify: input.notify }),
  };
}

export function parseOpenEdgePlan(text: string, file: string): SourceResult<OpenEdgeStartupPlan> {
  return parsePlanFile(text, file, openEdgePlanSchema, openEdgePlanRules, toOpenEdgePlan);
}

function describeOpenEdgePlan(plan: OpenEdgeStartupPlan): { summary: string[]; tables: FleetTable[] } {
  const deferral =
    plan.deferAgentStartupMinutes > 0
      ? `${plan.deferAgentStartupMinutes} minutes, retry every ${plan.retryIntervalSeconds} s`
      : 'off';
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `source:       ${plan.source.database}`,
      `deferral:     ${deferral}`,
      `halted:       an agent halted or replication suspended asks an operator after ` +
        `${plan.askOperatorAfterSeconds ?? DEFAULT_ASK_OPERATOR_AFTER_SECONDS} s`,
      `dsrutil:      ${plan.commands.dsrutil}`,
      ...describeNotify(plan.notify),
    ],
    tables: [
      {
        title: `Agents (${plan.agents.length})`,
        columns: ['AGENT', 'TARGET', 'METHOD', 'CRITICAL'],
        rows: plan.agents.map((a) => [a.name, `${a.host}:${a.port}`, a.replicationMethod, a.critical ? 'yes' : 'no']),
      },
    ],
  };
}

export const openEdgePlanKind: PlanKind<OpenEdgeStartupPlan> = {
  runbook: OPENEDGE_RUNBOOK,
  title: 'OpenEdge Replication start-up with deferred agent start-up',
  parse: parseOpenEdgePlan,
  steps: openEdgePlanSteps,
  describe: describeOpenEdgePlan,
};
