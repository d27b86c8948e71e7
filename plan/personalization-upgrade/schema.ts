// The Personalization Server upgrade plan (runbook `em-personalization-upgrade`): the file a DBA
// writes, its rules beyond types, and its normalization into UpgradePlan (plan/personalization-upgrade/types.ts).
// Two forms (DOMAIN.md §1): the simple fleet (a publisher and its subscribers, publishing Config and
// Data), and the branch-office form (a central Config publisher whose subscribers are branch
// databases, each branch publishing its own Data to a recovery database).
import path from 'node:path';
import { z } from 'zod';
import type { FleetTable, PlanKind } from '../kind.js';
import {
  formatPath,
  parsePlanSource,
  whenMissing,
  type PathSegment,
  type RuleViolation,
  type SourceResult,
} from '../source.js';
import { DEFAULT_EXPECTED_RUN_HOURS, DEFAULT_SNAPSHOT_TIMEOUT_MINUTES, planSteps } from './steps.js';
import { didYouMean } from '../suggest.js';
import { retryOptions, wholeNumber } from '../options-schema.js';
import { literalCredential } from '../template-secrets.js';
import { normalizeServerName } from './fleet-identity.js';
import { describeNotify, notifySchema } from '../notify.js';
import {
  UPGRADE_STEP_IDS,
  distributorOf,
  publishingSites,
  type Publication,
  type ScriptFiles,
  type Site,
  type UpgradePlan,
} from './types.js';
import { compareVersions, parseVersion } from '../version.js';
import { sqlServerCell } from '../sql-server-cell.js';
import { parseWindowTime, windowProblem, describeWindow } from '../window.js';
import { ANYONE_ONCE, defaultStarterMayApprove, describeGate, samePerson, type GatePolicy } from '../approval.js';
import { SCRIPT_VARIABLE_PLACEHOLDERS, unknownPlaceholders } from '../../activities/sqlcmd/variables.js';
import { targetCell } from '../target-cell.js';
import { sqlServerEdition } from '../edition.js';

export const UPGRADE_RUNBOOK = 'em-personalization-upgrade';
/** The database name the Personalization Server installer proposes (seed 000, SetMasterUp prompt). */
export const DEFAULT_DATABASE = 'PersonalizationServer';
/** SQL Server's default distribution database name, on the distributor (the publisher unless given). */
export const DEFAULT_DISTRIBUTION_DATABASE = 'distribution';
/** The vendor's file names in its Replication folder (DOMAIN.md §1, vendor script names). */
export const VENDOR_SCRIPT_FILES = {
  createConfigPublication: 'CreateConfigPublication.sql',
  createDataPublication: 'CreateDataPublication.sql',
  createConfigSubscription: 'CreateConfigSubscription.sql',
  createDataSubscription: 'CreateDataSubscription.sql',
  convertRowGuids: 'ConvertRowGuids.sql',
} as const satisfies ScriptFiles;
/** The Windows account references a worker uses for NTLM when a plan names none (activities/sqlserver/adapter.ts). */
export const DEFAULT_WINDOWS_ACCOUNT = {
  user: 'env:REPLUP_WINDOWS_USER',
  password: 'env:REPLUP_WINDOWS_PASSWORD',
} as const;
/** What the worker fills in host command templates. */
export const HOST_PLACEHOLDERS = ['host', 'service', 'version'] as const;

