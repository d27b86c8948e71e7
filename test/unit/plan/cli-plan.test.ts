import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { planShow, planValidate, registerPlan, renderTable } from '../../../cli/commands/plan.js';
import { UserError } from '../../../cli/errors.js';
import { EXAMPLES } from './load-example.js';

const examples = EXAMPLES;
let dir: string;
let invalidPlan: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'replup-plan-'));
  invalidPlan = path.join(dir, 'bad.yaml');
  await writeFile(
    invalidPlan,
    [
      'name: bad',
      'runbook: em-personalization-upgrade',
      'from: 8.2.0.0',
      'to: 10.4.0.0',
      'target: { kind: lab, state: lab.json }',
      'publisher: { server: PUB }',
      'subscribers:',
      '  - server: PUB',
      'scripts: { dir: replication }',
      'options: { maxParallel: 0 }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('replup plan validate', () => {
  it('a valid plan: exit 0 and one line saying so', async () => {
    const file = path.join(examples, 'lab-small.yaml');
    expect(await planValidate(file)).toEqual({
      text:
        `${file}: valid em-personalization-upgrade plan "lab-small" (12 steps, 12 apply; see \`replup plan ` +
        `show ${file}\`)\n`,
      exitCode: 0,
    });
  });

  it('an invalid plan: exit 1, one `file:line:column path: message` line per problem, then the count', async () => {
    const output = await planValidate(invalidPlan);
    expect(output.exitCode).toBe(1);
    expect(output.text).toBe(
      [
        `${invalidPlan}:8:13 subscribers[0].server: PUB/PersonalizationServer is the database of its own ` +
          `publisher (publisher): a database cannot subscribe to its own publication; give this subscriber its ` +
          `own server or database`,
        `${invalidPlan}:10:25 options.maxParallel: must be at least 1: how many subscribers are worked on at ` +
          `the same time`,
        `2 problems in ${invalidPlan}`,
        '',
      ].join('\n'),
    );
  });

  it('--json: { ok, errors: [{ path, line, column, message }] }', async () => {
    const output = await planValidate(invalidPlan, { json: true });
    expect(output.exitCode).toBe(1);
    expect(JSON.parse(output.text)).toEqual({
      ok: false,
      errors: [
        expect.objectContaining({ path: 'subscribers[0].server', line: 8, column: 13 }),
        {
          path: 'options.maxParallel',
          line: 10,
          column: 25,
          message: 'must be at least 1: how many subscribers are worked on at the same time',
        },
      ],
    });
    expect(JSON.parse((await planValidate(path.join(examples, 'sqlserver.yaml'), { json: true })).text)).toEqual({
      ok: true,
      errors: [],
    });
  });

  it('an unreadable file is a user error naming the file', async () => {
    const missing = path.join(dir, 'nope.yaml');
    const error = await planValidate(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`cannot read plan file ${missing}: no such file`);
    await expect(planValidate(dir)).rejects.toThrow(`cannot read plan file ${dir}: it is a folder`);
  });
});

