// DB_CONFIG comments and automatic initialisation (issue 22): what db5.3 itself does with each
// line, and what replup says about it. Berkeley DB reads "#" as a comment only as the first
// non-blank character of a line; a replicant this runbook empties can only join by internal
// initialisation. Every verdict of db5.3 below is read from the real tool (db5.3_recover -e).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  applyReplicationBlock,
  autoInitOffLines,
  KNOWN_DIRECTIVES,
  lintDbConfig,
  logDirOf,
  PATH_DIRECTIVES,
  type ReplicationPair,
} from '../../../activities/bdb-replicant/db-config.js';
import { BdbEnvError, logDirectory, wipeReplicantEnv, writeDbConfig } from '../../../activities/bdb-replicant/env.js';
import { runTool } from '../../../activities/bdb-replicant/tools.js';

const CASE_DB_CONFIG = path.resolve(import.meta.dirname, '../../fixtures/cases/bdb-autoinit-off.replicant.DB_CONFIG');
const pair: ReplicationPair = {
  master: { host: '192.0.2.10', port: 5010 },
  replicant: { host: '192.0.2.20', port: 5010 },
};
const opts = { logDir: '../dblogs' };

const dirs: string[] = [];
async function scratchEnv(config: string): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'replup-dbcomments-'));
  dirs.push(root);
  const env = path.join(root, 'db');
  await mkdir(env);
  await writeFile(path.join(env, 'DB_CONFIG'), config);
  return env;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** What db5.3 says when it opens an environment with this DB_CONFIG: its BDB line, or '' when it opens. */
async function db53Opens(config: string): Promise<{ error: string; files: string[] }> {
  const env = await scratchEnv(config);
  const r = await runTool('recover', ['-e', '-h', env]);
  return { error: r.stderr.split('\n').find((l) => l.trim() !== '') ?? '', files: await readdir(env) };
}

/** A valid value for each directive, so that the only fault of the line is its comment. */
function sampleLine(name: string): string {
  if (PATH_DIRECTIVES.has(name)) return `${name} data`;
  const values: Record<string, string> = {
    log_set_config: 'db_log_auto_remove on',
    rep_set_config: 'db_rep_conf_bulk on',
    rep_set_timeout: 'db_rep_heartbeat_send 1000000',
    repmgr_set_ack_policy: 'db_repmgr_acks_all',
    repmgr_site: '127.0.0.1 5010 db_local_site on',
    set_cachesize: '0 1048576 1',
    set_cache_max: '0 1048576',
    set_flags: 'db_log_autoremove',
    set_lk_detect: 'db_lock_default',
    set_open_flags: 'db_thread on',
    set_verbose: 'db_verb_replication on',
    set_intermediate_dir_mode: 'rwx------',
    set_lg_filemode: '0640',
    set_shm_key: '42',
  };
  return `${name} ${values[name] ?? '8'}`;
}

describe('a comment after a directive', () => {
  it('is an error with the fix on every directive Berkeley DB 5.3 knows, at its own line', () => {
    for (const name of KNOWN_DIRECTIVES) {
      const line = sampleLine(name);
      const lint = lintDbConfig(`# first line\n${line} # why this value\n`);
      const expected = PATH_DIRECTIVES.has(name)
        ? `a comment after the directive ("# why this value"): "#" starts a comment only at the start of a ` +
          `line, so Berkeley DB would take "data # why this value" as the path; move the comment to a line of ` +
          `its own above "${line}"`
        : `a comment after the directive ("# why this value"): "#" starts a comment only at the start of a ` +
          `line, so Berkeley DB refuses the line (BDB1584); move the comment to a line of its own above "` +
          `${line}"`;
      expect(lint.errors, line).toContainEqual({ line: 2, message: expected });
    }
  });

  it('is what db5.3 refuses (BDB1584), or for a path takes into the path; the fix opens', async () => {
    expect((await db53Opens('set_flags DB_LOG_AUTOREMOVE # keep the disk small\n')).error).toContain(
      'BDB1584 line 1: set_flags: incorrect name-value pair',
    );
    expect((await db53Opens('rep_set_config DB_REP_CONF_AUTOINIT off # optional\n')).error).toContain(
      'BDB1584 line 1: rep_set_config: incorrect name-value pair',
    );
    expect((await db53Opens('set_lg_dir . # logs here\n')).error).toContain('. # logs here: No such file or directory');
    // The fixed file (comment on its own line, indented or not) opens.
    const fixed = await db53Opens('  # logs here\nset_lg_dir .\n# keep the disk small\nset_flags DB_LOG_AUTOREMOVE\n');
    expect(fixed.error).toBe('');
    expect(fixed.files).toContain('__db.001');
    expect(
      lintDbConfig('  # logs here\nset_lg_dir .\n# keep the disk small\nset_flags DB_LOG_AUTOREMOVE\n').errors,
    ).toEqual([]);
  });

  it('in a path, a "#" inside a name is part of the name, as db5.3 reads it', () => {
    expect(lintDbConfig('set_data_dir data#2\n').errors).toEqual([]);
    expect(logDirOf('set_lg_dir ../logs#2\n')).toBe('../logs#2');
  });

  it(
    'is never returned by a reader of DB_CONFIG: the log directory lookup refuses the line, naming it and the ' + 'fix',
    async () => {
      expect(() => logDirOf('set_flags DB_LOG_AUTOREMOVE\nset_lg_dir ../dblogs # alternate log directory\n')).toThrow(
        'DB_CONFIG line 2: a comment after the directive ("# alternate log directory"): "#" starts a comment ' +
          'only at the start of a line, so Berkeley DB would take "../dblogs # alternate log directory" as the ' +
          'path; move the comment to a line of its own above "set_lg_dir ../dblogs"',
      );
      const env = await scratchEnv('set_lg_dir ../dblogs # alternate log directory\n');
      await writeFile(path.join(env, 'TMSS10.catalog'), 'data');
      const file = path.join(env, 'DB_CONFIG');
      await expect(logDirectory(env)).rejects.toThrow(
        `${file}:1: a comment after the directive ("# alternate log directory")`,
      );
      // The wipe reads the log directory first: it refuses, and deletes nothing.
      const wipe = await wipeReplicantEnv(env).catch((e: unknown) => e);
      expect(wipe).toBeInstanceOf(BdbEnvError);
      expect((wipe as Error).message).toContain(
        'move the comment to a line of its own above "set_lg_dir ../dblogs"; nothing was changed',
      );
      expect((await readdir(env)).sort()).toEqual(['DB_CONFIG', 'TMSS10.catalog']);
    },
  );

  it('makes configure-* refuse the file, listing every such line, and leave it as it was', async () => {
    const text =
      'set_flags DB_LOG_AUTOREMOVE # small disk\nset_lg_dir ../dblogs\nset_verbose DB_VERB_REPLICATION on # ' +
      'for the message log\n';
    const env = await scratchEnv(text);
    const err = await writeDbConfig(env, 'master', pair, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BdbEnvError);
    const lines = (err as Error).message.split('\n');
    expect(lines[0]).toBe(
      `${path.join(env, 'DB_CONFIG')} has errors that replup cannot fix; edit the file, then retry:`,
    );
    expect(lines.slice(1).map((l) => l.split(': a comment')[0])).toEqual([
      `${path.join(env, 'DB_CONFIG')}:1`,
      `${path.join(env, 'DB_CONFIG')}:3`,
    ]);
    expect(await readFile(path.join(env, 'DB_CONFIG'), 'utf8')).toBe(text);
  });
});

