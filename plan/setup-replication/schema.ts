// The set-up plan (runbook `setup-replication`): the upgrade plan's fleet sections (publisher,
// subscribers, branches, distributor, publications, scripts, credentials, target: the same schema
// pieces and rules), the read-committed-snapshot choice per database, and the run's options.
import path from 'node:path';
import { z } from 'zod';
import type { FleetTable, PlanKind } from '../kind.js';
import { parsePlanSource, type RuleViolation, type SourceResult } from '../source.js';
import {
  DEFAULT_DATABASE,
  fleetRules,
  toUpgradePlan,
  upgradePlanSchema,
  type UpgradePlanInput,
} from '../personalization-upgrade/schema.js';
import { describeNotify } from '../notify.js';
import { sqlServerCell } from '../sql-server-cell.js';
import { distributorOf, publishingSites } from '../personalization-upgrade/types.js';
import { SETUP_RUNBOOK, SETUP_STEP_IDS, type SetupPlan } from './types.js';
import { NO_UPGRADE } from './as-upgrade.js';
import { DEFAULT_SETUP_SNAPSHOT_MINUTES, setupSteps } from './steps.js';
import { targetCell } from '../target-cell.js';

/**
 * The tempdb cost of read committed snapshot, in Microsoft's words and the seed's, for `plan show`.
 * Source: "Transaction locking and row versioning guide", section "Row Versioning resource usage"
 * (MicrosoftDocs/sql-docs docs/relational-databases/sql-server-transaction-locking-and-row-versioning-guide.md).
 */
export const RCSI_COST_SOURCE =
  'https://learn.microsoft.com/en-us/sql/relational-databases/sql-server-transaction-locking-and-row-versioning-guide';
export const RCSI_COST = [
  'Read committed snapshot versions every change: "Enabling these options causes all data modifications for the',
  'database to be versioned. A copy of the data before modification is stored in tempdb even when there are no',
  'active transactions using row versioning-based isolation." and "tempdb must have enough space to hold the row',
  'versions generated for every database in the instance" (Microsoft, Transaction locking and row versioning',
  'guide, Row Versioning resource usage:',
  `${RCSI_COST_SOURCE}).`,
  'The seed: "Using read committed snapshot can result in an increase in the usage of the tempdb": size tempdb',
  'for the version store on every server where it is on.',
];

const wholeNumber = (minimum: number, meaning: string) =>
  z
    .number()
    .int()
    .min(minimum, { error: `must be at least ${minimum}: ${meaning}` });

const stepId = z.enum(SETUP_STEP_IDS, {
  error: `a step of this runbook: ${SETUP_STEP_IDS.join(', ')}`,
});

const fleet = upgradePlanSchema.pick({
  name: true,
  target: true,
  publisher: true,
  distributor: true,
  subscribers: true,
  branches: true,
  publications: true,
  scripts: true,
  credentials: true,
  notify: true,
});

export const setupPlanSchema = fleet.extend({
  runbook: z.literal(SETUP_RUNBOOK),
  // The seed's SetMasterUp prompt "snapshot folder path": where a distributor replup installs keeps snapshots.
  snapshotFolder: z.string().min(1).optional(),
  // The seed prompts for it per database: a choice, so the plan must make it.
  readCommittedSnapshot: z.union([z.boolean(), z.record(z.string(), z.boolean())], {
    error:
      'the read committed snapshot choice: true or false for every database, or a map of ' +
      'server/database → true|false ' +
      '(with default: true|false for the others); it costs tempdb space (replup plan show says how)',
  }),
  options: z
    .strictObject({
      maxParallel: wholeNumber(1, 'how many databases are worked on at the same time').default(4),
      childWorkflowThreshold: wholeNumber(1, 'the call count from which a fan-out runs in child workflows').default(50),
      approvals: z.array(stepId).default(['subscribe-config']),
      snapshotTimeoutMinutes: wholeNumber(1, 'how long to wait for each Snapshot Agent').default(
        DEFAULT_SETUP_SNAPSHOT_MINUTES,
      ),
      retry: z
        .strictObject({
          initialSeconds: z.number().positive().default(2),
          maximumSeconds: z.number().positive().default(60),
          maximumAttempts: wholeNumber(1, 'how many times a transient error is retried').default(8),
        })
        .optional(),
    })
    .prefault({}),
});

export type SetupPlanInput = z.output<typeof setupPlanSchema>;

type Raw = Record<string, unknown>;
const asRecord = (v: unknown): Raw | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;

