// Bad input, as an operator would type it: every case gets a message that says what is wrong,
// where, and what to do, and leaves everything as it was. Two runs serve as the "before": one
// waiting at its approval gate, one parked at sync-until-quiet on conflicts. After each case the
// lab state files (byte for byte), both runs' progress and their history lengths are compared.
// Script problems start runs of their own: those must stop at preflight with the fleet untouched.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { initLab, readLabState, type LabState } from '../../activities/lab/index.js';
import * as sql from '../../activities/sqlserver/statements.js';
import { loadPlanFile } from '../../plan/load.js';
import type { UpgradePlan } from '../../plan/personalization-upgrade/types.js';
import { startUpgrade } from '../../cli/lib/runs.js';
import { main } from '../../cli/main.js';
import { freePort } from '../../worker/dev-server.js';
import { chaosPlan } from '../chaos/chaos.js';
import { connect, startWorker, uniqueQueue, waitFor } from './harness.js';

let env: TestWorkflowEnvironment;
let worker: Awaited<ReturnType<typeof startWorker>>;
let queue: string;
const root = mkdtempSync(join(tmpdir(), 'replup-bad-input-'));
const savedAddress = process.env.TEMPORAL_ADDRESS;

interface Fleet {
  plan: UpgradePlan;
  file: string;
  state: string;
  workflowId: string;
}
let gated: Fleet; // waits at the remove-replication approval gate
let parked: Fleet; // parked at sync-until-quiet: conflicts need a decision

async function fleet(
  name: string,
  patch: (doc: any) => void,
  init: Parameters<typeof initLab>[1] = {},
): Promise<Fleet> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const { plan, file } = await chaosPlan(dir, name, `${name.toUpperCase()}-${process.pid}`, patch);
  await initLab(plan, { seed: 3, rows: 10, ...init });
  const started = await startUpgrade(env.client, plan, 'bad-input-test', { taskQueue: queue });
  return { plan, file, state: (plan.target as { state: string }).state, workflowId: started.workflowId };
}

/** What must not change: lab files byte for byte, each run's progress and history length. */
async function everything() {
  const out: Record<string, unknown> = {};
  for (const f of [gated, parked]) {
    const handle = env.client.workflow.getHandle(f.workflowId);
    out[f.workflowId] = {
      lab: readFileSync(f.state, 'utf8'),
      progress: await handle.query('progress'),
      events: (await handle.fetchHistory()).events?.length,
    };
  }
  return out;
}

