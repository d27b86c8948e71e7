import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyReplicationBlock, generateDbConfig, lintDbConfig } from '../../../activities/bdb-replicant/db-config.js';
import { runTool } from '../../../activities/bdb-replicant/tools.js';
import { documentationPair, lineOf, SEED_DB_CONFIG } from './helpers.js';

const pair = documentationPair(5010, 5010);
const seed = await readFile(SEED_DB_CONFIG, 'utf8');

/** What db5.3 itself says when it opens an environment with this DB_CONFIG (empty: accepted). */
const dirs: string[] = [];
async function db53Verdict(config: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'replup-dbconfig-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'DB_CONFIG'), config.replaceAll('../dblogs', '.'));
  const r = await runTool('recover', ['-e', '-h', dir]);
  return r.stderr.split('\n').find((l) => /BDB\d+/.test(l)) ?? '';
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('lintDbConfig', () => {
  // The replicant block as an operator gets it by deleting the #'s of the seed's listing.
  const uncommentedByHand = [
    'set_open_flags db_init_rep on',
    'rep-set-priority 0',
    'repmgr_site 192.0.2.20 5010 db_local_site on',
    'repmgr_site 192.0.2.10 5010 db_bootstrap_helper on',
    'rep_set_config DB REP_CONF_BULK on',
    '',
  ].join('\n');

  it("corrects the seed's typos, reports each with its line, and db5.3 opens the corrected file", async () => {
    const lint = lintDbConfig(uncommentedByHand);
    expect(lint.errors).toEqual([]);
    expect(lint.warnings).toEqual([
      {
        line: 2,
        message:
          '"rep-set-priority" corrected to "rep_set_priority": Berkeley DB directives use underscores (it ' +
          'refuses "rep-set-priority" with BDB1585)',
      },
      {
        line: 5,
        message:
          '"DB REP_CONF_BULK" corrected to "DB_REP_CONF_BULK": the flag is one word (Berkeley DB refuses the ' +
          'split form with BDB1584)',
      },
    ]);
    expect(lineOf(lint.text, 2)).toBe('rep_set_priority 0');
    expect(lineOf(lint.text, 5)).toBe('rep_set_config DB_REP_CONF_BULK on');
    expect(lineOf(lint.text, 3)).toBe('repmgr_site 192.0.2.20 5010 db_local_site on');

    expect(await db53Verdict(uncommentedByHand)).toContain('BDB1585 unrecognized name-value pair: rep-set-priority');
    expect(await db53Verdict(lint.text)).toBe('');
  });

  it('allows at most 3 keyword pairs on a repmgr_site line, as db5.3 does', async () => {
    const text =
      'set_open_flags db_init_rep on\nrepmgr_site 127.0.0.1 5010 db_local_site on db_group_creator on ' +
      'db_legacy on db_repmgr_peer on\n';
    expect(lintDbConfig(text).errors).toEqual([
      {
        line: 2,
        message:
          'repmgr_site has 4 keyword pairs; Berkeley DB 5.3 accepts at most 3 (it refuses the file with BDB1584)',
      },
    ]);
    expect(await db53Verdict(text)).toContain('BDB1584 line 2: repmgr_site: incorrect name-value pair');
  });

  it('wants exactly one db_local_site', () => {
    const two = 'repmgr_site 10.0.0.1 5010 db_local_site on\nrepmgr_site 10.0.0.2 5010 db_local_site on\n';
    expect(lintDbConfig(two).errors).toEqual([
      {
        line: 2,
        message:
          'db_local_site is on in 2 repmgr_site lines (lines 1, 2): exactly one must name this machine ' +
          '(Berkeley DB refuses more with BDB3667)',
      },
    ]);
    const none = 'repmgr_site 10.0.0.1 5010\nrepmgr_site 10.0.0.2 5010 db_bootstrap_helper on\n';
    expect(lintDbConfig(none).errors).toEqual([
      { line: 0, message: 'no repmgr_site line says "db_local_site on": exactly one must name this machine' },
    ]);
  });

  it('flags unknown directives, names instead of IPv4 addresses, Windows paths and CRLF', () => {
    const lint = lintDbConfig(
      'set_lg_dir ..\\dblogs\r\nfrobnicate 1\r\nrepmgr_site master.tapetrack.com 5010 db_local_site on\r\n',
    );
    expect(lint.errors).toEqual([
      {
        line: 2,
        message:
          'unknown directive "frobnicate": Berkeley DB refuses to open the environment (BDB1585); fix or ' +
          'remove the line',
      },
    ]);
    expect(lint.warnings).toEqual([
      {
        line: 0,
        message: 'Windows line endings (CRLF) converted to LF: db5.3 on Linux would read "on\\r" as a bad value',
      },
      { line: 1, message: 'set_lg_dir "..\\dblogs" uses Windows separators; on Linux write "/" (e.g. ../dblogs)' },
      {
        line: 3,
        message:
          'repmgr_site host "master.tapetrack.com" is a name: the vendor advises IPv4 addresses (a name can ' +
          'resolve to IPv6 and stop replication)',
      },
    ]);
    expect(lint.text).not.toContain('\r');
  });
});

describe('applyReplicationBlock ("uncomment the block")', () => {
  it("uncomments the replicant block of the seed's file with the plan's sites, once", async () => {
    const first = applyReplicationBlock(seed, 'replicant', pair, { logDir: '../dblogs' });
    expect(first.errors).toEqual([]);
    expect(first.changed).toBe(true);
    const lines = first.text.split('\n');
    expect(lines.slice(24, 28)).toEqual([
      'rep_set_priority 0',
      'repmgr_site 192.0.2.20 5010 db_local_site on',
      'repmgr_site 192.0.2.10 5010 db_bootstrap_helper on',
      'rep_set_config DB_REP_CONF_BULK on',
    ]);
    // The master block stays commented; the replication verbose line was there already (no "on" needed).
    expect(lines.slice(14, 17)).toEqual(seed.split('\n').slice(14, 17));
    expect(first.changes).toEqual([
      "uncommented the replicant block at lines 25-28 with the plan's sites",
      'added "set_open_flags db_init_rep on"',
      'added "set_open_flags db_thread on"',
    ]);
    expect(first.text.match(/set_verbose DB_VERB_REPLICATION/g)).toHaveLength(1);
    expect(await db53Verdict(first.text)).toBe('');

    const again = applyReplicationBlock(first.text, 'replicant', pair, { logDir: '../dblogs' });
    expect(again).toMatchObject({ changed: false, changes: [], errors: [] });
    expect(again.text).toBe(first.text);
  });

  it('turns a file with the replicant block active into a master: the old lines are commented out', () => {
    const replicant = applyReplicationBlock(seed, 'replicant', pair, { logDir: '../dblogs' }).text;
    const master = applyReplicationBlock(replicant, 'master', pair, { logDir: '../dblogs' });
    expect(master.errors).toEqual([]);
    const active = master.text.split('\n').filter((l) => /^(rep_|repmgr_)/.test(l));
    expect(active).toEqual([
      'rep_set_priority 1',
      'repmgr_site 192.0.2.20 5010',
      'repmgr_site 192.0.2.10 5010 db_local_site on db_group_creator on',
      'rep_set_timeout DB_REP_HEARTBEAT_SEND 1000000',
    ]);
    expect(master.changes).toContain(
      'commented out line 25 "rep_set_priority 0" (replaced by the plan\'s master block)',
    );
    expect(master.changes).toContain("uncommented the master block at lines 15-18 with the plan's sites");
  });

  it('writes a complete file where there is none, with logs outside the environment', () => {
    const written = applyReplicationBlock(undefined, 'master', pair, { logDir: '../logs' });
    expect(written.text).toBe(generateDbConfig('master', pair, { logDir: '../logs' }));
    expect(written.text.split('\n').slice(1, 5)).toEqual([
      'set_open_flags db_init_rep on',
      'set_open_flags db_thread on',
      'set_verbose DB_VERB_REPLICATION on',
      'set_lg_dir ../logs',
    ]);
    expect(written.changes).toEqual(['wrote a new DB_CONFIG with the master block']);
  });
});
