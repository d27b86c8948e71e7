// The plan fields both subscriber runbooks share, validated with located errors (plan/source.ts).
// The target and credentials are the upgrade plan's own fields: one way to name a fleet.
import { z } from 'zod';
import { defaultStarterMayApprove, describeGate, type GatePolicy } from '../approval.js';
import { describeNotify, notifySchema } from '../notify.js';
import { resolveFrom } from '../bdb-replicant/steps.js';
import type { FleetTable } from '../kind.js';
import {
  CANARY_READ_EXAMPLE,
  CANARY_WRITE_EXAMPLE,
  DEFAULT_DATABASE,
  DEFAULT_DISTRIBUTION_DATABASE,
  serverNameProblem,
  upgradePlanSchema,
} from '../personalization-upgrade/schema.js';
import type { PathSegment } from '../source.js';
import { whenMissing, type RuleViolation } from '../source.js';
import {
  DEFAULT_SNAPSHOT_WAIT_MINUTES,
  SUBSCRIBE_ONLY_EDITIONS,
  where,
  type SubscriberPlanBase,
  type SubscriberPublication,
} from './types.js';
import { targetCell } from '../target-cell.js';
import { sqlServerEdition } from '../edition.js';

const serverName = z.string(whenMissing('the SQL Server, e.g. server: SQL01')).superRefine((v, ctx) => {
  const problem = serverNameProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', input: v, message: problem });
});
const databaseName = z.string().min(1).default(DEFAULT_DATABASE);

const plannedDb = (what: string) =>
  z.strictObject(
    {
      server: serverName,
      database: databaseName,
      sqlVersion: z.string().min(1).optional(),
      edition: sqlServerEdition.optional(),
    },
    whenMissing(`${what}: server (and database, default ${DEFAULT_DATABASE})`),
  );

/** The fields of both plans; `stepIds` are the runbook's steps (for approvals), `gate` its default gate. */
export function subscriberFields(stepIds: readonly string[], gate: string) {
  const stepId = z.string().superRefine((v, ctx) => {
    if (!stepIds.includes(v))
      ctx.addIssue({
        code: 'custom',
        input: v,
        message: `"${v}" is not a step of this runbook: ${stepIds.join(', ')}`,
      });
  });
  return {
    name: z.string(whenMissing('a name for this run, e.g. name: add-branch-7')).min(1),
    target: upgradePlanSchema.shape.target,
    credentials: upgradePlanSchema.shape.credentials,
    publisher: plannedDb('the publisher (the master)'),
    distributor: z
      .strictObject({ server: serverName, database: z.string().min(1).default(DEFAULT_DISTRIBUTION_DATABASE) })
      .optional(),
    subscriber: plannedDb('the subscriber database'),
    publications: z
      .array(z.enum(['Config', 'Data']))
      .min(1)
      .default(['Config', 'Data']),
    options: z
      .strictObject({
        // A gate id, or who may approve it and how many must (the upgrade plan's form, README "Two-person approval").
        approvals: z
          .array(
            z.union([
              stepId,
              z.strictObject({
                gate: stepId,
                approvers: z.array(z.string().trim().min(1)).min(1).optional(),
                minApprovals: z.int().min(1).optional(),
                starterMayApprove: z.boolean().optional(),
              }),
            ]),
          )
          .default([gate]),
        snapshotTimeoutMinutes: z.int().min(1).default(DEFAULT_SNAPSHOT_WAIT_MINUTES),
        retry: z
          .strictObject({
            initialSeconds: z.number().positive(),
            maximumSeconds: z.number().positive(),
            maximumAttempts: z.int().min(1),
          })
          .optional(),
      })
      .prefault({}),
    notify: notifySchema.optional(),
  };
}

/**
 * Rules over the raw document: a subscribe-only edition never publishes; the subscriber is not the publisher; a
 * SQL Server target names its canary (both runbooks end by a change at the master reaching subscribers, so a plan
 * without one is refused here, not at the last step after the subscriptions changed).
 */
