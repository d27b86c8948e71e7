// The TapeTrack replicant plan (runbook `bdb-replicant`, seed 001, DOMAIN.md §2): a standalone
// Berkeley DB master becomes master + read-only replicant. Pure (no Node imports) so that the
// workflow may import the types and step ids.
import { z } from 'zod';
import type { FleetTable, PlanKind, StepView } from './kind.js';
import { parsePlanSource, whenMissing, type RuleViolation, type SourceResult } from './source.js';

export const BDB_RUNBOOK = 'bdb-replicant';
/** The seed's default replication port (the client port, usually 5000, is a different one). */
export const DEFAULT_REPLICATION_PORT = 5010;
/** Where log files go, relative to the environment: DOMAIN.md §2 keeps them out of the env dir. */
export const DEFAULT_LOG_DIR = '../dblogs';

/** The runbook's steps in seed order. */
export const BDB_STEP_IDS = [
  'trusted-network',
  'backup-master',
  'stop-replicant',
  'wipe-replicant',
  'configure-replicant',
  'stop-master',
  'configure-master',
  'delete-region-files',
  'start-master',
  'start-replicant',
  'verify-replication',
] as const;
export type BdbStepId = (typeof BDB_STEP_IDS)[number];

export type BdbServiceControl = { kind: 'local' } | { kind: 'command'; start: string; stop: string; status?: string };

export interface BdbSite {
  host: string;
  envDir: string;
  /** The replication (repmgr) port, not the client port. */
  port: number;
  service: BdbServiceControl;
  /** The message log (the seed's $DB_Msg.txt); with a local service, db5.3_replicate's output. */
  messageLog: string;
}

export interface BdbReplicantPlan {
  name: string;
  runbook: typeof BDB_RUNBOOK;
  master: BdbSite;
  replicant: BdbSite;
  backupDir: string;
  /** set_lg_dir written when DB_CONFIG has none (relative to each environment). */
  logDir: string;
  /** Replication traffic is not encrypted (seed 001): untrusted or unstated means an approval gate. */
  network: { trusted: boolean };
  options: {
    startupTimeoutSeconds: number;
    /** The replicant exits after ~10-15 s when its master does not answer: start it again this often. */
    replicantRetrySeconds: number;
    replicantStartAttempts: number;
    verifyTimeoutSeconds: number;
  };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const placeholders = ['host', 'envDir', 'role'];

const commandTemplate = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    for (const [, name] of value.matchAll(/\{(\w+)\}/g)) {
      if (name !== undefined && !placeholders.includes(name)) {
        ctx.addIssue({ code: 'custom', input: value, message: `unknown placeholder {${name}}: the placeholders are ${placeholders.map((p) => `{${p}}`).join(', ')}` });
      }
    }
  });

const serviceControl = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('local') }),
    z.strictObject({ kind: z.literal('command'), start: commandTemplate, stop: commandTemplate, status: commandTemplate.optional() }),
  ],
  whenMissing('kind: local (replup runs db5.3_replicate on this machine) or kind: command (with start and stop command templates)'),
);