/** `server/database` of every database the plan names, as written (default database filled in). */
function writtenSiteKeys(plan: Raw): string[] {
  const key = (v: unknown) => {
    const r = asRecord(v) ?? {};
    const db = typeof r.database === 'string' ? r.database : DEFAULT_DATABASE;
    return `${String(r.server)}/${db}`.toLowerCase();
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
  return [
    key(plan.publisher),
    ...list(plan.subscribers).map(key),
    ...list(plan.branches).flatMap((b) => [key(b), key(asRecord(b)?.recovery)]),
  ];
}

/** The fleet's rules, and: every key of a readCommittedSnapshot map names a database of the plan. */
export function setupPlanRules(raw: unknown): RuleViolation[] {
  const plan = asRecord(raw);
  if (!plan) return [];
  const out = fleetRules(raw);
  const rcsi = asRecord(plan.readCommittedSnapshot);
  if (rcsi) {
    const known = writtenSiteKeys(plan);
    for (const k of Object.keys(rcsi)) {
      if (k === 'default' || known.includes(k.toLowerCase())) continue;
      out.push({
        path: ['readCommittedSnapshot', k],
        at: 'key',
        message: `${k} is not a database of this plan: write server/database as the plan names it, or default`,
      });
    }
  }
  return out;
}

/** Normalizes a valid plan with the upgrade's own normalization of the fleet sections. */
export function toSetupPlan(input: SetupPlanInput, planFolder: string): SetupPlan {
  const { readCommittedSnapshot, options, runbook, snapshotFolder, ...fleetInput } = input;
  // The upgrade's fields this runbook has no use for get neutral values: only the fleet is kept.
  const asUpgrade = { ...fleetInput, ...NO_UPGRADE, options: { approvals: [] } } as unknown as UpgradePlanInput;
  const u = toUpgradePlan(asUpgrade, planFolder);
  const choice = (key: string): boolean => {
    if (typeof readCommittedSnapshot === 'boolean') return readCommittedSnapshot;
    const found = Object.entries(readCommittedSnapshot).find(([k]) => k.toLowerCase() === key.toLowerCase());
    return found ? found[1] : (readCommittedSnapshot.default ?? false);
  };
  return {
    name: u.name,
    runbook,
    target: u.target,
    publisher: u.publisher,
    distributor: u.distributor,
    sites: u.sites,
    publications: u.publications,
    scripts: u.scripts,
    credentials: u.credentials,
    readCommittedSnapshot: u.sites.map((s) => ({ site: s.key, on: choice(s.key) })),
    ...(snapshotFolder !== undefined && { snapshotFolder }),
    ...(input.notify !== undefined && { notify: input.notify }),
    options: {
      maxParallel: options.maxParallel,
      childWorkflowThreshold: options.childWorkflowThreshold,
      approvals: [...new Set(options.approvals)],
      snapshotTimeoutMinutes: options.snapshotTimeoutMinutes,
      ...(options.retry && { retry: options.retry }),
    },
  };
}

export function parseSetupPlan(text: string, file: string): SourceResult<SetupPlan> {
  const result = parsePlanSource(text, setupPlanSchema, setupPlanRules);
  return result.ok ? { ok: true, value: toSetupPlan(result.value, path.dirname(path.resolve(file))) } : result;
}

function describeSetupPlan(plan: SetupPlan): { summary: string[]; tables: FleetTable[] } {
  const rcsi = new Map(plan.readCommittedSnapshot.map((c) => [c.site, c.on]));
  const anyOn = plan.readCommittedSnapshot.some((c) => c.on);
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `target:       ${targetCell(plan.target)}`,
      ...publishingSites(plan).map((site, i) => {
        const d = distributorOf(plan, site);
        return `${i ? '              ' : 'distributor:  '}${d.server}/${d.database} (for ${site.key})`;
      }),
      `scripts:      ${plan.scripts.dir}`,
      `approvals:    ${plan.options.approvals.length ? plan.options.approvals.join(', ') : 'none'}`,
      ...describeNotify(plan.notify),
      `read committed snapshot: ${plan.readCommittedSnapshot.filter((c) => c.on).length} of ${plan.sites.length}`,
      ...(anyOn ? RCSI_COST.map((l) => `  ${l}`) : ['  off everywhere: no version store in tempdb for it']),
    ],
    tables: [
      {
        title: `Databases (${plan.sites.length})`,
        columns: ['SITE', 'ROLE', 'SQL SERVER', 'READ COMMITTED SNAPSHOT'],
        rows: plan.sites.map((s) => [
          s.key,
          s.role,
          sqlServerCell(s),
          rcsi.get(s.key) ? 'on (tempdb version store)' : 'off',
        ]),
      },
      {
        title: `Publications (${plan.publications.length}), in the order they are set up`,
        columns: ['PUBLICATION', 'PUBLISHER', 'SUBSCRIBERS'],
        rows: plan.publications.map((p) => [p.name, p.publisher, p.subscribers.join(', ') || '-']),
      },
    ],
  };
}

export const setupPlanKind: PlanKind<SetupPlan> = {
  runbook: SETUP_RUNBOOK,
  title: 'Set up SQL Server merge replication for Personalization Server (SetMasterUp, branch offices)',
  parse: parseSetupPlan,
  steps: setupSteps,
  describe: describeSetupPlan,
};