const SERVER_FORMS = 'write HOST, HOST\\INSTANCE or HOST,PORT (e.g. SQL01, SQL01\\PERSONALIZATION, SQL01,1433)';
const HOST_NAME = /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?|\.|\(local\))$/;
// SQL Server instance names: at most 16 characters, a letter or _ first, then letters, digits, _, $ or #.
const INSTANCE_NAME = /^[A-Za-z_][A-Za-z0-9_$#]{0,15}$/;

/** What is wrong with a server name, or undefined when it is HOST, HOST\INSTANCE or HOST,PORT. */
export function serverNameProblem(server: string): string | undefined {
  const [, host = '', separator, rest = ''] = /^([^\\,]*)([\\,]?)(.*)$/s.exec(server) ?? [];
  if (!HOST_NAME.test(host)) return `"${server}" is not a SQL Server name: ${SERVER_FORMS}`;
  if (separator === '\\' && !INSTANCE_NAME.test(rest)) {
    return (
      `"${rest}" is not a SQL Server instance name (at most 16 letters, digits, _, $ or #, starting with a ` +
      `letter or _): ${SERVER_FORMS}`
    );
  }
  if (separator === ',' && !(/^\d{1,5}$/.test(rest) && Number(rest) >= 1 && Number(rest) <= 65535)) {
    return `"${rest}" is not a TCP port: give a number from 1 to 65535, as in ${host},1433`;
  }
  return undefined;
}

/** Adds a custom issue when `problem` finds one. */
function check<T>(problem: (value: T) => string | undefined) {
  return (value: T, ctx: z.RefinementCtx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  };
}

/** YAML reads `8.2` as a number: say so and show the text to write instead. */
function versionWrittenAsNumber(input: unknown): string | undefined {
  if (typeof input !== 'number') return undefined;
  const parts = String(input).split('.');
  while (parts.length < 4) parts.push('0');
  return `YAML reads ${input} as a number: write the full version, e.g. ${parts.join('.')}`;
}

const productVersion = (hint: string) =>
  z
    .string(whenMissing(hint, versionWrittenAsNumber))
    .superRefine(
      check((v) =>
        /^\d+\.\d+\.\d+\.\d+$/.test(v) ? undefined : `"${v}" is not a 4-part product version such as 8.3.253.0`,
      ),
    );

const sqlServerVersion = z
  .string({ error: (issue) => versionWrittenAsNumber(issue.input) })
  .superRefine(
    check((v) =>
      /^\d+(\.\d+){1,3}$/.test(v)
        ? undefined
        : `"${v}" is not a SQL Server version such as 15.0.2000.5 (SERVERPROPERTY('ProductVersion'))`,
    ),
  );

// Spaces, a tcp: prefix and a trailing dot are dropped first (plan/personalization-upgrade/fleet-identity.ts), so every
// spelling of one server reaches the run, the workflow id and the reports the same way.
const serverName = z.preprocess(
  (v) => (typeof v === 'string' ? normalizeServerName(v) : v),
  z
    .string(whenMissing('the SQL Server, written HOST, HOST\\INSTANCE or HOST,PORT'))
    .superRefine(check(serverNameProblem)),
);

// Any character SQL Server allows in a database name (spaces, ], quotes, non-ASCII) is accepted:
// everything downstream quotes identifiers. A number is a valid name too (YAML reads 2024 as one).
const databaseName = z.preprocess(
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().min(1).max(128, { error: "must be at most 128 characters (SQL Server's sysname)" }),
);

const hostName = z
  .string()
  .superRefine(
    check((v) =>
      HOST_NAME.test(v) && v !== '.' && v !== '(local)'
        ? undefined
        : `"${v}" is not a host name: personalization servers are listed by host name, e.g. ps01.corp.example`,
    ),
  );

const siteFields = {
  server: serverName,
  database: databaseName.default(DEFAULT_DATABASE),
  personalizationServers: z.array(hostName).default([]),
  sqlVersion: sqlServerVersion.optional(),
  edition: sqlServerEdition.optional(),
};
const site = (hint?: string) => z.strictObject(siteFields, hint === undefined ? undefined : whenMissing(hint));
const branch = z.strictObject({
  ...siteFields,
  // A branch publishes its Data to its recovery database and distributes it itself unless this
  // names another distributor (vendor seed 000: SetMasterUp sets up "the distributer and the master").
  distributor: z
    .strictObject({ server: serverName, database: databaseName.default(DEFAULT_DISTRIBUTION_DATABASE) })
    .optional(),
  recovery: site(
    "the branch's recovery database, to which it publishes its Data: server, database, personalizationServers",
  ),
});

/** Whose login a reference holds: a SQL Server login, or the Windows account for NTLM. */
type Account = 'sql' | 'windows';

const passwordRefused = (account: Account) =>
  `a password must not be written in the plan (the plan travels in workflow history): put it in an ` +
  `environment variable of the worker and write password: env:REPLUP_${account.toUpperCase()}_PASSWORD, or ` +
  `in a file only the worker can read and write password: file:/etc/replup/${account}-password`;

/** `env:NAME` or `file:PATH`, resolved by the worker when an activity connects (ARCHITECTURE.md, data flow). */
function referenceProblem(field: 'user' | 'password', value: string, account: Account): string | undefined {
  const reference = /^(env|file):(.*)$/s.exec(value);
  if (!reference) {
    if (field === 'password') return passwordRefused(account);
    return account === 'sql'
      ? 'write the login as a reference the worker resolves: user: env:REPLUP_SQL_USER or user: ' +
          'file:/etc/replup/sql-user'
      : 'write the Windows account (DOMAIN\\user) as a reference the worker resolves: user: ' +
          'env:REPLUP_WINDOWS_USER or user: file:/etc/replup/windows-user';
  }
  const [, scheme, name = ''] = reference;
  if (scheme === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return (
      `"${name}" is not an environment variable name: use letters, digits and _, e.g. env:REPLUP_` +
      `${account.toUpperCase()}_${field.toUpperCase()}`
    );
  }
  if (scheme === 'file' && name === '')
    return `file: needs the path of the file that holds the ${field}, e.g. file:/etc/replup/${account}-${field}`;
  return undefined;
}

const reference = (field: 'user' | 'password', account: Account = 'sql') =>
  z
    .string(
      // Never echo what was written in place of a password, whatever its type.
      whenMissing(
        `write ${field}: env:REPLUP_${account.toUpperCase()}_${field.toUpperCase()} or ${field}: file:PATH`,
        () => (field === 'password' ? passwordRefused(account) : undefined),
      ),
    )
    .superRefine(check((v: string) => referenceProblem(field, v, account)));

// verify-replication's canary: the change is found again by the unique token the run binds to @token.
const canaryQuery = (which: 'write' | 'read', example: string) =>
  z
    .string(whenMissing(`the ${which} query of the canary, with @token, e.g. ${which}: ${example}`))
    .min(1)
    .superRefine(
      check((v) =>
        /@token\b/i.test(v)
          ? undefined
          : `the canary ${which} query must use @token (the unique text replup binds for each run), or it ` +
            `cannot tell this run's change from an old one; e.g. ${which}: ${example}`,
      ),
    );
export const CANARY_WRITE_EXAMPLE = 'UPDATE dbo.SomeReplicatedTable SET Note = @token WHERE Id = 1';
export const CANARY_READ_EXAMPLE = 'SELECT 1 FROM dbo.SomeReplicatedTable WHERE Note = @token';

export const credentials = z
  .union([z.literal('windows'), z.strictObject({ user: reference('user'), password: reference('password') })], {
    error: (issue) =>
      `write credentials: windows (the worker's Windows account), or a mapping with user: env:NAME and ` +
      `password: env:NAME${typeof issue.input === 'string' ? didYouMean(issue.input, ['windows']) : ''}`,
  })
  .default('windows');

const commandTemplate = z
  .string()
  .min(1)
  .superRefine(
    check((v) => {
      // Only {word} is a placeholder, so PowerShell blocks such as { Stop-WebAppPool ... } pass.
      for (const [, name = ''] of v.matchAll(/\{([A-Za-z_]\w*)\}/g)) {
        if (!(HOST_PLACEHOLDERS as readonly string[]).includes(name)) {
          return (
            `unknown placeholder {${name}}: the worker fills {host}, {service} and {version}` +
            `${didYouMean(name, HOST_PLACEHOLDERS)}`
          );
        }
      }
      // Secrets only as {env:NAME} / {file:PATH}, resolved by the worker (plan/template-secrets.ts).
      return literalCredential(v);
    }),
  );

const stepId = z
  .string()
  .superRefine(
    check((v) =>
      (UPGRADE_STEP_IDS as readonly string[]).includes(v)
        ? undefined
        : `"${v}" is not a step of this runbook; the steps are ${UPGRADE_STEP_IDS.join(', ')}` +
          `${didYouMean(v, UPGRADE_STEP_IDS)}`,
    ),
  );

// A gate: a step id alone (one approval from anyone), or who may approve and how many must (#23).
const approvalGate = z.union([
  stepId,
  z.strictObject({
    gate: stepId,
    approvers: z
      .array(z.string().trim().min(1, { error: 'an approver is a name, e.g. alice' }))
      .min(1, { error: 'name at least one approver, or leave approvers out (then anyone may approve)' })
      .optional(),
    minApprovals: wholeNumber(1, 'how many different people must approve').optional(),
    starterMayApprove: z.boolean().optional(),
  }),
]);

// An instant of the maintenance window: ISO 8601 with an offset (plan/window.ts).
const windowTime = (what: string) =>
  z.string().superRefine(
    check((v: string) => {
      const r = parseWindowTime(v, what);
      return r.ok ? undefined : r.message;
    }),
  );

const scriptFile = z.string().min(1);

export const upgradePlanSchema = z.strictObject({
  name: z.string(whenMissing('a name for this upgrade, e.g. name: emea-fleet')).min(1),
  runbook: z.literal(UPGRADE_RUNBOOK),
  from: productVersion('the version the fleet runs now, e.g. from: 8.2.0.0'),
  to: productVersion('the version to upgrade to, e.g. to: 10.4.0.0'),
  target: z.discriminatedUnion(
    'kind',
    [
      z.strictObject({
        kind: z.literal('lab'),
        state: z.string(whenMissing('the lab state file, e.g. state: ../.replup/labs/fleet.json')).min(1),
      }),
      z.strictObject({
        kind: z.literal('sqlserver'),
        canary: z
          .strictObject(
            { write: canaryQuery('write', CANARY_WRITE_EXAMPLE), read: canaryQuery('read', CANARY_READ_EXAMPLE) },
            whenMissing(
              'the canary queries of verify-replication: write: (runs at each publisher) and read: (runs at ' +
                'each subscriber), both with @token',
            ),
          )
          .optional(),
        windowsAccount: z
          .strictObject(
            { user: reference('user', 'windows'), password: reference('password', 'windows') },
            whenMissing(
              'the Windows account for NTLM: user: env:REPLUP_WINDOWS_USER (DOMAIN\\user) and password: ' +
                'env:REPLUP_WINDOWS_PASSWORD',
            ),
          )
          .optional(),
      }),
    ],
    whenMissing('kind: lab (the simulated fleet, with state: FILE) or kind: sqlserver (a real fleet)'),
  ),
  publisher: site(
    'the publisher (in the branch-office form, the central Config publisher): server, database, personalizationServers',
  ),
  distributor: z
    .strictObject({ server: serverName, database: databaseName.default(DEFAULT_DISTRIBUTION_DATABASE) })
    .optional(),
  subscribers: z.array(site()).default([]),
  branches: z.array(branch).default([]),
  publications: z
    .array(z.enum(['Config', 'Data']))
    .min(1)
    .superRefine((list, ctx) => {
      list.forEach((name, index) => {
        if (list.indexOf(name) !== index)
          ctx.addIssue({ code: 'custom', path: [index], message: `"${name}" is listed twice`, input: name });
      });
    })
    .optional(),
  scripts: z.strictObject(
    {
      dir: z.string(whenMissing("the vendor's Replication folder for the target version")).min(1),
      files: z
        .strictObject({
          createConfigPublication: scriptFile.default(VENDOR_SCRIPT_FILES.createConfigPublication),
          createDataPublication: scriptFile.default(VENDOR_SCRIPT_FILES.createDataPublication),
          createConfigSubscription: scriptFile.default(VENDOR_SCRIPT_FILES.createConfigSubscription),
          createDataSubscription: scriptFile.default(VENDOR_SCRIPT_FILES.createDataSubscription),
          convertRowGuids: scriptFile.default(VENDOR_SCRIPT_FILES.convertRowGuids),
          removeReplication: scriptFile.optional(),
        })
        .prefault({}),
      // The vendor scripts' own variable names → values built from the fleet (activities/sqlcmd/variables.ts);
      // default: the names of replup's example scripts.
      variables: z
        .record(
          z.string(),
          z.string().superRefine((template, ctx) => {
            for (const p of unknownPlaceholders(template)) {
              ctx.addIssue({
                code: 'custom',
                message:
                  `unknown placeholder {${p}}: use ` +
                  `${SCRIPT_VARIABLE_PLACEHOLDERS.map((x) => `{${x}}`).join(', ')}`,
                input: template,
              });
            }
          }),
        )
        // Checked here rather than as the record's key schema, so the message names the key.
        .superRefine((record, ctx) => {
          for (const name of Object.keys(record).filter((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `'${name}' is not a sqlcmd variable name: letters, digits and '_', not starting with a digit`,
              input: name,
            });
          }
        })
        .optional(),
      // What a script does after a failed batch before its own `:on error` line; default exit (sqlcmd -b).
      onError: z.enum(['exit', 'ignore']).optional(),
    },
    whenMissing(
      "scripts: dir: the vendor's Replication folder for the target version (…\\Support\\Replication\\<version>)",
    ),
  ),
  credentials,
  hosts: z
    .strictObject({
      drain: commandTemplate.optional(),
      undrain: commandTemplate.optional(),
      stopService: commandTemplate.optional(),
      startService: commandTemplate.optional(),
      upgrade: commandTemplate.default('manual'),
    })
    .prefault({}),
  backup: z
    .strictObject({
      dir: z.string().min(1).optional(),
      copyOnly: z
        .literal(true, {
          error:
            "replup only takes copy-only backups, so the fleet's own backup chain stays intact: remove " +
            'copyOnly or set it to true',
        })
        .default(true),
    })
    .prefault({}),
  versionQuery: z.string().min(1).optional(),
  // Who hears that a run needs a person or has ended (plan/notify.ts).
  notify: notifySchema.optional(),
  options: z
    .strictObject({
      maxParallel: wholeNumber(1, 'how many subscribers are worked on at the same time').default(4),
      sync: z
        .strictObject({
          quietRounds: wholeNumber(1, 'how many rounds in a row must move no rows').default(2),
          maxRounds: wholeNumber(1, 'how many rounds to try before asking an operator').default(10),
        })
        .prefault({}),
      approvals: z.array(approvalGate).default(['remove-replication']),
      window: z
        .strictObject({ at: windowTime('at').optional(), notAfter: windowTime('notAfter').optional() })
        .optional(),
      drainTimeoutSeconds: wholeNumber(0, 'how long to wait for users to disconnect').default(600),
      childWorkflowThreshold: wholeNumber(
        1,
        'the subscriber count from which subscribers run in child workflows',
      ).default(50),
      expectedRunHours: z
        .number()
        .positive({ error: 'must be more than 0: how many hours the run is expected to take' })
        .default(DEFAULT_EXPECTED_RUN_HOURS),
      snapshotTimeoutMinutes: wholeNumber(1, "how long to wait for a publication's snapshot").default(
        DEFAULT_SNAPSHOT_TIMEOUT_MINUTES,
      ),
      retry: retryOptions('how many times a transient error is retried before the step parks'),
    })
    .prefault({}),
});

export type UpgradePlanInput = z.output<typeof upgradePlanSchema>;

// ---- Rules beyond types. They read the raw document so that they report with the type errors.

type Raw = Record<string, unknown>;
const asRecord = (v: unknown): Raw | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : undefined;
const asText = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

interface RawSite {
  path: PathSegment[];
  label: string;
  server?: string;
  database: string;
  sqlVersion?: string;
  edition?: string;
  /** Paths of the sites it subscribes to. */
  publishers: PathSegment[][];
}

function rawSite(value: unknown, sitePath: PathSegment[], label: string, publishers: PathSegment[][]): RawSite {
  const record = asRecord(value) ?? {};
  const database = typeof record.database === 'number' ? String(record.database) : asText(record.database);
  return {
    path: sitePath,
    label,
    server: asText(record.server),
    database: database ?? DEFAULT_DATABASE,
    sqlVersion: asText(record.sqlVersion),
    edition: asText(record.edition),
    publishers,
  };
}

function rawSites(plan: Raw): RawSite[] {
  const central: PathSegment[] = ['publisher'];
  const sites = [rawSite(plan.publisher, central, 'the publisher', [])];
  asList(plan.subscribers).forEach((s, i) => sites.push(rawSite(s, ['subscribers', i], 'a subscriber', [central])));
  asList(plan.branches).forEach((b, i) => {
    const branchPath: PathSegment[] = ['branches', i];
    sites.push(rawSite(b, branchPath, 'a branch (it publishes its Data to its recovery database)', [central]));
    // Recovery databases also subscribe to the central Config publication (seed 000, branch office steps).
    sites.push(
      rawSite(asRecord(b)?.recovery, [...branchPath, 'recovery'], 'a recovery database', [branchPath, central]),
    );
  });
  return sites;
}

// Server names are host names (case-insensitive); database names follow the server's default,
// case-insensitive collation.
const siteKey = (s: RawSite) => `${s.server?.toLowerCase()}/${s.database.toLowerCase()}`;

export function upgradePlanRules(raw: unknown): RuleViolation[] {
  const plan = asRecord(raw);
  if (!plan) return [];
  // In the order they report.
  const rules = [
    versionOrder,
    fleetRulesOf,
    backupDirectory,
    sqlServerSettings,
    syncRounds,
    approvalGates,
    maintenanceWindow,
  ];
  return rules.flatMap((rule) => rule(plan));
}

/**
 * The fleet's own rules (subscribers present, Express cannot publish, a publisher at least its
 * subscribers' SQL Server version, each database once): what another runbook over the same fleet
 * sections (plan/setup-replication) checks too.
 */
export function fleetRules(raw: unknown): RuleViolation[] {
  const plan = asRecord(raw);
  return plan ? fleetRulesOf(plan) : [];
}

function fleetRulesOf(plan: Raw): RuleViolation[] {
  const sites = rawSites(plan);
  return [
    ...subscribersPresent(plan),
    ...subscriberCount(sites),
    ...expressCannotPublish(sites),
    ...publisherRunsHighestSqlVersion(sites),
    ...eachDatabaseOnce(sites),
    ...centralDataHasSubscribers(plan),
  ];
}

function versionOrder(plan: Raw): RuleViolation[] {
  const from = asText(plan.from);
  const to = asText(plan.to);
  if (!from || !to || !parseVersion(from) || !parseVersion(to)) return [];
  const order = compareVersions(to, from);
  if (order > 0) return [];
  return [
    {
      path: ['to'],
      message:
        order === 0
          ? `to is the same version as from (${from}): there is nothing to upgrade; to is the version after the upgrade`
          : `to (${to}) is earlier than from (${from}): from is the version the fleet runs now and to the one ` +
            `it is upgraded to; swap them if they are reversed`,
    },
  ];
}

/**
 * The most subscriber databases one run takes. The plan travels as the workflow's input, which
 * Temporal caps at 2 MB per request (https://docs.temporal.io/troubleshooting/blob-size-limit-error);
 * measured, a subscriber with long names adds about 380 bytes, so 2,000 are about 0.8 MB, with
 * room to spare; runs of 1,000 are what the scale tests and the bench exercise.
 */
export const MAX_SUBSCRIBERS = 2_000;

function subscriberCount(sites: RawSite[]): RuleViolation[] {
  const n = sites.length - 1;
  if (n <= MAX_SUBSCRIBERS) return [];
  return [
    {
      path: ['subscribers'],
      message:
        `the plan lists ${n.toLocaleString('en-US')} subscriber databases; one run takes at most ` +
        `${MAX_SUBSCRIBERS.toLocaleString('en-US')} (the plan travels in the workflow's input, which Temporal ` +
        `caps at 2 MB): split the fleet into several plans and run them one after another`,
    },
  ];
}

function subscribersPresent(plan: Raw): RuleViolation[] {
  if (asList(plan.subscribers).length > 0 || asList(plan.branches).length > 0) return [];
  return [
    {
      path: ['subscribers'],
      message:
        'the plan has no subscribers: list the subscriber databases under subscribers (or under branches, ' +
        'for the branch-office form)',
    },
  ];
}

// "SQL Express can only subscribe" (DOMAIN.md §1, rules the documents state).
function expressCannotPublish(sites: RawSite[]): RuleViolation[] {
  const publishing = new Set(sites.flatMap((s) => s.publishers.map((p) => formatPath(p))));
  return sites
    .filter((s) => publishing.has(formatPath(s.path)) && s.edition && /express/i.test(s.edition))
    .map((s) => ({
      path: [...s.path, 'edition'],
      message:
        `SQL Server ${s.edition} cannot publish, it can only subscribe: this is ${s.label}; run it on Standard ` +
        `or Enterprise edition`,
    }));
}

// "The publisher must run the highest SQL Server version in the fleet" (DOMAIN.md §1); in the
// branch-office form each publishing database must be equal or later than its subscribers.
function publisherRunsHighestSqlVersion(sites: RawSite[]): RuleViolation[] {
  const byPath = new Map(sites.map((s) => [formatPath(s.path), s]));
  const violations: RuleViolation[] = [];
  for (const subscriber of sites) {
    if (!subscriber.sqlVersion || !parseVersion(subscriber.sqlVersion)) continue;
    for (const publisherPath of subscriber.publishers) {
      const publisher = byPath.get(formatPath(publisherPath));
      if (!publisher?.sqlVersion || !parseVersion(publisher.sqlVersion)) continue;
      if (compareVersions(subscriber.sqlVersion, publisher.sqlVersion) <= 0) continue;
      violations.push({
        path: [...subscriber.path, 'sqlVersion'],
        message:
          `SQL Server ${subscriber.sqlVersion} is newer than its publisher's ${publisher.sqlVersion} (` +
          `${formatPath(publisherPath)}.sqlVersion): a publisher must run the highest SQL Server version of ` +
          `the databases it replicates with; upgrade the publisher's SQL Server first, or correct the version`,
      });
    }
  }
  return violations;
}

function eachDatabaseOnce(sites: RawSite[]): RuleViolation[] {
  const firstSeen = new Map<string, RawSite>();
  const byPath = new Map(sites.map((s) => [formatPath(s.path), s]));
  const violations: RuleViolation[] = [];
  for (const s of sites) {
    if (s.server === undefined) continue;
    const key = siteKey(s);
    const ownPublisher = s.publishers
      .map((p) => byPath.get(formatPath(p)))
      .find((p) => p && p.server !== undefined && siteKey(p) === key);
    const earlier = firstSeen.get(key);
    if (ownPublisher) {
      violations.push({
        path: [...s.path, 'server'],
        message:
          `${s.server}/${s.database} is the database of its own publisher (${formatPath(ownPublisher.path)}): ` +
          `a database cannot subscribe to its own publication; give this subscriber its own server or database`,
      });
    } else if (earlier) {
      violations.push({
        path: [...s.path, 'server'],
        message:
          `${s.server}/${s.database} is already in the plan at ${formatPath(earlier.path)}: each ` +
          `server/database pair appears once; a second database on the same server needs its own database name`,
      });
    }
    if (!earlier) firstSeen.set(key, s);
  }
  return violations;
}

function centralDataHasSubscribers(plan: Raw): RuleViolation[] {
  const publications = asList(plan.publications);
  const dataIndex = publications.indexOf('Data');
  if (asList(plan.branches).length === 0 || asList(plan.subscribers).length > 0 || dataIndex < 0) return [];
  return [
    {
      path: ['publications', dataIndex],
      message:
        "the central publisher's Data publication has no subscribers: in the branch-office form each branch " +
        'publishes its own Data to its recovery database; remove Data here, or list subscribers',
    },
  ];
}

const isAbsoluteOnAnyOs = (p: string) => path.posix.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');

function backupDirectory(plan: Raw): RuleViolation[] {
  if (asRecord(plan.target)?.kind !== 'sqlserver') return [];
  const dir = asRecord(plan.backup)?.dir;
  // SQL Server writes BACKUP DATABASE … TO DISK files itself, on its own machine.
  if (dir === undefined) {
    return [
      {
        path: ['backup', 'dir'],
        message:
          'a sqlserver target needs backup.dir: the folder on the SQL Server machines where the copy-only ' +
          'backups are written, e.g. D:\\Backups\\replup',
      },
    ];
  }
  if (typeof dir === 'string' && dir !== '' && !isAbsoluteOnAnyOs(dir)) {
    return [
      {
        path: ['backup', 'dir'],
        message:
          `"${dir}" is relative: for a sqlserver target, backup.dir is a folder on the SQL Server machines ` +
          `(SQL Server writes the files itself); give an absolute path such as D:\\Backups\\replup`,
      },
    ];
  }
  return [];
}

// A real fleet needs what replup cannot guess, before anything changes: the product's version query
// (the upgrade step, which cannot be skipped, reads it) and the canary (verify-replication).
function sqlServerSettings(plan: Raw): RuleViolation[] {
  const target = asRecord(plan.target);
  if (target?.kind !== 'sqlserver') return [];
  const violations: RuleViolation[] = [];
  if (plan.versionQuery === undefined) {
    violations.push({
      path: ['versionQuery'],
      message:
        "a sqlserver target needs versionQuery: the query that returns a database's Personalization Server " +
        'version (vendor specific; the upgrade step checks every database with it), e.g. versionQuery: ' +
        'SELECT TOP (1) Version FROM dbo.<the table where your product records its schema version>',
    });
  }
  if (target.canary === undefined) {
    violations.push({
      path: ['target'],
      at: 'key',
      message:
        `a sqlserver target needs canary: { write, read }: T-SQL with @token that changes a row of a ` +
        `replicated table at each publisher and finds it at each subscriber (verify-replication), e.g. canary: ` +
        `{ write: "${CANARY_WRITE_EXAMPLE}", read: "${CANARY_READ_EXAMPLE}" }`,
    });
  }
  if (target.windowsAccount !== undefined && plan.credentials !== undefined && plan.credentials !== 'windows') {
    violations.push({
      path: ['target', 'windowsAccount'],
      at: 'key',
      message:
        'windowsAccount is the Windows account for credentials: windows, but this plan logs in with a SQL ' +
        'login (credentials.user): remove windowsAccount, or write credentials: windows',
    });
  }
  return violations;
}

function syncRounds(plan: Raw): RuleViolation[] {
  const sync = asRecord(asRecord(plan.options)?.sync);
  const quiet = sync?.quietRounds ?? 2;
  const max = sync?.maxRounds ?? 10;
  if (typeof quiet !== 'number' || typeof max !== 'number' || max >= quiet) return [];
  return [
    {
      path: ['options', 'sync', sync?.maxRounds === undefined ? 'quietRounds' : 'maxRounds'],
      message:
        `maxRounds (${max}) is less than quietRounds (${quiet}): the sync could never see ${quiet} quiet ` +
        `rounds in a row; raise maxRounds to at least ${quiet}`,
    },
  ];
}

// Each gate once; enough approvers for minApprovals, each named once.
function approvalGates(plan: Raw): RuleViolation[] {
  const violations: RuleViolation[] = [];
  const seen = new Set<string>();
  asList(asRecord(plan.options)?.approvals).forEach((entry, i) => {
    const gate = asText(entry) ?? asText(asRecord(entry)?.gate);
    if (gate !== undefined && seen.has(gate))
      violations.push({
        path: ['options', 'approvals', i],
        message: `gate ${gate} is listed twice: give it once, with its approvers`,
      });
    if (gate !== undefined) seen.add(gate);
    const record = asRecord(entry);
    const approvers = asList(record?.approvers).filter((a): a is string => typeof a === 'string');
    approvers.forEach((name, j) => {
      if (approvers.findIndex((x) => samePerson(x, name)) !== j)
        violations.push({
          path: ['options', 'approvals', i, 'approvers', j],
          message: `"${name}" is named twice: each approval must come from a different person`,
        });
    });
    const min = record?.minApprovals;
    if (record?.approvers !== undefined && typeof min === 'number' && approvers.length > 0 && min > approvers.length) {
      violations.push({
        path: ['options', 'approvals', i, 'minApprovals'],
        message:
          `minApprovals is ${min} but only ${approvers.length} approver` +
          `${approvers.length === 1 ? ' is' : 's are'} named (${approvers.join(', ')}): the gate could never ` +
          `open; name more approvers or lower minApprovals`,
      });
    }
  });
  return violations;
}

function maintenanceWindow(plan: Raw): RuleViolation[] {
  const w = asRecord(asRecord(plan.options)?.window);
  const at = asText(w?.at);
  const notAfter = asText(w?.notAfter);
  if (at === undefined || notAfter === undefined) return [];
  const a = parseWindowTime(at, 'at');
  const b = parseWindowTime(notAfter, 'notAfter');
  if (!a.ok || !b.ok) return [];
  const problem = windowProblem({ at: a.iso, notAfter: b.iso });
  return problem ? [{ path: ['options', 'window', problem.field], message: problem.message }] : [];
}

// ---- Normalization into UpgradePlan.

/** A relative path in the plan is relative to the plan file's folder; Windows paths are kept as written. */
function resolveFrom(planFolder: string, p: string): string {
  return isAbsoluteOnAnyOs(p) ? p : path.resolve(planFolder, p);
}

type SiteInput = UpgradePlanInput['publisher'];

function toSite(input: SiteInput, role: Site['role']): Site {
  return {
    key: `${input.server}/${input.database}`,
    server: input.server,
    database: input.database,
    role,
    personalizationServers: input.personalizationServers,
    ...(input.sqlVersion !== undefined && { sqlVersion: input.sqlVersion }),
    ...(input.edition !== undefined && { edition: input.edition }),
  };
}

/** Normalizes a valid plan: defaults filled in, sites keyed, publications spelled out, paths absolute. */
export function toUpgradePlan(input: UpgradePlanInput, planFolder: string): UpgradePlan {
  const distributor = input.distributor ?? { server: input.publisher.server, database: DEFAULT_DISTRIBUTION_DATABASE };
  const publisher: Site = { ...toSite(input.publisher, 'publisher'), distributor };
  const subscribers = input.subscribers.map((s) => toSite(s, 'subscriber'));
  const branches = input.branches.map((b) => ({
    branch: {
      ...toSite(b, 'publisher-subscriber'),
      distributor: b.distributor ?? { server: b.server, database: DEFAULT_DISTRIBUTION_DATABASE },
    },
    recovery: toSite(b.recovery, 'subscriber'),
  }));
  // The branch-office form's central database is a Config master (seed 000, branch office scenario).
  const centralKinds = input.publications ?? (branches.length > 0 ? ['Config'] : ['Config', 'Data']);
  const configSubscribers = [...subscribers, ...branches.flatMap((b) => [b.branch, b.recovery])];
  const publications: Publication[] = [
    ...centralKinds.map((kind) => ({
      name: kind,
      kind,
      publisher: publisher.key,
      subscribers: (kind === 'Config' ? configSubscribers : subscribers).map((s) => s.key),
    })),
    ...branches.map((b): Publication => ({
      name: 'Data',
      kind: 'Data',
      publisher: b.branch.key,
      subscribers: [b.recovery.key],
    })),
  ];
  const target =
    input.target.kind === 'lab'
      ? { kind: 'lab' as const, state: resolveFrom(planFolder, input.target.state) }
      : input.target;
  let backupDir: string;
  if (input.backup.dir !== undefined) backupDir = resolveFrom(planFolder, input.backup.dir);
  // A lab's backups sit next to its state file, one folder per lab.
  else if (target.kind === 'lab')
    backupDir = path.join(
      path.dirname(target.state),
      `${path.basename(target.state, path.extname(target.state))}-backups`,
    );
  else throw new Error('internal: a sqlserver plan without backup.dir passed validation');
  const { drain, undrain, stopService, startService, upgrade } = input.hosts;
  return {
    name: input.name,
    runbook: input.runbook,
    from: input.from,
    to: input.to,
    target,
    publisher,
    distributor,
    sites: [publisher, ...configSubscribers],
    publications,
    scripts: {
      dir: resolveFrom(planFolder, input.scripts.dir),
      files: input.scripts.files,
      ...(input.scripts.variables !== undefined && { variables: input.scripts.variables }),
      ...(input.scripts.onError !== undefined && { onError: input.scripts.onError }),
    },
    credentials: input.credentials === 'windows' ? { kind: 'windows' } : { kind: 'sql', ...input.credentials },
    hosts: {
      ...(drain !== undefined && { drain }),
      ...(undrain !== undefined && { undrain }),
      ...(stopService !== undefined && { stopService }),
      ...(startService !== undefined && { startService }),
      upgrade,
    },
    backup: { dir: backupDir, copyOnly: true },
    ...(input.versionQuery !== undefined && { versionQuery: input.versionQuery }),
    ...(input.notify !== undefined && { notify: input.notify }),
    options: normalizeOptions(input.options),
  };
}

/**
 * `approvals` stays the list of gate ids (what the workflow and older histories read); who may
 * approve goes to `gates`, only for gates that say more than a step id, so plans written before
 * #23 normalize (and replay) as they did. Window times become UTC instants.
 */
function normalizeOptions(options: UpgradePlanInput['options']): UpgradePlan['options'] {
  const { approvals, window, ...rest } = options;
  const gates: Record<string, GatePolicy> = {};
  for (const a of approvals) {
    if (typeof a === 'string') continue;
    gates[a.gate] = {
      ...(a.approvers !== undefined && { approvers: a.approvers }),
      minApprovals: a.minApprovals ?? 1,
      starterMayApprove: a.starterMayApprove ?? defaultStarterMayApprove(a.gate, a.approvers),
    };
  }
  const iso = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const r = parseWindowTime(v, what);
    if (!r.ok) throw new Error(`internal: ${r.message} passed validation`);
    return r.iso;
  };
  const at = iso(window?.at, 'at');
  const notAfter = iso(window?.notAfter, 'notAfter');
  return {
    ...rest,
    approvals: [...new Set(approvals.map((a) => (typeof a === 'string' ? a : a.gate)))],
    ...(Object.keys(gates).length > 0 && { gates }),
    ...((at !== undefined || notAfter !== undefined) && {
      window: { ...(at !== undefined && { at }), ...(notAfter !== undefined && { notAfter }) },
    }),
  };
}