describe('rep_set_config DB_REP_CONF_AUTOINIT off on the replicant', () => {
  it('is found in every spelling db5.3 accepts, and in the seed split form replup corrects', async () => {
    const spellings = [
      'rep_set_config DB_REP_CONF_AUTOINIT off',
      'rep_set_config db_rep_conf_autoinit OFF',
      'rep_set_config\tDB_REP_CONF_AUTOINIT\tOff',
      '  rep_set_config   DB_REP_CONF_AUTOINIT   off  ',
    ];
    for (const s of spellings) {
      expect((await db53Opens(`${s}\n`)).error, s).toBe('');
      expect(autoInitOffLines(`# x\n${s}\n`), s).toEqual([{ line: 2, text: s.trim() }]);
    }
    expect(autoInitOffLines('rep_set_config DB REP_CONF_AUTOINIT off\n')).toEqual([
      { line: 1, text: 'rep_set_config DB REP_CONF_AUTOINIT off' },
    ]);
    // On, or the flag alone (which means on), or commented out: not off.
    for (const s of [
      'rep_set_config DB_REP_CONF_AUTOINIT on',
      'rep_set_config DB_REP_CONF_AUTOINIT',
      '#rep_set_config DB_REP_CONF_AUTOINIT off',
    ]) {
      expect(autoInitOffLines(s), s).toEqual([]);
    }
    expect(lintDbConfig('rep_set_config DB_REP_CONF_AUTOINIT\n').errors).toEqual([]);
  });

  it(
    "refuses the operators' case file at configure-replicant, naming line 22 and the fix; the master may keep " + 'it',
    async () => {
      const text = await readFile(CASE_DB_CONFIG, 'utf8');
      expect(text.split('\n')[21]).toBe('rep_set_config DB REP_CONF_AUTOINIT off');
      const replicant = applyReplicationBlock(text, 'replicant', pair, opts);
      expect(replicant.errors).toEqual([
        {
          line: 22,
          message:
            '"rep_set_config DB_REP_CONF_AUTOINIT off" turns automatic internal initialisation off, but this ' +
            'runbook empties the replicant, so internal initialisation is the only way it can join ' +
            ('(without it the replicant logs "join failure" over and over: DB_REP_JOIN_FAILURE); delete the ' +
              'line or write "rep_set_config DB_REP_CONF_AUTOINIT on"'),
        },
      ]);
      expect(applyReplicationBlock(text, 'master', pair, opts).errors).toEqual([]);

      const env = await scratchEnv(text);
      const err = await writeDbConfig(env, 'replicant', pair, opts).catch((e: unknown) => e);
      expect((err as Error).message).toContain(
        `${path.join(env, 'DB_CONFIG')}:22: "rep_set_config DB_REP_CONF_AUTOINIT off" turns automatic internal ` +
          `initialisation off`,
      );
      expect(await readFile(path.join(env, 'DB_CONFIG'), 'utf8')).toBe(text);

      // The fix the message gives is accepted.
      const fixed = applyReplicationBlock(
        text.replace('rep_set_config DB REP_CONF_AUTOINIT off', 'rep_set_config DB_REP_CONF_AUTOINIT on'),
        'replicant',
        pair,
        opts,
      );
      expect(fixed.errors).toEqual([]);
    },
  );
});