export function subscriberRules(raw: unknown): RuleViolation[] {
  const doc = (raw ?? {}) as Record<string, unknown>;
  const out: RuleViolation[] = [];
  const pub = doc.publisher as Record<string, unknown> | undefined;
  const sub = doc.subscriber as Record<string, unknown> | undefined;
  if (pub && typeof pub.edition === 'string' && SUBSCRIBE_ONLY_EDITIONS.test(pub.edition)) {
    const path: PathSegment[] = ['publisher', 'edition'];
    out.push({
      path,
      message:
        `${pub.edition} can only subscribe to merge publications (SQL Server editions: merge replication ` +
        `"Subscriber only" on Express and Web): the publisher must be Standard or Enterprise`,
    });
  }
  const same = (a: unknown, b: unknown) =>
    typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
  if (
    pub &&
    sub &&
    same(pub.server, sub.server) &&
    same(pub.database ?? DEFAULT_DATABASE, sub.database ?? DEFAULT_DATABASE)
  ) {
    out.push({ path: ['subscriber'], message: 'the subscriber is the publisher itself: name another database' });
  }
  const target = doc.target as Record<string, unknown> | undefined;
  if (target?.kind === 'sqlserver' && target.canary === undefined) {
    out.push({
      path: ['target'],
      at: 'key',
      message:
        `a sqlserver target needs canary: { write, read }: T-SQL with @token that changes a row of a replicated ` +
        `table at the publisher and finds it at a subscriber (the last step checks replication with it), e.g. ` +
        `canary: { write: "${CANARY_WRITE_EXAMPLE}", read: "${CANARY_READ_EXAMPLE}" }`,
    });
  }
  return out;
}

const _commonSchema = z.strictObject(subscriberFields([], ''));
type CommonInput = z.output<typeof _commonSchema>;

/** The normalized common part: defaults filled, relative lab paths resolved beside the plan file. */
export function toSubscriberBase(input: CommonInput, file: string): Omit<SubscriberPlanBase, never> {
  const folder = planFolder(file);
  const target =
    input.target.kind === 'lab'
      ? { kind: 'lab' as const, state: resolveFrom(folder, input.target.state) }
      : input.target;
  const credentials =
    input.credentials === 'windows' ? { kind: 'windows' as const } : { kind: 'sql' as const, ...input.credentials };
  const publications: SubscriberPublication[] = (['Config', 'Data'] as const)
    .filter((k) => input.publications.includes(k))
    .map((kind) => ({ name: kind, kind }));
  const gates: Record<string, GatePolicy> = {};
  for (const a of input.options.approvals) {
    if (typeof a === 'string') continue;
    gates[a.gate] = {
      ...(a.approvers !== undefined && { approvers: a.approvers }),
      minApprovals: a.minApprovals ?? 1,
      starterMayApprove: a.starterMayApprove ?? defaultStarterMayApprove(a.gate, a.approvers),
    };
  }
  return {
    name: input.name,
    target,
    credentials,
    publisher: input.publisher,
    distributor: input.distributor ?? { server: input.publisher.server, database: DEFAULT_DISTRIBUTION_DATABASE },
    subscriber: input.subscriber,
    publications,
    options: {
      approvals: [...new Set(input.options.approvals.map((a) => (typeof a === 'string' ? a : a.gate)))],
      ...(Object.keys(gates).length > 0 && { gates }),
      snapshotTimeoutMinutes: input.options.snapshotTimeoutMinutes,
      ...(input.options.retry && { retry: input.options.retry }),
    },
    ...(input.notify && { notify: input.notify }),
  };
}

export const planFolder = (file: string) => resolveFrom('/', file).split('/').slice(0, -1).join('/') || '/';

/** `plan show`'s header and fleet table, common to both runbooks. */
export function describeSubscriberPlan(
  plan: SubscriberPlanBase,
  runbook: string,
): { summary: string[]; tables: FleetTable[] } {
  const gates = plan.options.approvals.map((g) =>
    plan.options.gates?.[g] ? describeGate(g, plan.options.gates[g]) : `${g} (one approval)`,
  );
  return {
    summary: [
      `plan:         ${plan.name} (${runbook})`,
      `target:       ${targetCell(plan.target)}`,
      `publisher:    ${where(plan.publisher)} (distributor ${plan.distributor.server})`,
      `subscriber:   ${where(plan.subscriber)}${plan.subscriber.edition ? ` (${plan.subscriber.edition})` : ''}`,
      `publications: ${plan.publications.map((p) => p.name).join(', ')}`,
      `approvals:    ${gates.length ? gates.join('; ') : 'none'}`,
      ...describeNotify(plan.notify),
    ],
    tables: [
      {
        title: 'Servers',
        columns: ['ROLE', 'DATABASE', 'SQL VERSION', 'EDITION'],
        rows: [
          [
            'publisher',
            where(plan.publisher),
            plan.publisher.sqlVersion ?? '(read at preflight)',
            plan.publisher.edition ?? '(read at preflight)',
          ],
          [
            'subscriber',
            where(plan.subscriber),
            plan.subscriber.sqlVersion ?? '(read at preflight)',
            plan.subscriber.edition ?? '(read at preflight)',
          ],
        ],
      },
    ],
  };
}
