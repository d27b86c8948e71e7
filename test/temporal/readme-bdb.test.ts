// README "### The Berkeley DB example" is a test: in a fresh copy of the repository (its files as
// committed or edited, node_modules linked), every line runs as written, in order, on the real
// db5.3 tools, against the suite's dev server in a namespace of its own. Substitutions, and only
// these: `<id>` is the workflow id `start` printed; a line ending in `&` runs in the background
// until the test ends. A README line this test has no expectation for fails it. What is checked is
// what the README promises: validate says valid once the master exists (and names the missing
// master before), the run completes, the replicant holds the master's tapes and refuses writes,
// and the report lists every DB_CONFIG fix with its line and what was verified.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { replicationRole } from '../../activities/bdb-replicant/index.js';
import { runTool } from '../../activities/bdb-replicant/tools.js';
import { TAPES } from '../../examples/bdb/setup.js';
import { scratchDir, type Ran } from './cli/replup.js';
import { runInBackground, stopBackground } from './cli/background.js';
import { createNamespace } from './cli/namespace.js';
import { readmeCommands } from './cli/readme.js';
import { readmeEnv, sh } from './cli/shell.js';
import { records } from '../unit/bdb/helpers.js';

const scratch = scratchDir('readme-bdb');
const repo = join(scratch, 'replup');
const tag = `${process.pid}-${Date.now().toString(36)}`;
const namespace = `readme-bdb-${tag}`;
const address = inject('temporalAddress');
const env = readmeEnv(address, namespace, scratch);
const background: ChildProcess[] = [];
const masterEnv = join(repo, '.replup/bdb/master/db');
const replicantEnv = join(repo, '.replup/bdb/replicant/db');

beforeAll(async () => {
  // The repository's files as a fresh clone has them (plus this checkout's edits and new files), without .replup/.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(repo, f)), { recursive: true });
    try {
      cpSync(resolve(f), join(repo, f));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // a file deleted in the working tree
    }
  }
  symlinkSync(resolve('node_modules'), join(repo, 'node_modules'));
  await createNamespace(address, namespace);
}, 120_000);

afterAll(async () => {
  stopBackground(background);
  // Services a failed run left behind in the copy.
  await sh('npx tsx examples/bdb/setup.ts stop', { cwd: repo, env, timeoutMs: 60_000 }).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}, 90_000);

const say = (r: Ran) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const section = (md: string, title: string) => md.split(`## ${title}`)[1]?.split('\n## ')[0] ?? '';

