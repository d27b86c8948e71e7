// The README's "How it is used" block is a test: every line runs as written, in order, through
// `npx replup` in a folder that has replup installed (node_modules/replup linked to this checkout,
// as `npm install <path>` links it) and nothing else: the block's own `plan new` writes plan.yaml
// there, as a user following it does; against the suite's dev server in a namespace of its own (so
// "the only running upgrade" is this one, and its fleet LAB-PUB no one else's). Substitutions, and only these: `<id>`
// is the workflow id `start` printed; `[a|b]` runs once without and once with each alternative; `npx replup dev` runs
// with --help (the suite's dev server stands in; a second server on the README's fixed ports
// would collide with anyone's on this machine); a line ending in `&` runs in the background until
// the test ends. A README line this test has no expectation for fails it: a README edit that
// breaks a command, or adds one nobody ran, fails CI. The Quick start block runs in a fresh clone
// (test/temporal/install.test.ts).
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDir, type Ran } from './cli/replup.js';
import { runInBackground, stopBackground } from './cli/background.js';
import { createNamespace } from './cli/namespace.js';
import { readmeCommands, type ReadmeLine } from './cli/readme.js';
import { readmeEnv, sh } from './cli/shell.js';

const scratch = scratchDir('readme');
const cwd = join(scratch, 'project');
const tag = `${process.pid}-${Date.now().toString(36)}`.toUpperCase();
const namespace = `readme-${tag.toLowerCase()}`;
const address = inject('temporalAddress');
const env = readmeEnv(address, namespace, scratch);
const background: ChildProcess[] = [];

beforeAll(async () => {
  mkdirSync(join(cwd, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(
    join(cwd, 'package.json'),
    JSON.stringify(
      { name: 'readme-project', private: true, dependencies: { replup: `file:${resolve('.')}` } },
      null,
      2,
    ),
  );
  symlinkSync(resolve('.'), join(cwd, 'node_modules', 'replup'));
  symlinkSync('../replup/cli/bin.mjs', join(cwd, 'node_modules', '.bin', 'replup'));
  await createNamespace(address, namespace);
}, 120_000);

afterAll(() => {
  stopBackground(background);
  rmSync(scratch, { recursive: true, force: true });
});

/** `[--json|--md]` → ['', ' --json', ' --md'] spliced in; no brackets → the line itself. */
function alternatives(command: string): string[] {
  const m = /\s\[([^\]]+)\]/.exec(command);
  if (!m) return [command];
  return ['', ...m[1]!.split('|').map((a) => ` ${a}`)].map((alt) => command.replace(m[0], alt));
}

const say = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe('README: How it is used, run as written', () => {
  it('every line of the block does what the README says', async () => {
    const lines = readmeCommands('How it is used', 'README.md', 'All commands');
    let id = '';
    let watches = 0;
    /** The expectation for each kind of line, by what the line runs; the first match applies. */
    const expectations: { match: RegExp; check: (r: Ran, l: ReadmeLine) => void }[] = [
      {
        match: /^npx replup plan new plan\.yaml$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          // The copy works where it landed: the example's scripts, its lab beside it, the gate on.
          const text = readFileSync(join(cwd, 'plan.yaml'), 'utf8');
          expect(text).toContain('  state: .replup/labs/plan.json\n');
          expect(text).toContain(`  dir: ${resolve('examples/replication')} `);
          expect(text).toContain('  approvals: [remove-replication]\n');
          expect(existsSync(resolve('examples/replication'))).toBe(true);
        },
      },
      {
        match: /^npx replup plan validate plan\.yaml$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toMatch(/plan\.yaml.*valid/i);
        },
      },
      {
        match: /^npx replup plan show plan\.yaml$/,
        check: (r) => expect(r.stdout, say(r)).toContain('sync-until-quiet'),
      },
      {
        match: /^npx replup lab init plan\.yaml --conflicts 2$/,
        check: (r) => {
          expect(r.stdout, say(r)).toContain(', 2 conflicts.');
          // The lab is the plan's own, inside the project (not ../.replup beside some examples/ folder).
          expect(existsSync(join(cwd, '.replup', 'labs', 'plan.json'))).toBe(true);
        },
      },
      {
        match: /^npx replup start plan\.yaml$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          id = /^Started (\S+)$/m.exec(r.stdout)?.[1] ?? '';
          // The fleet's id (SQL Server names are case-insensitive; the id may be normalised).
          expect(id.toLowerCase(), say(r)).toBe('upgrade:lab-pub/personalizationserver');
          expect(r.stdout).toMatch(/Web UI: http/);
        },
      },
      {
        match: /^npx replup watch( \S+)?$/,
        check: (r) => {
          watches++;
          // The first stops at the conflicts, the second at the approval gate, the last completes.
          if (watches === 1) expect(r.stdout, say(r)).toMatch(/needs an operator at sync-until-quiet/);
          if (watches === 2) expect(r.stdout, say(r)).toMatch(/remove-replication/);
          expect(r.code, say(r)).toBe(watches < 3 ? 3 : 0);
        },
      },
      {
        match: /^npx replup status --json$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(JSON.parse(r.stdout)).toMatchObject({ status: 'awaiting-operator', current: 'sync-until-quiet' });
        },
      },
      { match: /^npx replup lab resolve-conflicts plan\.yaml$/, check: (r) => expect(r.code, say(r)).toBe(0) },
      {
        match: /^npx replup retry --step sync-until-quiet --reason "conflicts resolved by hand"$/,
        check: (r) => expect(r.code, say(r)).toBe(0),
      },
      {
        match: /^npx replup approve --gate remove-replication --reason "change 4711 approved"$/,
        check: (r) => expect(r.stdout, say(r)).toContain('approved remove-replication'),
      },
      {
        match: /^npx replup report \S+( --json| --md)?$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toContain(id);
          if (r.stdout.trimStart().startsWith('{')) expect(JSON.parse(r.stdout)).toBeTypeOf('object');
        },
      },
    ];

    const ran: string[] = [];
    for (const line of lines) {
      if (line.command === 'npx replup dev') {
        // The suite's dev server stands in for it (see the top of this file).
        const r = await sh(`${line.command} --help`, { cwd, env });
        expect(r.code, say(r)).toBe(0);
        expect(r.stdout).toContain('Usage: replup dev');
        ran.push(`${line.command} --help`);
        continue;
      }
      if (line.command.endsWith('&')) {
        const command = line.command.slice(0, -1).trim();
        expect(command, `README.md:${line.line}: only the worker runs in the background`).toBe('npx replup worker');
        await runInBackground(command, 'serving task queue', { cwd: cwd, env }, background);
        ran.push(line.command);
        continue;
      }
      for (const command of alternatives(line.command.replaceAll('<id>', `'${id}'`))) {
        const bare = command.replace(`'${id}'`, 'ID');
        const rule = expectations.find((e) => e.match.test(command.replace(`'${id}'`, id)));
        if (!rule)
          throw new Error(
            `README.md:${line.line}: no expectation for \`${line.text.trim()}\`: teach ` +
              `test/temporal/readme.test.ts what it does`,
          );
        const r = await sh(command, { cwd, env, timeoutMs: 150_000 });
        rule.check(r, line);
        ran.push(bare);
      }
    }
    expect(watches, 'the block watches the run three times: conflicts, gate, completed').toBe(3);
    expect(ran.length).toBeGreaterThanOrEqual(lines.length);
  }, 900_000);
});