/** Validates and normalizes the text of an upgrade plan; `file` is its path (for relative paths). */
export function parseUpgradePlan(text: string, file: string): SourceResult<UpgradePlan> {
  const result = parsePlanSource(text, upgradePlanSchema, upgradePlanRules);
  return result.ok ? { ok: true, value: toUpgradePlan(result.value, path.dirname(path.resolve(file))) } : result;
}

function describeUpgradePlan(plan: UpgradePlan): { summary: string[]; tables: FleetTable[] } {
  const credentials =
    plan.credentials.kind === 'windows'
      ? windowsCredentials(plan)
      : `sql (user ${plan.credentials.user}, password ${plan.credentials.password})`;
  const subscriptions = plan.publications.flatMap((p) => p.subscribers.map((s) => [p.name, p.publisher, s]));
  const approvals = plan.options.approvals.map((g) => describeGate(g, plan.options.gates?.[g] ?? ANYONE_ONCE));
  return {
    summary: [
      `plan:         ${plan.name} (${plan.runbook})`,
      `upgrade:      ${plan.from} → ${plan.to}`,
      `target:       ${targetCell(plan.target)}`,
      ...publishingSites(plan).map(
        (site, i) => `${i ? '              ' : 'distributor:  '}${distributorLine(plan, site)}`,
      ),
      `scripts:      ${plan.scripts.dir}`,
      `credentials:  ${credentials}`,
      `upgrade by:   ${plan.hosts.upgrade === 'manual' ? 'an operator (replup confirm)' : plan.hosts.upgrade}`,
      `approvals:    ${approvals.length > 0 ? approvals.join(', ') : 'none'}`,
      ...describeNotify(plan.notify),
      `window:       ${describeWindow(plan.options.window)}`,
    ],
    tables: [
      {
        title: `Sites (${plan.sites.length})`,
        columns: ['SITE', 'ROLE', 'PERSONALIZATION SERVERS', 'SQL SERVER'],
        rows: plan.sites.map((s) => [s.key, s.role, s.personalizationServers.join(', ') || '-', sqlServerCell(s)]),
      },
      {
        title: `Publications (${plan.publications.length})`,
        columns: ['PUBLICATION', 'PUBLISHER', 'SUBSCRIBERS'],
        rows: plan.publications.map((p) => [p.name, p.publisher, String(p.subscribers.length)]),
      },
      {
        title: `Subscriptions (${subscriptions.length})`,
        columns: ['PUBLICATION', 'PUBLISHER', 'SUBSCRIBER'],
        rows: subscriptions,
      },
    ],
  };
}

// In types.ts so that workflow code (which cannot load this module's node:path) reads them too.
export { distributorOf, publishingSites };

function distributorLine(plan: UpgradePlan, site: Site): string {
  const d = distributorOf(plan, site);
  return (
    `${d.server}/${d.database} (for ${site.key}` +
    `${d.server.toLowerCase() === site.server.toLowerCase() ? ': the site distributes for itself' : ''})`
  );
}

/** The NTLM account a Linux worker logs in with (the adapter's default when the plan names none). */
function windowsCredentials(plan: UpgradePlan): string {
  if (plan.target.kind !== 'sqlserver') return 'windows';
  const account = plan.target.windowsAccount ?? DEFAULT_WINDOWS_ACCOUNT;
  return (
    `windows (NTLM as ${account.user}, password ${account.password}` +
    `${plan.target.windowsAccount ? '' : ': the default'})`
  );
}

export const upgradePlanKind: PlanKind<UpgradePlan> = {
  runbook: UPGRADE_RUNBOOK,
  title: 'Environment Manager Personalization Server upgrade on SQL Server merge replication',
  parse: parseUpgradePlan,
  steps: planSteps,
  describe: describeUpgradePlan,
};
