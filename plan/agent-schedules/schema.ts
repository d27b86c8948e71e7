// The merge agent schedules plan (runbook `agent-schedules`): the file a DBA writes, validated with located
// errors, and normalized into AgentSchedulesPlan (types.ts). A plan whose Config and Data schedules could run at
// the same time is refused here (plan/agent-schedules/rule.ts).
import path from 'node:path';
import { z } from 'zod';
import type { FleetTable, PlanKind } from '../kind.js';
import { describeNotify, notifySchema } from '../notify.js';
import { parsePlanSource, whenMissing, type SourceResult } from '../source.js';
import { credentials, DEFAULT_DATABASE, DEFAULT_DISTRIBUTION_DATABASE } from '../personalization-upgrade/schema.js';
import { parallelFix, SEED_PARALLEL_WARNING } from './rule.js';
import { planParallel } from './differences.js';
import { agentSchedulesSteps, describeDaily } from './steps.js';
import {
  AGENT_SCHEDULES_RUNBOOK,
  AGENT_SCHEDULES_STEP_IDS,
  DEFAULT_AGENT_SCHEDULES_APPROVALS,
  DEFAULT_DATA_WINDOW_MINUTES,
  type AgentSchedulesPlan,
  type DailySchedule,
} from './types.js';
import { targetCell } from '../target-cell.js';

/** 'hh:mm:ss' (24-hour clock) as sysschedules' hhmmss int. */
const timeOfDay = z
  .string({ error: "write a time of day in quotes, as 'hh:mm:ss' on a 24-hour clock, e.g. '01:00:00'" })
  .regex(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/, {
    error: "a time of day is 'hh:mm:ss' on a 24-hour clock, e.g. '23:55:00'",
  })
  .transform((t) => Number(t.replaceAll(':', '')));

const daily = (what: string) =>
  z
    .strictObject({
      at: timeOfDay.optional(),
      everyMinutes: z.int().min(1).max(1440).optional(),
      from: timeOfDay.optional(),
      to: timeOfDay.optional(),
    })
    .superRefine((s, ctx) => {
      if ((s.at === undefined) === (s.everyMinutes === undefined)) {
        ctx.addIssue({
          code: 'custom',
          message: `${what}: write either at: 'hh:mm:ss' (once a day) or everyMinutes: N with from and to`,
          input: s,
        });
      }
      if (s.at !== undefined && (s.from !== undefined || s.to !== undefined)) {
        ctx.addIssue({ code: 'custom', message: `${what}: from and to go with everyMinutes, not with at`, input: s });
      }
      if (s.from !== undefined && s.to !== undefined && s.from > s.to) {
        ctx.addIssue({
          code: 'custom',
          path: ['to'],
          message: `${what}: to must be after from (one day)`,
          input: s.to,
        });
      }
    })
    .transform((s): DailySchedule =>
      s.at !== undefined
        ? { from: s.at, to: 235959 }
        : { everyMinutes: s.everyMinutes!, from: s.from ?? 0, to: s.to ?? 235959 },
    );

const stepId = z.enum(AGENT_SCHEDULES_STEP_IDS, {
  error: `a step of this runbook: ${AGENT_SCHEDULES_STEP_IDS.join(', ')}`,
});

const dbRef = (what: string, database: string) =>
  z.strictObject({
    server: z.string(whenMissing(`the ${what}'s SQL Server, HOST or HOST\\INSTANCE`)).min(1),
    database: z.string().min(1).default(database),
  });

