// The `replup` command the ways users install it, each from nothing: `npx replup` inside a fresh
// clone (after the README's Quick start, run as written: its first command bootstraps the clone), the
// packed package (`npm pack`) installed into an empty folder, and the same tarball installed
// globally into a temporary prefix. Each must print its usage, its versions, and the six problems
// of the operators' case (exit 1): every one of these used to print nothing and exit 0, because
// the CLI only ran when the path it was started by ended in cli/main.ts or cli/bin.mjs.
//
// The clone is a `git clone` of this checkout's HEAD: commit before running this locally (CI runs
// on a fresh clone, where HEAD is what is tested). The clean-clone check follows Quick start:
// `npm run demo`, then `npm test` narrowed to one file (the whole suite inside itself would run
// it twice over; its pretest is the same bootstrap), then `git status --porcelain` must be empty.
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { scratchDir, type Ran } from './cli/replup.js';
import { readmeCommands } from './cli/readme.js';
import { createNamespace } from './cli/namespace.js';
import { registryReachable, sh, userEnv } from './cli/shell.js';

const CASE = resolve('test/fixtures/cases/npx-silent-invalid-plan.yaml');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
};
const scratch = scratchDir('install');
const clone = join(scratch, 'clone');
// A namespace of its own: `npm run demo` refuses to start while other tests' workers poll task queue replup.
const namespace = `install-${process.pid}-${Date.now().toString(36)}`;
const env = userEnv({
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  TEMPORAL_NAMESPACE: namespace,
  REPLUP_ACTOR: 'install-test',
});
let tarball = '';
let online = false;