describe('replup plan show', () => {
  it(
    "with credentials: windows, names the account a Linux worker logs in with by NTLM: the plan's, or the " + 'default',
    async () => {
      const template = await readFile(path.join(examples, 'sqlserver.yaml'), 'utf8');
      const windows = template.replace(/^credentials:[^\n]*\n(?:  [^\n]*\n)+/m, 'credentials: windows\n');
      const withAccount = windows.replace(
        '  kind: sqlserver                 # a worker serving real SQL Servers runs this plan\n',
        '  kind: sqlserver\n  windowsAccount: { user: file:/etc/replup/windows-user, password: ' +
          'file:/etc/replup/windows-password }\n',
      );
      const defaultFile = path.join(dir, 'windows-default.yaml');
      const accountFile = path.join(dir, 'windows-account.yaml');
      await writeFile(defaultFile, windows);
      await writeFile(accountFile, withAccount);
      const credentialsLine = async (file: string) =>
        (await planShow(file)).text.split('\n').find((l) => l.startsWith('credentials:'));
      expect(await credentialsLine(defaultFile)).toBe(
        'credentials:  windows (NTLM as env:REPLUP_WINDOWS_USER, password env:REPLUP_WINDOWS_PASSWORD: the default)',
      );
      expect(await credentialsLine(accountFile)).toBe(
        'credentials:  windows (NTLM as file:/etc/replup/windows-user, password file:/etc/replup/windows-password)',
      );
    },
  );

  it('lab-small: every step applies, with its reason, then the fleet', async () => {
    const { text, exitCode } = await planShow(path.join(examples, 'lab-small.yaml'), { width: 400 });
    expect(exitCode).toBe(0);
    const lines = text.split('\n');
    expect(lines).toContain('upgrade:      8.2.0.0 → 10.4.0.0');
    expect(lines).toContain('Steps (12, 12 apply)');
    const stepRows = lines.filter((l) => /^[a-z-]+ +(yes|no) /.test(l));
    expect(stepRows).toHaveLength(12);
    expect(stepRows.every((l) => / yes /.test(l))).toBe(true);
    expect(lines).toContain(
      'convert-row-guids         yes      upgrading from 8.2.0.0, earlier than 8.3.253.0: ' +
        "ConvertRowGuids.sql runs on each of the 2 subscribers so their row GUIDs match the publisher's and " +
        're-enabling without a snapshot does not duplicate rows; at most once per subscriber (a mark in its ' +
        'database); after a lost reply a (primary key, rowguid) sample settles it, or a person when it cannot',
    );
    expect(lines).toContain('Subscriptions (4)');
    expect(lines).toContain(
      'Data         LAB-PUB/PersonalizationServer  LAB-SUB2\\PERSONALIZATION/PersonalizationServer',
    );
  });

  it('lab-modern: the two version-dependent steps say no, and why', async () => {
    const { text } = await planShow(path.join(examples, 'lab-modern.yaml'), { width: 400 });
    const no = text.split('\n').filter((l) => /^[a-z-]+ +no /.test(l));
    expect(no).toEqual([
      'stop-background-services  no       upgrading from 10.0.0.0, 8.3 or later: the background service does ' +
        'not upgrade users after this upgrade, nothing to stop',
      'convert-row-guids         no       upgrading from 10.0.0.0, 8.3.253.0 or later: row GUIDs already ' +
        'match, ConvertRowGuids.sql is not needed',
    ]);
  });

  it('--json: { plan, steps }', async () => {
    const output = await planShow(path.join(examples, 'lab-modern.yaml'), { json: true });
    const shown = JSON.parse(output.text) as {
      plan: { name: string; sites: unknown[] };
      steps: { id: string; applies: boolean }[];
    };
    expect(shown.plan.name).toBe('lab-modern');
    expect(shown.plan.sites).toHaveLength(3);
    expect(shown.steps.filter((s) => !s.applies).map((s) => s.id)).toEqual([
      'stop-background-services',
      'convert-row-guids',
    ]);
  });

  it('an invalid plan shows its problems instead, exit 1', async () => {
    const output = await planShow(invalidPlan);
    expect(output.exitCode).toBe(1);
    expect(output.text.split('\n').at(-2)).toBe(`2 problems in ${invalidPlan}`);
  });
});

describe('registerPlan', () => {
  it('wires `plan validate` and sets exit 1 for an invalid plan', async () => {
    const program = new Command('replup').exitOverride();
    const codes: number[] = [];
    registerPlan(program, (code) => codes.push(code));
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(['plan', 'validate', invalidPlan, '--json'], { from: 'user' });
      expect(JSON.parse(String(write.mock.calls[0]?.[0])).ok).toBe(false);
    } finally {
      write.mockRestore();
    }
    expect(codes).toEqual([1]);
  });
});

describe('renderTable', () => {
  it('pads columns and wraps the last one under itself', () => {
    expect(
      renderTable(
        ['ID', 'WHY'],
        [['a', 'one two three four five six seven eight nine ten eleven twelve thirteen']],
        40,
      ),
    ).toBe(
      ['ID  WHY', 'a   one two three four five six seven', '    eight nine ten eleven twelve', '    thirteen'].join(
        '\n',
      ),
    );
  });
});