describe('README: the Berkeley DB example, run as written in a fresh copy', () => {
  it('a fresh copy has no master: plan validate names it and the set-up command', async () => {
    const r = await sh('npx replup plan validate examples/bdb/plan.yaml', { cwd: repo, env, timeoutMs: 120_000 });
    expect(r.code, say(r)).toBe(1);
    expect(r.stdout + r.stderr).toContain(`master.envDir: the master environment ${masterEnv} does not exist`);
    expect(r.stdout + r.stderr).toContain('`npx tsx examples/bdb/setup.ts init` creates one');
  }, 150_000);

  it('every line of the block does what the README says', async () => {
    const lines = readmeCommands('### The Berkeley DB example');
    let id = '';
    const expectations: { match: RegExp; check: (r: Ran) => Promise<void> | void }[] = [
      {
        match: /^npx tsx examples\/bdb\/setup\.ts init$/,
        check: async (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toContain(`master    127.0.0.1:15010  ${masterEnv}`);
          expect(await records(masterEnv, 'tapes.db')).toEqual(TAPES);
          expect(readFileSync(join(masterEnv, 'DB_CONFIG'), 'utf8')).toBe(
            readFileSync('examples/bdb/DB_CONFIG.seed', 'utf8'),
          );
        },
      },
      {
        match: /^npx replup plan validate examples\/bdb\/plan\.yaml$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toMatch(/plan\.yaml: valid bdb-replicant plan/);
        },
      },
      {
        match: /^npx replup start examples\/bdb\/plan\.yaml$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          id = /^Started (\S+)$/m.exec(r.stdout)?.[1] ?? '';
          expect(id, say(r)).toBe('bdb-replicant:127.0.0.1:15010/127.0.0.1:15011');
        },
      },
      {
        match: /^npx replup watch \S+$/,
        check: async (r) => {
          expect(r.code, say(r)).toBe(0);
          // What the administrator checks on the replicant: the master's tapes, a refused write.
          expect(await records(replicantEnv, 'tapes.db')).toEqual(TAPES);
          expect(await replicationRole(replicantEnv)).toBe('client');
          const write = await runTool('load', ['-T', '-t', 'btree', '-h', replicantEnv, 'tapes.db'], {
            input: 'VOL999\nwritten on the replicant\n',
          });
          expect(write.code).not.toBe(0);
          expect(write.stderr).toContain('BDB0111');
        },
      },
      {
        match: /^npx replup report \S+$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toContain('- status: **completed**');
          const changes = section(r.stdout, 'DB_CONFIG changes');
          expect(changes).toContain(`configure-replicant: \`${replicantEnv}/DB_CONFIG\``);
          expect(changes).toContain(
            '- line 25 "#rep-set-priority 0" → "rep_set_priority 0" ("rep-set-priority" corrected to ' +
              '"rep_set_priority")',
          );
          expect(changes).toContain(
            '- line 28 "#rep_set_config DB REP_CONF_BULK on" → "rep_set_config DB_REP_CONF_BULK on" ("DB ' +
              'REP_CONF_BULK" corrected to "DB_REP_CONF_BULK")',
          );
          expect(changes).toContain(
            '- line 26 "#repmgr_site replicant-1.tapetrack.com 5010 db_local_site on" → "repmgr_site ' +
              '127.0.0.1 15011 db_local_site on"',
          );
          expect(changes).toContain(`configure-master: \`${masterEnv}/DB_CONFIG\``);
          expect(changes).toContain(
            '- line 15 "#rep-set-priority 1" → "rep_set_priority 1" ("rep-set-priority" corrected to ' +
              '"rep_set_priority")',
          );
          const verification = section(r.stdout, 'Verification');
          expect(verification).toContain('verify-replication: done (attempt 1)');
          expect(verification).not.toMatch(/canary|subscriber/);
          expect(verification).toContain(`- db5.3_stat -r -h ${masterEnv}: replication master (start-master)`);
          expect(verification).toContain(`- db5.3_stat -r -h ${replicantEnv}: replication client (start-replicant)`);
          expect(verification).toMatch(/- the replicant's message log: .+/);
          expect(verification).toMatch(
            /- record replup-check-\S+ written on the master \(.+\) was read on the replicant \(.+\) after \d+\.\d s/,
          );
          expect(verification).toContain(
            '- a write on the replicant was refused (BDB0111 DBcursor->put: attempt to modify a read-only ' +
              'database): the replicant is read-only',
          );
        },
      },
      {
        match: /^npx tsx examples\/bdb\/setup\.ts stop$/,
        check: (r) => {
          expect(r.code, say(r)).toBe(0);
          expect(r.stdout).toContain('replicant 127.0.0.1:15011: stopped');
          expect(r.stdout).toContain('master 127.0.0.1:15010: stopped');
        },
      },
    ];
    let ran = 0;
    for (const line of lines) {
      if (line.command.endsWith('&')) {
        const command = line.command.slice(0, -1).trim();
        expect(command, `README.md:${line.line}: only the worker runs in the background`).toBe('npx replup worker');
        await runInBackground(command, 'serving task queue', { cwd: repo, env }, background);
        ran++;
        continue;
      }
      const command = line.command.replaceAll('<id>', `'${id}'`);
      const rule = expectations.find((e) => e.match.test(command.replace(`'${id}'`, id)));
      if (!rule)
        throw new Error(
          `README.md:${line.line}: no expectation for \`${line.text.trim()}\`: teach ` +
            `test/temporal/readme-bdb.test.ts what it does`,
        );
      const r = await sh(command, { cwd: repo, env, timeoutMs: 300_000 });
      await rule.check(r);
      ran++;
    }
    expect(ran).toBe(lines.length);
    expect(ran).toBe(7);
  }, 900_000);
});