export const agentSchedulesPlanSchema = z.strictObject({
  name: z.string(whenMissing('a name for this run, e.g. name: emea-schedules')).min(1),
  runbook: z.literal(AGENT_SCHEDULES_RUNBOOK),
  target: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('lab'),
      state: z.string(whenMissing('the lab state file, e.g. state: ../.replup/labs/lab-small.json')).min(1),
    }),
    z.strictObject({ kind: z.literal('sqlserver') }),
  ]),
  credentials,
  publisher: dbRef('publisher', DEFAULT_DATABASE),
  distributor: dbRef('distributor', DEFAULT_DISTRIBUTION_DATABASE).optional(),
  publications: z
    .strictObject({ config: z.string().min(1).default('Config'), data: z.string().min(1).default('Data') })
    .prefault({}),
  schedules: z
    .strictObject({
      config: daily('schedules.config').prefault({ everyMinutes: 5, from: '01:00:00', to: '23:55:00' }),
      data: daily('schedules.data').prefault({ at: '00:00:00' }),
      dataWindowMinutes: z.int().min(0).max(1440).default(DEFAULT_DATA_WINDOW_MINUTES),
    })
    .prefault({})
    .superRefine((s, ctx) => {
      const why = planParallel({ schedules: s } as AgentSchedulesPlan);
      if (why) {
        const dataLast = s.data.everyMinutes ? s.data.to : s.data.from;
        ctx.addIssue({
          code: 'custom',
          path: ['config'],
          input: s.config,
          message:
            `Config and Data of one subscription could run at the same time (${why}): the vendor's ` +
            `Replication guide says to "` +
            `${SEED_PARALLEL_WARNING}"; ${parallelFix(s.data.from, dataLast, s.dataWindowMinutes)} ` +
            `(replup's rule, inferred)`,
        });
      }
    }),
  options: z
    .strictObject({
      checkOnly: z.boolean().default(false),
      approvals: z.array(stepId).default(DEFAULT_AGENT_SCHEDULES_APPROVALS),
      retry: z
        .strictObject({
          initialSeconds: z.number().positive().default(2),
          maximumSeconds: z.number().positive().default(60),
          maximumAttempts: z.int().min(1).default(8),
        })
        .optional(),
    })
    .prefault({}),
  notify: notifySchema.optional(),
});

export type AgentSchedulesPlanInput = z.output<typeof agentSchedulesPlanSchema>;

export function toAgentSchedulesPlan(input: AgentSchedulesPlanInput, planFolder: string): AgentSchedulesPlan {
  const target =
    input.target.kind === 'lab'
      ? { kind: 'lab' as const, state: path.resolve(planFolder, input.target.state) }
      : input.target;
  return {
    name: input.name,
    runbook: input.runbook,
    target,
    credentials: input.credentials === 'windows' ? { kind: 'windows' } : { kind: 'sql', ...input.credentials },
    publisher: input.publisher,
    distributor: input.distributor ?? { server: input.publisher.server, database: DEFAULT_DISTRIBUTION_DATABASE },
    publications: input.publications,
    schedules: input.schedules,
    options: input.options,
    ...(input.notify !== undefined && { notify: input.notify }),
  };
}

export function parseAgentSchedulesPlan(text: string, file: string): SourceResult<AgentSchedulesPlan> {
  const result = parsePlanSource(text, agentSchedulesPlanSchema);
  return result.ok ? { ok: true, value: toAgentSchedulesPlan(result.value, path.dirname(file)) } : result;
}

function describeAgentSchedulesPlan(plan: AgentSchedulesPlan): { summary: string[]; tables: FleetTable[] } {
  const { config, data } = plan.publications;
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `publisher:    ${plan.publisher.server}/${plan.publisher.database}`,
      `distributor:  ${plan.distributor.server}/${plan.distributor.database} (the merge agent jobs' msdb)`,
      `target:       ${targetCell(plan.target)}`,
      `mode:         ${plan.options.checkOnly ? 'check only: nothing is changed' : 'check, set and verify'}`,
      ...describeNotify(plan.notify),
    ],
    tables: [
      {
        title: "Schedules (daily, on the distributor's clock: the master's)",
        columns: ['PUBLICATION', 'SCHEDULE'],
        rows: [
          [config, describeDaily(plan.schedules.config)],
          [
            data,
            `${describeDaily(plan.schedules.data)}; Config starts nothing for ` +
              `${plan.schedules.dataWindowMinutes} minutes after`,
          ],
        ],
      },
    ],
  };
}

export const agentSchedulesPlanKind: PlanKind<AgentSchedulesPlan> = {
  runbook: AGENT_SCHEDULES_RUNBOOK,
  title: 'Check and set the merge agent schedules (Config and Data never at the same time)',
  parse: parseAgentSchedulesPlan,
  steps: agentSchedulesSteps,
  describe: describeAgentSchedulesPlan,
};