beforeAll(async () => {
  await createNamespace(inject('temporalAddress'), namespace);
  const cloned = await sh(`git clone -q ${JSON.stringify(resolve('.'))} clone`, { cwd: scratch, env });
  expect(cloned.code, cloned.stderr).toBe(0);
  const packed = await sh(`npm pack --silent --pack-destination ${JSON.stringify(scratch)}`, { cwd: clone, env });
  expect(packed.code, packed.stderr).toBe(0);
  tarball = join(scratch, packed.stdout.trim().split('\n').at(-1)!);
  online = await registryReachable(scratch);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a user checks of each installed command: usage, both versions, the case's six problems. */
async function checkCommand(replup: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  const help = await sh(`${replup} --help`, { cwd, env });
  expect(help.code, help.stderr).toBe(0);
  expect(help.stdout).toMatch(/^Usage: replup \[options\] \[command\]/);
  expect(help.stdout).toContain('plan');

  const version = await sh(`${replup} --version`, { cwd, env });
  expect(version.code, version.stderr).toBe(0);
  expect(version.stdout.trim()).toBe(
    `replup ${pkg.version} (Temporal TypeScript SDK ${pkg.dependencies['@temporalio/worker']})`,
  );

  expectSixProblems(await sh(`${replup} plan validate ${JSON.stringify(CASE)}`, { cwd, env }));
}

/** The operators' case: six problems, each `file:line:column path: message`, and exit 1. */
function expectSixProblems(ran: Ran): void {
  expect(ran.code, ran.stdout + ran.stderr).toBe(1);
  const problems = ran.stdout
    .split('\n')
    .filter((l) => l.startsWith(`${CASE}:`))
    .map((l) => /^.*:(\d+):(\d+) ([\w.[\]]+): \S/.exec(l)?.slice(1, 4).join(' ') ?? `unparsed: ${l}`);
  expect(problems.sort()).toEqual([
    '1 1 publisher',
    '1 1 scripts',
    '1 1 subscribers',
    '1 1 target',
    '1 1 to',
    '3 7 from',
  ]);
  expect(ran.stdout).toContain(`6 problems in ${CASE}`);
}

describe('replup, however it is installed', () => {
  it(
    "a fresh clone: the README's Quick start as written (bootstrap with npm ci, demo, tests); `npx replup` " +
      'works; git status stays clean',
    async () => {
      // Quick start's lines, run in a fresh clone as a new user would, in order.
      for (const line of readmeCommands('Quick start')) {
        if (line.command === 'npm run demo') {
          const demo = await sh(line.command, { cwd: clone, env, timeoutMs: 600_000 });
          expect(demo.code, `README.md:${line.line}\n${demo.stdout}\n${demo.stderr}`).toBe(0);
          expect(demo.stderr).toContain('installing npm packages (npm ci)');
          expect(demo.stderr).not.toContain('WARNING: npm ci refused'); // the committed lockfile is accepted
          expect(demo.stdout).toMatch(/All \d+ invariants hold for the lab/);
        } else if (line.command === 'npm test') {
          // The whole suite inside the suite would run it twice over: `npm test` as written (its
          // pretest bootstrap, the type check, vitest), narrowed to the README's own unit test.
          const test = await sh(`${line.command} -- --project unit test/unit/readme/usage.test.ts`, {
            cwd: clone,
            env,
            timeoutMs: 600_000,
          });
          expect(test.code, `README.md:${line.line}\n${test.stdout}\n${test.stderr}`).toBe(0);
          expect(stripVTControlCharacters(test.stdout)).toMatch(/Test Files\s+1 passed \(1\)/);
        } else {
          throw new Error(
            `README.md:${line.line}: no expectation for \`${line.text.trim()}\`: teach ` +
              `test/temporal/install.test.ts what it does`,
          );
        }
      }

      await checkCommand('npx replup', clone, env);
      // npm exec is npx's other spelling; a sub-folder of the clone finds the same bin.
      mkdirSync(join(clone, '.replup'), { recursive: true });
      expectSixProblems(
        await sh(`npm exec replup -- plan validate ${JSON.stringify(CASE)}`, { cwd: join(clone, '.replup'), env }),
      );

      const status = await sh('git status --porcelain', { cwd: clone, env });
      expect(status.code).toBe(0);
      expect(status.stdout, 'the bootstrap, the demo or the tests changed tracked files or left untracked ones').toBe(
        '',
      );
    },
    900_000,
  );

  it('the packed package installed into an empty folder: ./node_modules/.bin/replup', async (ctx) => {
    if (!online) ctx.skip('the npm registry is unreachable (npm ping failed): installing the tarball needs it');
    const dir = join(scratch, 'empty');
    mkdirSync(dir);
    const install = await sh(`npm install ${JSON.stringify(tarball)}`, { cwd: dir, env, timeoutMs: 600_000 });
    expect(install.code, install.stderr).toBe(0);
    await checkCommand('./node_modules/.bin/replup', dir, env);
    // The tarball carries what the CLI needs and nothing of the suites.
    const files = readdirSync(join(dir, 'node_modules', 'replup'));
    expect(files).toEqual(
      expect.arrayContaining(['cli', 'workflows', 'activities', 'worker', 'plan', 'examples', 'package.json']),
    );
    expect(files).not.toContain('test');
  }, 900_000);

  it('the packed package installed globally into a prefix: replup on PATH', async (ctx) => {
    if (!online) ctx.skip('the npm registry is unreachable (npm ping failed): installing the tarball needs it');
    const prefix = join(scratch, 'global');
    const install = await sh(`npm install -g --prefix ${JSON.stringify(prefix)} ${JSON.stringify(tarball)}`, {
      cwd: scratch,
      env,
      timeoutMs: 600_000,
    });
    expect(install.code, install.stderr).toBe(0);
    const home = join(scratch, 'home');
    mkdirSync(home);
    // From a folder with no package.json anywhere above it that knows replup.
    const onPath = { ...env, PATH: `${join(prefix, 'bin')}:${env.PATH}` };
    const ran = await sh('command -v replup', { cwd: home, env: onPath });
    expect(ran.stdout.trim()).toBe(join(prefix, 'bin', 'replup'));
    await checkCommand('replup', home, onPath);
  }, 900_000);
});
