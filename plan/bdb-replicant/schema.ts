// The TapeTrack replicant plan (runbook `bdb-replicant`, seed 001, DOMAIN.md §2): a standalone
// Berkeley DB master becomes master + read-only replicant: the schema and rules. The types, step
// ids and step rules are in bdb-steps.ts, which the workflow imports.
import { z } from 'zod';
import { masterHomeProblem } from '../../activities/bdb-replicant/home.js';
import type { FleetTable, PlanKind } from '../kind.js';
import { describeNotify, notifySchema } from '../notify.js';
import { parsePlanFile } from '../plan-file.js';
import { whenMissing, type RuleViolation, type SourceResult } from '../source.js';
import {
  BDB_RUNBOOK,
  DEFAULT_LOG_DIR,
  DEFAULT_REPLICATION_PORT,
  bdbPlanSteps,
  resolveFrom,
  type BdbReplicantPlan,
  type BdbSite,
} from './steps.js';

export * from './steps.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const placeholders = ['host', 'envDir', 'role'];

const commandTemplate = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const [, name] of value.matchAll(/\{(\w+)\}/g)) {
      if (name !== undefined && !placeholders.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          input: value,
          message:
            `unknown placeholder {${name}}: the placeholders are ` + `${placeholders.map((p) => `{${p}}`).join(', ')}`,
        });
      }
    }
  });

const serviceControl = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('local') }),
    z.strictObject({
      kind: z.literal('command'),
      start: commandTemplate,
      stop: commandTemplate,
      status: commandTemplate.optional(),
    }),
  ],
  whenMissing(
    'kind: local (replup runs db5.3_replicate on this machine) or kind: command (with start and stop command ' +
      'templates)',
  ),
);

function site(which: 'master' | 'replicant') {
  return z.strictObject(
    {
      host: z
        .string(whenMissing(`the ${which}'s IPv4 address, e.g. host: 192.0.2.10`))
        .min(1)
        .superRefine((host, ctx) => {
          // Seed 001: "use the IP4 address ... the domain name can cause issues with the IP6 address".
          if (!IPV4.test(host))
            ctx.addIssue({
              code: 'custom',
              input: host,
              message:
                `"${host}" is not an IPv4 address: the vendor warns that a name can resolve to IPv6 and stop ` +
                `replication; write the address, e.g. 192.0.2.10`,
            });
        }),
      envDir: z
        .string(
          whenMissing(`the ${which}'s environment directory (TapeTrack's var/db), e.g. envDir: /srv/tapetrack/var/db`),
        )
        .min(1),
      port: z.int().min(1).max(65535).default(DEFAULT_REPLICATION_PORT),
      service: serviceControl.default({ kind: 'local' }),
      messageLog: z.string().min(1).optional(),
    },
    whenMissing(`the ${which}: host, envDir, port and service`),
  );
}

const wholeSeconds = (min: number) => z.int().min(min);

export const bdbPlanSchema = z.strictObject({
  name: z.string(whenMissing('a name for this change, e.g. name: tapetrack-replicant')).min(1),
  runbook: z.literal(BDB_RUNBOOK),
  master: site('master'),
  replicant: site('replicant'),
  backupDir: z
    .string(
      whenMissing('an empty directory for the full backup of the master, e.g. backupDir: /backups/tapetrack-2025-01'),
    )
    .min(1),
  logDir: z.string().min(1).default(DEFAULT_LOG_DIR),
  network: z.strictObject({ trusted: z.boolean().default(false) }).prefault({}),
  notify: notifySchema.optional(),
  options: z
    .strictObject({
      startupTimeoutSeconds: wholeSeconds(1).default(120),
      replicantRetrySeconds: wholeSeconds(1).default(15),
      replicantStartAttempts: wholeSeconds(1).default(20),
      verifyTimeoutSeconds: wholeSeconds(1).default(60),
    })
    .prefault({}),
});

export type BdbPlanInput = z.output<typeof bdbPlanSchema>;