/** `replup <argv>` in this process, as a user runs it: exit code, stdout, stderr. */
async function replup(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = (s: string) => ((out += s), true);
  process.stderr.write = (s: string) => ((err += s), true);
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

beforeAll(async () => {
  env = await connect();
  process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
  queue = uniqueQueue('bad-input');
  worker = await startWorker(env, queue);
  gated = await fleet('gated', (doc) => (doc.options.approvals = ['remove-replication']));
  parked = await fleet('parked', () => {}, { conflicts: 2 });
  await waitFor(env.client, gated.workflowId, (p) => p.status === 'awaiting-approval');
  await waitFor(env.client, parked.workflowId, (p) => p.status === 'awaiting-operator');
});

afterAll(async () => {
  for (const f of [gated, parked])
    await env?.client.workflow
      .getHandle(f?.workflowId ?? '')
      .terminate('bad-input test done')
      .catch(() => undefined);
  await worker?.stop();
  await env?.teardown();
  if (savedAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
  else process.env.TEMPORAL_ADDRESS = savedAddress;
});

// ---- plan files: `replup start` refuses them, saying file:line:column, what and how -----------

/**
 * How a bad plan file is made from the gated fleet's: `[from, to]` replaces the first `from` (a RegExp's groups
 * as $1…), a function rewrites the whole text.
 */
type Edit = [from: string | RegExp, to: string] | ((yaml: string) => string);

/** A plan file made from the gated fleet's plan with one edit; its own publisher, so only the edit is wrong. */
function badPlan(name: string, edit: Edit): string {
  const base = readFileSync(gated.file, 'utf8').replace(
    `server: GATED-${process.pid}`,
    `server: BADPLAN-${process.pid}`,
  );
  const edited = typeof edit === 'function' ? edit(base) : base.replace(edit[0], edit[1]);
  expect(edited, `the edit for ${name} changed nothing`).not.toBe(base);
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, edited);
  return file;
}

/** The edit that appends a credentials section with `user` and `password` (the plan has none). */
const credentials =
  (user: string, password: string): Edit =>
  (y) =>
    `${y}credentials:\n  user: ${user}\n  password: ${password}\n`;

/** What the refusal must say: its messages, or a function of the plan file's path for those that name it. */
type Says = string[] | ((file: string) => string[]);

const planCases: [name: string, edit: Edit, says: Says][] = [
  [
    'unclosed YAML list',
    ['approvals:\n    - remove-replication', 'approvals: [remove-replication'],
    (f) => [`${f}:`, 'not valid YAML'],
  ],
  [
    'tab indentation',
    ['  database: PersonalizationServer', '\tdatabase: PersonalizationServer'],
    (f) => [`${f}:10:1 not valid YAML: Tabs are not allowed as indentation`],
  ],
  [
    'a number written as a word',
    ['drainTimeoutSeconds: 2', 'drainTimeoutSeconds: two'],
    ['options.drainTimeoutSeconds: expected a number, found "two"'],
  ],
  [
    'a list written as text',
    [/subscribers:\n  - server: LAB-SUB1/, 'subscribers: LAB-SUB1\nx:\n  - server: LAB-SUB1'],
    ['subscribers: expected a list, found "LAB-SUB1"'],
  ],
  [
    'a literal password',
    credentials('env:REPLUP_SQL_USER', 'Winter2024!'),
    [
      'credentials.password: a password must not be written in the plan (the plan travels in workflow ' +
        'history): put it in an environment variable of the worker and write password: env:REPLUP_SQL_PASSWORD',
    ],
  ],
  [
    'a password as a number',
    credentials('env:REPLUP_SQL_USER', '12345678'),
    ['credentials.password: a password must not be written in the plan'],
  ],
  [
    'an environment reference with spaces',
    credentials('env:SQL USER', 'env:REPLUP_SQL_PASSWORD'),
    ['credentials.user: "SQL USER" is not an environment variable name: use letters, digits and _'],
  ],
  [
    'a misspelt runbook',
    ['runbook: em-personalization-upgrade', 'runbook: em-personalisation-upgrade'],
    ['unknown runbook "em-personalisation-upgrade"', 'did you mean "em-personalization-upgrade"?'],
  ],
  ['a misspelt key', ['edition: Express', 'editon: Express'], ['unknown key "editon"; did you mean "edition"?']],
  [
    'to earlier than from',
    ['to: 10.4.0.0', 'to: 8.1.0.0'],
    ['to: to (8.1.0.0) is earlier than from (8.2.0.0)', 'swap them if they are reversed'],
  ],
  [
    'a version that is not one',
    ['from: 8.2.0.0', 'from: 8.x'],
    ['from: "8.x" is not a 4-part product version such as 8.3.253.0'],
  ],
  [
    'an Express publisher',
    ['  edition: Standard\nsubscribers', '  edition: Express\nsubscribers'],
    ['publisher.edition: SQL Server Express cannot publish, it can only subscribe'],
  ],
  [
    'an approval gate that is no step',
    ['    - remove-replication', '    - remove-replicaton'],
    ['"remove-replicaton" is not a step of this runbook', 'did you mean "remove-replication"?'],
  ],
  [
    'zero parallelism',
    ['drainTimeoutSeconds: 2', 'drainTimeoutSeconds: 2\n  maxParallel: 0'],
    ['options.maxParallel: must be at least 1'],
  ],
  [
    'an unknown command placeholder',
    ['{version}', '{vresion}'],
    [
      'hosts.upgrade: unknown placeholder {vresion}: the worker fills {host}, {service} and {version}; did ' +
        'you mean "version"?',
    ],
  ],
  [
    'a backup that is not copy-only',
    [/backup:\n  dir: (.*)\n/, 'backup:\n  dir: $1\n  copyOnly: false\n'],
    ['backup.copyOnly: replup only takes copy-only backups'],
  ],
  ['an empty file', () => '', (f) => [`${f}:1:1 the plan file is empty: start from one of the files in examples/`]],
  [
    'a list instead of a plan',
    () => '- name: x\n',
    (f) => [`${f}:1:1 a plan is a mapping of keys (name:, runbook:, …), found a list`],
  ],
  [
    'an injection-shaped server name',
    [`server: BADPLAN-${process.pid}`, `server: "PUB'; EXEC xp_cmdshell 'format c:'; --"`],
    [
      `publisher.server: "PUB'; EXEC xp_cmdshell 'format c:'; --" is not a SQL Server name: write HOST, ` +
        `HOST\\INSTANCE or HOST,PORT`,
    ],
  ],
  [
    'a publication listed twice',
    ['name: gated\n', 'name: gated\npublications: [Config, Config]\n'],
    ['publications[1]: "Config" is listed twice'],
  ],
];

describe('bad plan files', () => {
  it.each(planCases)('%s: refused with the place and the fix, nothing started', async (name, edit, says) => {
    const file = badPlan(name.replace(/\W+/g, '-'), edit);
    const before = await everything();
    const r = await replup('start', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^replup: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid plan \\(\\d+ problems?\\); ` +
          `nothing was started\\n`,
      ),
    );
    for (const m of typeof says === 'function' ? says(file) : says) expect(r.err).toContain(m);
    expect(r.out).toBe('');
    expect(r.err).not.toContain('Winter2024!'); // a refused password is never echoed
    expect(r.err).not.toContain('12345678');
    await expect(
      env.client.workflow.getHandle(`upgrade:BADPLAN-${process.pid}/PersonalizationServer`.toLowerCase()).describe(),
    ).rejects.toThrow();
    expect(await everything()).toEqual(before);
  });

  it('a plan file that does not exist, or is a folder', async () => {
    const before = await everything();
    const missing = join(root, 'no-such-plan.yaml');
    expect(await replup('start', missing)).toEqual({
      code: 1,
      out: '',
      err: `replup: cannot read plan file ${missing}: no such file\n`,
    });
    const folder = await replup('plan', 'validate', root);
    expect([folder.code, folder.err]).toEqual([
      1,
      `replup: cannot read plan file ${root}: it is a folder\n  give the path of a plan file (YAML or JSON); ` +
        `examples/ holds some to start from\n`,
    ]);
    expect(await everything()).toEqual(before);
  });
});

// ---- identifiers that look like SQL: accepted as names, always quoted, never executed ---------

describe('injection-shaped identifiers', () => {
  it(
    'a database named like an attack is a valid name; ' + 'every statement quotes it or passes it as a ' + 'parameter',
    async () => {
      const evil = 'Pers]; DROP DATABASE master; --';
      const file = badPlan('evil-database', (y) =>
        y.replace('  database: PersonalizationServer', `  database: "${evil}"`),
      );
      expect((await replup('plan', 'validate', file)).code).toBe(0);
      const r = await loadPlanFile(file);
      const db = r.ok ? (r.plan as UpgradePlan).publisher.database : '';
      expect(db).toBe(evil);
      expect(sql.restrictToAdmins(db)).toEqual({
        sql: 'ALTER DATABASE [Pers]]; DROP DATABASE master; --] SET RESTRICTED_USER WITH ROLLBACK IMMEDIATE;',
        params: {},
      });
      expect(sql.dropMergePublication(db, 'Config')).toEqual({
        sql: 'EXEC [Pers]]; DROP DATABASE master; --].sys.sp_dropmergepublication @publication = @publication;',
        params: { publication: 'Config' },
      });
      expect(sql.backupDatabase(db, 'D:\\b.bak')).toEqual({
        sql: 'BACKUP DATABASE @database TO DISK = @file WITH COPY_ONLY, CHECKSUM, INIT;',
        params: { database: evil, file: 'D:\\b.bak' },
      });
      expect(sql.userSessions(db).params).toEqual({ database: evil });
      expect(sql.userSessions(db).sql).not.toContain('DROP');
      expect(sql.conflicts(db, "Config'; --").sql.split('\n')).toContain(
        'FROM [Pers]]; DROP DATABASE master; --].dbo.MSmerge_conflicts_info AS c',
      );
      expect(sql.conflicts(db, "Config'; --").params).toEqual({ publication: "Config'; --" });
    },
  );
});

// ---- decisions the running runs refuse ---------------------------------------------------------

describe('decisions that do not fit the moment', () => {
  /** `replup <verb> <run> <args…> --reason x --actor ops`: a well-formed decision on `fleet`'s run. */
  function decision(verb: string, fleet: Fleet, ...args: string[]): string[] {
    return [verb, fleet.workflowId, ...args, '--reason', 'x', '--actor', 'ops'];
  }
  const cases: [name: string, argv: () => string[], code: number, err: () => string][] = [
    [
      'retry of a step that does not exist',
      () => decision('retry', gated, '--step', 'sync-untill-quiet'),
      1,
      () =>
        'replup: refused: unknown step "sync-untill-quiet"; the steps are: preflight, drain-users, ' +
        'sync-until-quiet, backup, remove-replication, upgrade, stop-background-services, convert-row-guids, ' +
        'prepare-scripts, enable-replication, verify-replication, restore-service\n',
    ],
    [
      'retry of a step that is not waiting',
      () => decision('retry', gated, '--step', 'backup'),
      1,
      () =>
        'replup: refused: step backup is done, not waiting for a decision; the run is waiting at ' +
        'remove-replication (awaiting-approval)\n',
    ],
    [
      'skip of a step that is only pending',
      () => decision('skip', gated, '--step', 'verify-replication'),
      1,
      () =>
        'replup: refused: step verify-replication is pending, not waiting for a decision; the run is waiting ' +
        'at remove-replication (awaiting-approval)\n',
    ],
    [
      'skip of a step that guards data',
      () => ['skip', parked.workflowId, '--step', 'sync-until-quiet', '--reason', 'in a hurry', '--actor', 'ops'],
      1,
      () =>
        'replup: refused: step sync-until-quiet cannot be skipped: skipping it would risk data; retry it or ' +
        'abort the run\n',
    ],
    [
      'a decision without a reason',
      () => ['retry', parked.workflowId, '--step', 'sync-until-quiet', '--reason', ' ', '--actor', 'ops'],
      1,
      () => 'replup: refused: a reason is required to retry a step (--reason "...")\n',
    ],
    [
      'a decision without an actor',
      () => ['abort', parked.workflowId, '--step', 'sync-until-quiet', '--reason', 'x', '--actor', ''],
      1,
      () => 'replup: refused: an actor is required: say who decides (--actor)\n',
    ],
    [
      'approval of a gate the run does not have',
      () => decision('approve', gated, '--gate', 'backup'),
      1,
      () => 'replup: refused: there is no approval gate "backup" in this run; its gates are: remove-replication\n',
    ],
    [
      'approval of a run without gates',
      () => decision('approve', parked, '--gate', 'remove-replication'),
      1,
      () => 'replup: refused: there is no approval gate "remove-replication" in this run; its gates are: none\n',
    ],
    [
      'confirmation of a step that waits for none',
      () => ['confirm', gated.workflowId, '--step', 'upgrade', '--note', 'done', '--actor', 'ops'],
      1,
      () => 'replup: refused: step upgrade is pending, not waiting for a confirmation\n',
    ],
    [
      'resume of a run that is not paused',
      () => decision('resume', gated),
      1,
      () => 'replup: refused: the run is not paused\n',
    ],
    [
      'a decision without --step',
      () => ['retry', gated.workflowId, '--reason', 'x'],
      2,
      () => "error: required option '--step <step>' not specified\n",
    ],
    [
      'a second start of the same fleet',
      () => ['start', gated.file, '--actor', 'ops'],
      1,
      () =>
        `replup: an upgrade of GATED-${process.pid}/PersonalizationServer is already running (` +
        `${gated.workflowId})\n  watch it: replup watch '${gated.workflowId}'\n  one fleet is upgraded by ` +
        `one run at a time; abort that run first if it must be replaced\n`,
    ],
    [
      'status of an unknown workflow id',
      () => ['status', 'upgrade:NOPE/PersonalizationServer'],
      1,
      () => 'replup: no run with id upgrade:NOPE/PersonalizationServer\n  list the runs: replup list\n',
    ],
    [
      'a decision for an unknown workflow id',
      () => ['abort', 'upgrade:NOPE/PersonalizationServer', '--step', 'backup', '--reason', 'x', '--actor', 'ops'],
      1,
      () => 'replup: no run with id upgrade:NOPE/PersonalizationServer\n  list the runs: replup list\n',
    ],
  ];
  it.each(cases)('%s', async (_name, argv, code, err) => {
    const before = await everything();
    const r = await replup(...argv());
    expect({ code: r.code, err: r.err.split('\n\n')[0]!.replace(/\n?$/, '\n') }).toEqual({ code, err: err() });
    expect(await everything()).toEqual(before);
  });

  it('the Temporal server unreachable: a clear message within seconds, not a hang', async () => {
    const before = await everything();
    const port = await freePort();
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    const t0 = Date.now();
    try {
      const r = await replup('status', gated.workflowId);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        new RegExp(
          `^replup: cannot reach the Temporal server at 127\\.0\\.0\\.1:${port} \\(.+\\)\\. Start one with ` +
            `\`replup dev\`, or set TEMPORAL_ADDRESS \\(and TEMPORAL_NAMESPACE, TLS or API key\\) for your ` +
            `cluster\\.\\n$`,
        ),
      );
    } finally {
      process.env.TEMPORAL_ADDRESS = inject('temporalAddress');
    }
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await everything()).toEqual(before);
  });
});