function site(which: 'master' | 'replicant') {
  return z.strictObject(
    {
      host: z
        .string(whenMissing(`the ${which}'s IPv4 address, e.g. host: 192.0.2.10`))
        .min(1)
        .superRefine((host, ctx) => {
          // Seed 001: "use the IP4 address ... the domain name can cause issues with the IP6 address".
          if (!IPV4.test(host)) ctx.addIssue({ code: 'custom', input: host, message: `"${host}" is not an IPv4 address: the vendor warns that a name can resolve to IPv6 and stop replication; write the address, e.g. 192.0.2.10` });
        }),
      envDir: z.string(whenMissing(`the ${which}'s environment directory (TapeTrack's var/db), e.g. envDir: /srv/tapetrack/var/db`)).min(1),
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
  backupDir: z.string(whenMissing('an empty directory for the full backup of the master, e.g. backupDir: /backups/tapetrack-2025-01')).min(1),
  logDir: z.string().min(1).default(DEFAULT_LOG_DIR),
  network: z.strictObject({ trusted: z.boolean().default(false) }).prefault({}),
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
  const port = (s: Record<string, unknown>) => s.port ?? DEFAULT_REPLICATION_PORT;
  if (master.host === replicant.host && port(master) === port(replicant)) {
    violations.push({ path: ['replicant', 'port'], message: `the replicant uses the master's address ${String(master.host)}:${String(port(master))}: give it its own port or host` });
  }
  if (master.host === replicant.host && typeof master.envDir === 'string' && master.envDir === replicant.envDir) {
    violations.push({ path: ['replicant', 'envDir'], message: 'the replicant and the master share an environment directory: the wipe step would delete the master' });
  }
  const backupDir = doc.backupDir as unknown;
  for (const [name, s] of [['master', master], ['replicant', replicant]] as const) {
    if (typeof backupDir === 'string' && typeof s.envDir === 'string' && isInside(backupDir, s.envDir)) {
      violations.push({ path: ['backupDir'], message: `backupDir is inside the ${name}'s envDir ${s.envDir}: put the backup outside every environment` });
    }
  }
  return violations;
}

/** Plain-text path handling (no node:path here: workflows import this module). */
export function resolveFrom(folder: string, p: string): string {
  const joined = p.startsWith('/') ? p : `${folder}/${p}`;
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
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
  };
}

export function parseBdbPlan(text: string, file: string): SourceResult<BdbReplicantPlan> {
  const result = parsePlanSource(text, bdbPlanSchema, bdbPlanRules);
  const folder = resolveFrom('/', file).split('/').slice(0, -1).join('/') || '/';
  return result.ok ? { ok: true, value: toBdbPlan(result.value, folder) } : result;
}

const where = (s: BdbSite) => `${s.host}:${s.port} (${s.envDir})`;

export function bdbPlanSteps(plan: BdbReplicantPlan): StepView[] {
  const reasons: Record<BdbStepId, [boolean, string]> = {
    'trusted-network': [
      !plan.network.trusted,
      plan.network.trusted
        ? 'the plan says the network is trusted (network.trusted: true)'
        : 'replication traffic is not encrypted and the plan does not say the network is trusted: waits for `replup approve`',
    ],
    'backup-master': [true, `a full, verified backup of ${where(plan.master)} into ${plan.backupDir} before anything changes`],
    'stop-replicant': [true, `the replicant's files can only be replaced while its service is stopped`],
    'wipe-replicant': [true, `every file in ${plan.replicant.envDir} except DB_CONFIG goes: the replicant gets its data from the master`],
    'configure-replicant': [true, 'uncomment the replicant block of DB_CONFIG (priority 0, bootstrap helper = the master)'],
    'stop-master': [true, 'the master reads DB_CONFIG only at start-up'],
    'configure-master': [true, 'uncomment the master block of DB_CONFIG (priority 1, group creator)'],
    'delete-region-files': [true, `only the __db.* files of ${plan.master.envDir} (region files and old group membership); never log.* or data`],
    'start-master': [true, 'start the master and wait until db5.3_stat -r says "replication master"'],
    'start-replicant': [
      true,
      `start the replicant until its log shows it joined and finished start-up; retried every ${plan.options.replicantRetrySeconds} s (up to ${plan.options.replicantStartAttempts} times) while the master does not answer`,
    ],
    'verify-replication': [true, 'a record written on the master must appear on the replicant, and a write on the replicant must fail read-only'],
  };
  return BDB_STEP_IDS.map((id) => ({ id, applies: reasons[id][0], reason: reasons[id][1] }));
}

function describeBdbPlan(plan: BdbReplicantPlan): { summary: string[]; tables: FleetTable[] } {
  const control = (s: BdbSite) => (s.service.kind === 'local' ? 'local (db5.3_replicate)' : `command: ${s.service.start}`);
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `backup into:  ${plan.backupDir}`,
      `network:      ${plan.network.trusted ? 'trusted' : 'not stated as trusted: the run waits for approval'}`,
    ],
    tables: [
      {
        title: 'Sites (2)',
        columns: ['ROLE', 'ADDRESS', 'ENVIRONMENT', 'SERVICE'],
        rows: [plan.master, plan.replicant].map((s, i) => [i === 0 ? 'master' : 'replicant', `${s.host}:${s.port}`, s.envDir, control(s)]),
      },
    ],
  };
}

export const bdbPlanKind: PlanKind<BdbReplicantPlan> = {
  runbook: BDB_RUNBOOK,
  title: 'TapeTrack: turn a standalone Berkeley DB server into master + read-only replicant',
  parse: parseBdbPlan,
  steps: bdbPlanSteps,
  describe: describeBdbPlan,
};