/** Rules across fields: two distinct sites, and a backup that does not live inside an environment. */
export function bdbPlanRules(raw: unknown): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const doc = (raw ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const { master, replicant } = doc;
  if (!master || !replicant) return violations;
  // Not validated yet: whatever the file holds, compared and printed as written.
  const port = (s: Record<string, unknown>) => (s.port ?? DEFAULT_REPLICATION_PORT) as string | number;
  if (master.host === replicant.host && port(master) === port(replicant)) {
    violations.push({
      path: ['replicant', 'port'],
      message:
        `the replicant uses the master's address ${String(master.host)}:${String(port(master))}: give it its ` +
        `own port or host`,
    });
  }
  if (master.host === replicant.host && typeof master.envDir === 'string' && master.envDir === replicant.envDir) {
    violations.push({
      path: ['replicant', 'envDir'],
      message: 'the replicant and the master share an environment directory: the wipe step would delete the master',
    });
  }
  const backupDir = doc.backupDir as unknown;
  for (const [name, s] of [
    ['master', master],
    ['replicant', replicant],
  ] as const) {
    if (typeof backupDir === 'string' && typeof s.envDir === 'string' && isInside(backupDir, s.envDir)) {
      violations.push({
        path: ['backupDir'],
        message: `backupDir is inside the ${name}'s envDir ${s.envDir}: put the backup outside every environment`,
      });
    }
  }
  return violations;
}

function isInside(child: string, parent: string): boolean {
  const c = resolveFrom('/', child);
  const p = resolveFrom('/', parent);
  return c === p || c.startsWith(`${p}/`);
}

function toSite(input: BdbPlanInput['master'], planFolder: string): BdbSite {
  const envDir = resolveFrom(planFolder, input.envDir);
  return {
    host: input.host,
    envDir,
    port: input.port,
    service: input.service,
    messageLog: input.messageLog !== undefined ? resolveFrom(planFolder, input.messageLog) : `${envDir}/DB_Msg.txt`,
  };
}

/** Normalizes a valid plan: defaults in, paths absolute (relative ones resolve against the plan's folder). */
export function toBdbPlan(input: BdbPlanInput, planFolder: string): BdbReplicantPlan {
  return {
    name: input.name,
    runbook: input.runbook,
    master: toSite(input.master, planFolder),
    replicant: toSite(input.replicant, planFolder),
    backupDir: resolveFrom(planFolder, input.backupDir),
    logDir: input.logDir,
    network: input.network,
    options: input.options,
    ...(input.notify !== undefined && { notify: input.notify }),
  };
}

export function parseBdbPlan(text: string, file: string): SourceResult<BdbReplicantPlan> {
  return parsePlanFile(text, file, bdbPlanSchema, bdbPlanRules, toBdbPlan);
}

function describeBdbPlan(plan: BdbReplicantPlan): { summary: string[]; tables: FleetTable[] } {
  const control = (s: BdbSite) =>
    s.service.kind === 'local' ? 'local (db5.3_replicate)' : `command: ${s.service.start}`;
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `backup into:  ${plan.backupDir}`,
      `network:      ${plan.network.trusted ? 'trusted' : 'not stated as trusted: the run waits for approval'}`,
      ...describeNotify(plan.notify),
    ],
    tables: [
      {
        title: 'Sites (2)',
        columns: ['ROLE', 'ADDRESS', 'ENVIRONMENT', 'SERVICE'],
        rows: [plan.master, plan.replicant].map((s, i) => [
          i === 0 ? 'master' : 'replicant',
          `${s.host}:${s.port}`,
          s.envDir,
          control(s),
        ]),
      },
    ],
  };
}

/** 127.0.0.0/8: the site is this machine. */
const LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * The master's environment, where this machine sees it: a relative envDir (resolved beside the
 * plan file) or a master on loopback. Missing or empty, the run would stop at backup-master
 * (db5.3_archive calls a missing folder "BDB0061 PANIC"); an absolute path on another host may
 * exist only there, and is left to backup-master.
 */
function bdbCheckOnDisk(
  raw: Record<string, unknown>,
  plan: BdbReplicantPlan,
): { path: (string | number)[]; message: string }[] {
  const given = (raw.master as { envDir?: unknown } | undefined)?.envDir;
  if (typeof given !== 'string') return [];
  const relative = !given.startsWith('/');
  if (!relative && !LOOPBACK.test(plan.master.host)) return [];
  const problem = masterHomeProblem(plan.master.envDir);
  return problem ? [{ path: ['master', 'envDir'], message: `${problem} (envDir "${given}")` }] : [];
}

export const bdbPlanKind: PlanKind<BdbReplicantPlan> = {
  runbook: BDB_RUNBOOK,
  title: 'TapeTrack: turn a standalone Berkeley DB server into master + read-only replicant',
  parse: parseBdbPlan,
  steps: bdbPlanSteps,
  describe: describeBdbPlan,
  checkOnDisk: bdbCheckOnDisk,
};