// ---- scripts that cannot run: found at preflight, before anything changes ----------------------

/** What replup changes in a fleet (not what its users write meanwhile). */
function fleetChanges(s: LabState) {
  return {
    counters: s.counters,
    hosts: Object.values(s.hosts).map((h) => [h.name, h.drained, h.backgroundService, h.productVersion]),
    databases: Object.values(s.databases).map((d) => [
      d.key,
      d.productVersion,
      d.mergePublished,
      Object.keys(d.publications),
    ]),
    subscriptions: Object.values(s.subscriptions).map((x) => [x.key, x.syncType, x.status]),
    backups: s.backups,
  };
}

describe('scripts that cannot run', () => {
  const scriptCases: [name: string, prepare: (dir: string) => void, error: (dir: string) => string][] = [
    [
      'vendor scripts missing',
      () => {},
      (dir) =>
        `ScriptProblem: script ${dir}/CreateConfigPublication.sql cannot be read (ENOENT); check scripts.dir ` +
        `in the plan`,
    ],
    [
      'a script with a sqlcmd syntax error',
      (dir) =>
        writeFileSync(
          join(dir, 'ConvertRowGuids.sql'),
          readFileSync(join(dir, 'ConvertRowGuids.sql'), 'utf8').replace(/^GO$/m, 'GO twice'),
        ),
      (dir) =>
        `ScriptProblem: ${dir}/ConvertRowGuids.sql line 9: 'GO' may only be followed by a repeat count (e.g. ` +
        `'GO 3'), found 'twice'; fix the script or the plan, then retry this step`,
    ],
    [
      'a script with an undefined variable',
      (dir) =>
        writeFileSync(
          join(dir, 'CreateConfigPublication.sql'),
          readFileSync(join(dir, 'CreateConfigPublication.sql'), 'utf8').replace(
            'USE [$(PublisherDatabase)]',
            'USE [$(PublisherDb)]',
          ),
        ),
      (dir) =>
        `ScriptProblem: ${dir}/CreateConfigPublication.sql line 6: variable $(PublisherDb) is not defined: ` +
        `add ':setvar PublisherDb "value"' before this line or pass it as a script variable (the plan's ` +
        `scripts.variables); fix the script or the plan, then retry this step`,
    ],
  ];
  it.each(scriptCases)(
    '%s: the run parks at preflight with the file and line, the fleet untouched',
    async (name, prepare, error) => {
      const id = name.replace(/\W+/g, '-');
      const scripts = join(root, `${id}-scripts`);
      mkdirSync(scripts, { recursive: true });
      if (!name.includes('missing')) cpSync(resolve('examples/replication'), scripts, { recursive: true });
      prepare(scripts);
      const f = await fleet(`s${scriptCases.findIndex((c) => c[0] === name)}`, (doc) => (doc.scripts.dir = scripts));
      const before = fleetChanges(readLabState(f.state));
      try {
        const p = await waitFor(env.client, f.workflowId, (x) => x.status === 'awaiting-operator');
        const step = p.steps.find((s) => s.status === 'awaiting-operator')!;
        expect(step.id).toBe('preflight');
        expect(step.lastError).toContain(error(scripts));
        expect(p.steps.filter((s) => s.status === 'done')).toEqual([]);
        expect(fleetChanges(readLabState(f.state))).toEqual(before);
      } finally {
        await env.client.workflow
          .getHandle(f.workflowId)
          .terminate('bad-input test done')
          .catch(() => undefined);
      }
    },
  );
});
