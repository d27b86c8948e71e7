// "The seed's typos are reported with their lines" (README): uncommenting the seed's block fixes
// its typos, and every changed line is reported before → after, so the step note and the run
// report say what was done to the operator's file, line by line.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { applyReplicationBlock, describeLineChange } from '../../../activities/bdb-replicant/db-config.js';
import { edited } from '../support/fixture-edits.js';
import { documentationPair, lineOf, SEED_DB_CONFIG } from './helpers.js';

const pair = documentationPair(15010, 15011);
const seed = await readFile(SEED_DB_CONFIG, 'utf8');
const seedLine = (n: number) => lineOf(seed, n);

describe("the seed's block uncommented: every line changed, before → after", () => {
  it('replicant: the typos on lines 25 and 28 are named as corrections and warnings with their lines', () => {
    const u = applyReplicationBlock(seed, 'replicant', pair, { logDir: '../dblogs' });
    expect(u.lineChanges.map(describeLineChange)).toEqual([
      `line 25 "${seedLine(25)}" → "rep_set_priority 0" ("rep-set-priority" corrected to "rep_set_priority")`,
      `line 26 "${seedLine(26)}" → "repmgr_site 192.0.2.20 15011 db_local_site on"`,
      `line 27 "${seedLine(27)}" → "repmgr_site 192.0.2.10 15010 db_bootstrap_helper on"`,
      `line 28 "${seedLine(28)}" → "rep_set_config DB_REP_CONF_BULK on" ("DB REP_CONF_BULK" corrected to ` +
        `"DB_REP_CONF_BULK")`,
      'line 30 added "set_open_flags db_init_rep on"',
      'line 31 added "set_open_flags db_thread on"',
    ]);
    // The seed's text really was the typo, and the written file has the fix at that line.
    expect(seedLine(25)).toBe('#rep-set-priority 0');
    expect(u.text.split('\n')[24]).toBe('rep_set_priority 0');
    expect(u.text.split('\n')[29]).toBe('set_open_flags db_init_rep on');
    expect(u.warnings.map((w) => [w.line, w.message.split(':')[0]])).toEqual([
      [25, '"rep-set-priority" corrected to "rep_set_priority"'],
      [28, '"DB REP_CONF_BULK" corrected to "DB_REP_CONF_BULK"'],
    ]);
  });

  it('master: the typo on line 15 and the heartbeat line the block adds', () => {
    const u = applyReplicationBlock(seed, 'master', pair, { logDir: '../dblogs' });
    expect(u.lineChanges.map(describeLineChange).slice(0, 4)).toEqual([
      `line 15 "${seedLine(15)}" → "rep_set_priority 1" ("rep-set-priority" corrected to "rep_set_priority")`,
      `line 16 "${seedLine(16)}" → "repmgr_site 192.0.2.20 15011"`,
      `line 17 "${seedLine(17)}" → "repmgr_site 192.0.2.10 15010 db_local_site on db_group_creator on"`,
      'line 18 added "rep_set_timeout DB_REP_HEARTBEAT_SEND 1000000"',
    ]);
    expect(u.warnings.map((w) => w.line)).toEqual([15]);
  });

  it('a file already configured: nothing changed, nothing listed', () => {
    const once = applyReplicationBlock(seed, 'replicant', pair, { logDir: '../dblogs' });
    expect(applyReplicationBlock(once.text, 'replicant', pair, { logDir: '../dblogs' })).toMatchObject({
      changed: false,
      lineChanges: [],
      warnings: [],
    });
  });

  it('an active line typed with the typo (uncommented by hand) is listed with the same correction', () => {
    const byHand = edited(seed, [
      ['#rep-set-priority 0', 'rep-set-priority 0'],
      ['#repmgr_site replicant-1.tapetrack.com 5010 db_local_site on', 'repmgr_site 192.0.2.20 15011 db_local_site on'],
      [
        '#repmgr_site master.tapetrack.com 5010 db_bootstrap_helper on',
        'repmgr_site 192.0.2.10 15010 db_bootstrap_helper on',
      ],
    ]);
    const u = applyReplicationBlock(byHand, 'replicant', pair, { logDir: '../dblogs' });
    expect(u.lineChanges.map(describeLineChange)).toContain(
      'line 25 "rep-set-priority 0" → "rep_set_priority 0" ("rep-set-priority" corrected to "rep_set_priority")',
    );
  });
});
