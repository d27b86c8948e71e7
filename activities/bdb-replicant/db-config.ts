// DB_CONFIG generation and linting for the TapeTrack replicant runbook (DOMAIN.md §2, seed 001).
// Pure: no Node imports, so a workflow may use it too. Every rule below was checked against
// Debian's db5.3 on loopback (db5.3_recover -e reading the file):
// - a hyphenated directive (`rep-set-priority`, the seed's prose) is refused: BDB1585;
// - `rep_set_config DB REP_CONF_BULK on` (the seed's listing) is refused: BDB1584;
// - a repmgr_site line with 4 keyword pairs is refused: BDB1584;
// - two `db_local_site on` lines are refused: BDB3667;
// - flag names are case-insensitive (`DB_REP_CONF_BULK` = `db_rep_conf_bulk`), and so is on/off;
// - `#` starts a comment only as the first non-blank character of a line (Oracle, "DB_CONFIG
//   configuration file": https://docs.oracle.com/database/bdb181/html/programmer_reference/env_db_config.html).
//   After a directive it is refused (BDB1584), or, after a path directive, read as part of the
//   path: `set_lg_dir ../dblogs # logs` names the folder "../dblogs # logs";
// - `rep_set_config FLAG` without on/off means on (Oracle, DB_ENV->rep_set_config:
//   https://docs.oracle.com/cd/E17076_02/html/api_reference/CXX/repconfig.html).

export type BdbRole = 'master' | 'replicant';

export interface ReplicationSite {
  /** An IPv4 address: the vendor warns that a name may resolve to IPv6 and break replication. */
  host: string;
  port: number;
}

export interface ReplicationPair {
  master: ReplicationSite;
  replicant: ReplicationSite;
}

/** One finding; `line` is 1-based in the text that was linted (0: the file as a whole). */
export interface DbConfigIssue {
  line: number;
  message: string;
}

export interface DbConfigLint {
  /** The text with the corrections applied (the seed's typos fixed, CRLF turned into LF). */
  text: string;
  warnings: DbConfigIssue[];
  errors: DbConfigIssue[];
}

export interface DbConfigUpdate extends DbConfigLint {
  changed: boolean;
  /** What was done, in the operator's words, e.g. "uncommented the master block at lines 15-17". */
  changes: string[];
  /** Every line replup changed, as written before and after, with the typos it corrected on it. */
  lineChanges: DbConfigLineChange[];
}

/** One line of DB_CONFIG as replup changed it (`before` absent: added; `after` absent: removed). */
export interface DbConfigLineChange {
  /** 1-based, in the file as written before the change (an added line: where it now is). */
  line: number;
  before?: string;
  after?: string;
  /** The seed's typos corrected on this line, e.g. "rep-set-priority" corrected to "rep_set_priority". */
  corrections: string[];
}

/** `line 25 "#rep-set-priority 0" → "rep_set_priority 0" (corrected …)`, for a step note or a report. */
export function describeLineChange(c: DbConfigLineChange): string {
  const text =
    c.before === undefined
      ? `added "${c.after}"`
      : c.after === undefined
        ? `removed "${c.before}"`
        : `"${c.before}" → "${c.after}"`;
  const typos = c.corrections.map((m) => m.split(':')[0]);
  return `line ${c.line} ${text}${typos.length ? ` (${typos.join('; ')})` : ''}`;
}

/**
 * The typos lintDbConfig corrects on one line, each with why (`"rep-set-priority" corrected to "rep_set_priority": …`).
 */
function correctionsOn(line: string): string[] {
  return lintDbConfig(line)
    .warnings.filter((w) => w.message.includes(' corrected to '))
    .map((w) => w.message);
}

export interface DbConfigOptions {
  /** Where the log files go, relative to the environment (set_lg_dir): keep logs out of the env dir. */
  logDir: string;
  /**
   * Master only: send a heartbeat every second. Seen on loopback: a record written by a
   * short-lived process (db5.3_load) can leave a gap on the client that it only re-requests when
   * the next message arrives; the heartbeat is that next message.
   */
  heartbeat?: boolean;
}

/** The priority each role gets in the seed: the master 1, the replicant 0 (never elected). */
export const ROLE_PRIORITY: Record<BdbRole, number> = { master: 1, replicant: 0 };

const REPMGR_SITE_KEYWORDS = [
  'db_bootstrap_helper',
  'db_group_creator',
  'db_legacy',
  'db_local_site',
  'db_repmgr_peer',
];
const MAX_SITE_PAIRS = 3;
const REP_CONFIG_FLAGS = [
  'db_rep_conf_autoinit',
  'db_rep_conf_bulk',
  'db_rep_conf_delayclient',
  'db_rep_conf_inmem',
  'db_rep_conf_lease',
  'db_rep_conf_nowait',
  'db_repmgr_conf_2site_strict',
  'db_repmgr_conf_elections',
];

/** The DB_CONFIG directives of Berkeley DB 5.3 (anything else makes DB_ENV->open fail, BDB1585). */
export const KNOWN_DIRECTIVES: ReadonlySet<string> = new Set([
  'add_data_dir',
  'log_set_config',
  'mutex_set_align',
  'mutex_set_increment',
  'mutex_set_init',
  'mutex_set_max',
  'mutex_set_tas_spins',
  'rep_set_clockskew',
  'rep_set_config',
  'rep_set_limit',
  'rep_set_nsites',
  'rep_set_priority',
  'rep_set_request',
  'rep_set_timeout',
  'repmgr_set_ack_policy',
  'repmgr_site',
  'set_cache_max',
  'set_cachesize',
  'set_create_dir',
  'set_data_dir',
  'set_flags',
  'set_intermediate_dir_mode',
  'set_lg_bsize',
  'set_lg_dir',
  'set_lg_filemode',
  'set_lg_max',
  'set_lg_regionmax',
  'set_lk_detect',
  'set_lk_max_lockers',
  'set_lk_max_locks',
  'set_lk_max_objects',
  'set_lk_partitions',
  'set_lk_priority',
  'set_lk_tablesize',
  'set_lock_timeout',
  'set_memory_init',
  'set_memory_max',
  'set_metadata_dir',
  'set_mp_max_openfd',
  'set_mp_max_write',
  'set_mp_mmapsize',
  'set_mp_mtxcount',
  'set_mp_pagesize',
  'set_mp_tablesize',
  'set_open_flags',
  'set_reg_timeout',
  'set_shm_key',
  'set_thread_count',
  'set_tmp_dir',
  'set_tx_max',
  'set_txn_timeout',
  'set_verbose',
]);

/** The replication block the seed asks for, with the plan's addresses in place of its examples. */
export function replicationBlock(
  role: BdbRole,
  pair: ReplicationPair,
  opts: Pick<DbConfigOptions, 'heartbeat'> = {},
): string[] {
  const { master, replicant } = pair;
  if (role === 'master') {
    const lines = [
      `rep_set_priority ${ROLE_PRIORITY.master}`,
      `repmgr_site ${replicant.host} ${replicant.port}`,
      `repmgr_site ${master.host} ${master.port} db_local_site on db_group_creator on`,
    ];
    if (opts.heartbeat !== false) lines.push('rep_set_timeout DB_REP_HEARTBEAT_SEND 1000000');
    return lines;
  }
  return [
    `rep_set_priority ${ROLE_PRIORITY.replicant}`,
    `repmgr_site ${replicant.host} ${replicant.port} db_local_site on`,
    `repmgr_site ${master.host} ${master.port} db_bootstrap_helper on`,
    'rep_set_config DB_REP_CONF_BULK on',
  ];
}

/**
 * The lines db5.3_replicate needs on this machine (DOMAIN.md §2): the replication subsystem and
 * threads opened by DB_CONFIG (db_replicate does not set them), replication messages in the
 * message log, and log files outside the environment directory.
 */
export function toolLines(logDir: string): string[] {
  return [
    'set_open_flags db_init_rep on',
    'set_open_flags db_thread on',
    'set_verbose DB_VERB_REPLICATION on',
    `set_lg_dir ${logDir}`,
  ];
}

/** The complete DB_CONFIG for a fresh environment of this role. */
export function generateDbConfig(role: BdbRole, pair: ReplicationPair, opts: DbConfigOptions): string {
  return [
    '# Written by replup (TapeTrack replicant runbook).',
    ...toolLines(opts.logDir),
    `# ${role} block`,
    ...replicationBlock(role, pair, opts),
    '',
  ].join('\n');
}

/** Directives whose value is a path: db5.3 takes the rest of the line, a trailing "# ..." included. */
export const PATH_DIRECTIVES: ReadonlySet<string> = new Set([
  'add_data_dir',
  'set_create_dir',
  'set_data_dir',
  'set_lg_dir',
  'set_metadata_dir',
  'set_tmp_dir',
]);

interface Directive {
  name: string;
  /** The arguments, never with a trailing comment in them. */
  args: string[];
  /** A trailing "# ..." after the directive (Berkeley DB does not read it as a comment), if any. */
  comment?: string;
}

/** A directive line without its trailing comment; comment lines and blank lines are undefined. */
function parseDirective(line: string): Directive | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const [name = ''] = trimmed.split(/\s/, 1);
  const rest = trimmed.slice(name.length);
  // A path may hold "#" (a/b#2); a "#" after a blank is the operator's comment. Elsewhere any "#" is.
  const at = PATH_DIRECTIVES.has(name.toLowerCase()) ? rest.search(/\s#/) : rest.indexOf('#');
  const code = at < 0 ? rest : rest.slice(0, at);
  const args = code.trim() === '' ? [] : code.trim().split(/\s+/);
  return at < 0 ? { name, args } : { name, args, comment: rest.slice(at).trim() };
}

/** The error for a directive followed by a comment: what Berkeley DB does with it, and the fix. */
function trailingCommentMessage(d: Directive): string {
  const directive = [d.name, ...d.args].join(' ');
  const effect = PATH_DIRECTIVES.has(d.name.toLowerCase())
    ? `Berkeley DB would take "${d.args.join(' ')} ${d.comment}" as the path`
    : 'Berkeley DB refuses the line (BDB1584)';
  return (
    `a comment after the directive ("${d.comment}"): "#" starts a comment only at the start of a line, so ` +
    `${effect}; move the comment to a line of its own above "${directive}"`
  );
}

/** Thrown by readers of a DB_CONFIG value (e.g. logDirOf) when the line they need cannot be read safely. */
export class DbConfigLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'DbConfigLineError';
  }
}

const normalizeLine = (line: string): string => line.trim().split(/\s+/).join(' ').toLowerCase();

/** Lint DB_CONFIG text: fix what is safe to fix (with a warning), report what is not. */
export function lintDbConfig(input: string): DbConfigLint {
  const warnings: DbConfigIssue[] = [];
  const errors: DbConfigIssue[] = [];
  if (input.includes('\r\n')) {
    warnings.push({
      line: 0,
      message: 'Windows line endings (CRLF) converted to LF: db5.3 on Linux would read "on\\r" as a bad value',
    });
  }
  const lines = input.replace(/\r\n/g, '\n').split('\n');
  const localSites: number[] = [];
  const priorities: number[] = [];

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const d = parseDirective(raw);
    if (!d) return;
    let { name, args } = d;
    const original = raw.trim();
    // Reported, and the rest of the line still checked without the comment (the file is refused either way).
    if (d.comment !== undefined) errors.push({ line: lineNo, message: trailingCommentMessage(d) });

    if (!KNOWN_DIRECTIVES.has(name) && KNOWN_DIRECTIVES.has(name.replace(/-/g, '_'))) {
      const fixed = name.replace(/-/g, '_');
      warnings.push({
        line: lineNo,
        message:
          `"${name}" corrected to "${fixed}": Berkeley DB directives use underscores (it refuses "${name}" ` +
          `with BDB1585)`,
      });
      name = fixed;
    }
    if (!KNOWN_DIRECTIVES.has(name)) {
      errors.push({
        line: lineNo,
        message:
          `unknown directive "${name}": Berkeley DB refuses to open the environment (BDB1585); fix or remove ` +
          `the line`,
      });
      return;
    }

    if (name === 'rep_set_config') {
      // The seed's listing reads "DB REP_CONF_BULK on": the flag is one word, DB_REP_CONF_BULK.
      const first = args[0]?.toUpperCase();
      if (first === 'DB' && args[1] !== undefined && REP_CONFIG_FLAGS.includes(`db_${args[1].toLowerCase()}`)) {
        const fixed = `DB_${args[1].toUpperCase()}`;
        warnings.push({
          line: lineNo,
          message:
            `"DB ${args[1]}" corrected to "${fixed}": the flag is one word (Berkeley DB refuses the split form ` +
            `with BDB1584)`,
        });
        args = [fixed, ...args.slice(2)];
      }
      const [flag, value, ...rest] = args;
      if (flag === undefined || !REP_CONFIG_FLAGS.includes(flag.toLowerCase())) {
        errors.push({
          line: lineNo,
          message:
            `rep_set_config: unknown flag "${flag ?? ''}"; expected one of ` +
            `${REP_CONFIG_FLAGS.map((f) => f.toUpperCase()).join(', ')}`,
        });
      } else if ((value !== undefined && !isOnOff(value)) || rest.length > 0) {
        errors.push({
          line: lineNo,
          message: `rep_set_config ${flag}: expected "on" or "off" after the flag (or nothing, which means on)`,
        });
      }
    }

    if (name === 'rep_set_priority') {
      const value = args[0];
      if (args.length !== 1 || value === undefined || !/^\d+$/.test(value)) {
        errors.push({
          line: lineNo,
          message: 'rep_set_priority: expected one whole number (0 for a replicant, 1 for the master)',
        });
      } else {
        priorities.push(lineNo);
      }
    }

    if (name === 'repmgr_site') lintRepmgrSite(args, lineNo, warnings, errors, localSites);

    if (name === 'set_lg_dir' && args.some((a) => a.includes('\\'))) {
      warnings.push({
        line: lineNo,
        message: `set_lg_dir "${args.join(' ')}" uses Windows separators; on Linux write "/" (e.g. ../dblogs)`,
      });
    }

    const rewritten = [name, ...args].join(' ');
    // A line with a comment is left as written: the error above makes the operator edit it.
    if (d.comment === undefined && normalizeLine(rewritten) !== normalizeLine(original)) lines[index] = rewritten;
  });

  if (priorities.length > 1) {
    errors.push({
      line: priorities[1] ?? 0,
      message: `rep_set_priority is set ${priorities.length} times (lines ${priorities.join(', ')}): keep one`,
    });
  }
  const hasSites = lines.some((l) => parseDirective(l)?.name === 'repmgr_site');
  if (hasSites && localSites.length === 0) {
    errors.push({
      line: 0,
      message: 'no repmgr_site line says "db_local_site on": exactly one must name this machine',
    });
  }
  if (localSites.length > 1) {
    errors.push({
      line: localSites[1] ?? 0,
      message:
        `db_local_site is on in ${localSites.length} repmgr_site lines (lines ${localSites.join(', ')}): ` +
        `exactly one must name this machine (Berkeley DB refuses more with BDB3667)`,
    });
  }
  return { text: lines.join('\n'), warnings, errors };
}

function isOnOff(value: string | undefined): boolean {
  return value !== undefined && ['on', 'off'].includes(value.toLowerCase());
}

function lintRepmgrSite(
  args: string[],
  lineNo: number,
  warnings: DbConfigIssue[],
  errors: DbConfigIssue[],
  localSites: number[],
): void {
  const [host, port, ...pairs] = args;
  if (host === undefined || port === undefined) {
    errors.push({
      line: lineNo,
      message: 'repmgr_site: expected a host and a port, e.g. "repmgr_site 192.0.2.10 5010"',
    });
    return;
  }
  const portNumber = Number(port);
  if (!/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) {
    errors.push({ line: lineNo, message: `repmgr_site: port "${port}" is not a port number (1-65535)` });
  }
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    warnings.push({
      line: lineNo,
      message:
        `repmgr_site host "${host}" is a name: the vendor advises IPv4 addresses (a name can resolve to IPv6 ` +
        `and stop replication)`,
    });
  }
  if (pairs.length % 2 !== 0) {
    errors.push({ line: lineNo, message: `repmgr_site: keyword "${pairs[pairs.length - 1]}" has no on/off value` });
    return;
  }
  const pairCount = pairs.length / 2;
  if (pairCount > MAX_SITE_PAIRS) {
    errors.push({
      line: lineNo,
      message:
        `repmgr_site has ${pairCount} keyword pairs; Berkeley DB 5.3 accepts at most ${MAX_SITE_PAIRS} (it ` +
        `refuses the file with BDB1584)`,
    });
  }
  for (let i = 0; i < pairs.length; i += 2) {
    const keyword = (pairs[i] ?? '').toLowerCase();
    const value = pairs[i + 1];
    if (!REPMGR_SITE_KEYWORDS.includes(keyword)) {
      errors.push({
        line: lineNo,
        message: `repmgr_site: unknown keyword "${pairs[i]}"; expected one of ${REPMGR_SITE_KEYWORDS.join(', ')}`,
      });
    } else if (!isOnOff(value)) {
      errors.push({ line: lineNo, message: `repmgr_site ${keyword}: expected "on" or "off", got "${value}"` });
    } else if (keyword === 'db_local_site' && value?.toLowerCase() === 'on') {
      localSites.push(lineNo);
    }
  }
}

/** Directives that make up "the block": the lines the seed tells the operator to uncomment. */
const BLOCK_DIRECTIVES = new Set(['rep_set_priority', 'repmgr_site']);
const COMMENTED_BLOCK_LINE = /^#\s*(repmgr[-_]site|rep[-_]set[-_]config)\b/;

/** Where the seed's commented block for this role starts and ends (end exclusive), if present. */
function findCommentedBlock(lines: string[], role: BdbRole): { start: number; end: number } | undefined {
  const head = new RegExp(`^#\\s*rep[-_]set[-_]priority\\s+${ROLE_PRIORITY[role]}\\s*$`);
  const start = lines.findIndex((l) => head.test(l.trim()));
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < lines.length && COMMENTED_BLOCK_LINE.test((lines[end] ?? '').trim())) end++;
  return { start, end };
}

/**
 * "Uncomment the block" (seed 001), made idempotent: lint and correct the file, then
 * - if this role's block is already active with the plan's sites, change nothing;
 * - else comment out any other active rep_set_priority/repmgr_site lines (e.g. the other role's),
 *   put the block where the seed's commented block for this role is, or append it;
 * - add the lines the tools need on this machine when missing.
 */
export function applyReplicationBlock(
  existing: string | undefined,
  role: BdbRole,
  pair: ReplicationPair,
  opts: DbConfigOptions,
): DbConfigUpdate {
  if (existing === undefined || existing.trim() === '') {
    const text = generateDbConfig(role, pair, opts);
    const lint = lintDbConfig(text);
    const lineChanges = text
      .split('\n')
      .flatMap((after, i) => (after === '' ? [] : [{ line: i + 1, after, corrections: [] }]));
    return { ...lint, changed: true, changes: [`wrote a new DB_CONFIG with the ${role} block`], lineChanges };
  }
  const before = lintDbConfig(existing);
  const lines = before.text.split('\n');
  const changes: string[] = before.warnings
    .filter((w) => w.message.includes('corrected'))
    .map((w) => `line ${w.line}: ${w.message}`);
  // Active lines lintDbConfig corrected (the seed's typos in a block uncommented by hand).
  const written = existing.replace(/\r\n/g, '\n').split('\n');
  const blockWarnings: DbConfigIssue[] = [];
  const lineChanges: DbConfigLineChange[] = lines.flatMap((l, i) =>
    written[i] !== undefined && l.trim() !== written[i].trim()
      ? [{ line: i + 1, before: written[i].trim(), after: l, corrections: correctionsOn(written[i]) }]
      : [],
  );
  const desired = replicationBlock(role, pair, opts);
  const desiredSet = new Set(desired.map(normalizeLine));
  // The other role's block (e.g. the replicant's rep_set_config line) goes when this one comes in.
  const otherRole: BdbRole = role === 'master' ? 'replicant' : 'master';
  const stale = new Set(replicationBlock(otherRole, pair, opts).map(normalizeLine));

  const activeBlock = lines
    .map((l, i) => ({ l, i, d: parseDirective(l) }))
    .filter(
      (x) =>
        x.d !== undefined &&
        (BLOCK_DIRECTIVES.has(x.d.name) || (stale.has(normalizeLine(x.l)) && !desiredSet.has(normalizeLine(x.l)))),
    );
  const blockInPlace =
    desired.every((want) => lines.some((l) => normalizeLine(l) === normalizeLine(want))) &&
    activeBlock.every((x) => desiredSet.has(normalizeLine(x.l)));

  if (!blockInPlace) {
    // Comment out what is active now (block lines, and desired lines that will be re-added).
    for (const [i, l] of lines.entries()) {
      const d = parseDirective(l);
      if (d && (BLOCK_DIRECTIVES.has(d.name) || desiredSet.has(normalizeLine(l)) || stale.has(normalizeLine(l)))) {
        lineChanges.push({ line: i + 1, before: l.trim(), after: `#${l}`, corrections: [] });
        lines[i] = `#${l}`;
        changes.push(`commented out line ${i + 1} "${l.trim()}" (replaced by the plan's ${role} block)`);
      }
    }
    const commented = findCommentedBlock(lines, role);
    if (commented) {
      // Each commented line of the seed's block against the line that replaces it: the typos on it
      // (the seed's "rep-set-priority", "DB REP_CONF_BULK") are named, not silently overwritten.
      const old = lines.slice(commented.start, commented.end);
      for (let j = 0; j < Math.max(old.length, desired.length); j++) {
        const was = old[j]?.trim();
        const now = desired[j];
        lineChanges.push({
          line: commented.start + j + 1,
          ...(was !== undefined && { before: was }),
          ...(now !== undefined && { after: now }),
          corrections: was === undefined ? [] : correctionsOn(was.replace(/^#\s*/, '')),
        });
      }
      // Reported like a typo on an active line, so the step note and the write's summary name them.
      for (const c of lineChanges.filter((x) => x.line > commented.start && x.line <= commented.start + old.length)) {
        blockWarnings.push(...c.corrections.map((message) => ({ line: c.line, message })));
      }
      lines.splice(commented.start, commented.end - commented.start, ...desired);
      changes.push(
        `uncommented the ${role} block at lines ${commented.start + 1}-${commented.start + desired.length} ` +
          `with the plan's sites`,
      );
    } else {
      if ((lines[lines.length - 1] ?? '') === '') lines.pop();
      lines.push(`# ${role} block (written by replup)`, ...desired, '');
      changes.push(`appended the ${role} block (the file had no commented ${role} block)`);
      const first = lines.length - desired.length; // 1-based line of the block's first directive
      lineChanges.push(...desired.map((after, k) => ({ line: first + k, after, corrections: [] })));
    }
  }

  const missing = toolLines(opts.logDir).filter((want) => !hasEquivalent(lines, want));
  if (missing.length > 0) {
    if ((lines[lines.length - 1] ?? '') === '') lines.pop();
    lines.push('# needed by the Berkeley DB replication tools (written by replup)', ...missing, '');
    changes.push(...missing.map((m) => `added "${m}"`));
    const first = lines.length - missing.length; // 1-based line of the first added directive
    lineChanges.push(...missing.map((after, k) => ({ line: first + k, after, corrections: [] })));
  }

  const after = lintDbConfig(lines.join('\n'));
  // The replicant starts empty (wipe-replicant): it can only join by internal initialisation.
  const roleErrors =
    role === 'replicant'
      ? autoInitOffLines(before.text).map((off) => ({ line: off.line, message: autoInitOffMessage(off) }))
      : [];
  // The operator's own mistakes are reported at the lines of the file they edit (the block may move lines).
  const found = before.errors.length > 0 ? before.errors : after.errors;
  return {
    text: after.text,
    warnings: [...before.warnings, ...blockWarnings].sort((a, b) => a.line - b.line),
    errors: [...found, ...roleErrors].sort((a, b) => a.line - b.line),
    changed: after.text !== existing,
    changes,
    lineChanges: after.text !== existing ? lineChanges : [],
  };
}

/** Is a tool line already there, in any case and with "on" implied (`set_verbose X` = `set_verbose X on`)? */
function hasEquivalent(lines: string[], want: string): boolean {
  const w = parseDirective(want);
  if (!w) return false;
  return lines.some((l) => {
    const d = parseDirective(l);
    if (!d || d.name !== w.name) return false;
    if (w.name === 'set_lg_dir') return true; // any log directory the operator chose is kept
    const value = (d.args[1] ?? 'on').toLowerCase();
    return (d.args[0] ?? '').toLowerCase() === (w.args[0] ?? '').toLowerCase() && value === 'on';
  });
}

/**
 * The set_lg_dir value of a DB_CONFIG (as written, relative to the environment), if any.
 * Throws DbConfigLineError when that line carries a trailing comment: Berkeley DB would read the
 * comment as part of the path, so neither "with" nor "without" it is safe to return.
 */
export function logDirOf(text: string): string | undefined {
  for (const [index, line] of text.replace(/\r\n/g, '\n').split('\n').entries()) {
    const d = parseDirective(line);
    if (d?.name.toLowerCase() !== 'set_lg_dir' || d.args[0] === undefined) continue;
    if (d.comment !== undefined)
      throw new DbConfigLineError(index + 1, `DB_CONFIG line ${index + 1}: ${trailingCommentMessage(d)}`);
    return d.args.join(' ');
  }
  return undefined;
}

/**
 * logDirOf a DB_CONFIG read from `file` (undefined text: no file, no log directory), for an operator: a line it
 * refuses throws `refuse("file:line: message")`.
 */
export function logDirOrRefuse(
  text: string | undefined,
  file: string,
  refuse: (problem: string) => Error,
): string | undefined {
  if (text === undefined) return undefined;
  try {
    return logDirOf(text);
  } catch (err) {
    if (!(err instanceof DbConfigLineError)) throw err;
    throw refuse(`${file}:${err.line}: ${err.message.replace(/^DB_CONFIG line \d+: /, '')}`);
  }
}

/** A `rep_set_config DB_REP_CONF_AUTOINIT off` line: its 1-based number and its text as written. */
export interface AutoInitOff {
  line: number;
  text: string;
}

/**
 * Lines that turn automatic internal initialisation off, in every spelling db5.3 accepts (any
 * case, blanks or tabs) and the seed's split "DB REP_CONF_AUTOINIT" that replup corrects.
 * With it off, a client that cannot catch up from the master's log files gets
 * DB_REP_JOIN_FAILURE instead of internal initialisation (Oracle, "Initializing a new site":
 * https://docs.oracle.com/cd/E17275_01/html/programmer_reference/rep_init.html; the flag replaced
 * DB_REP_CONF_NOAUTOINIT: https://docs.oracle.com/cd/E17276_01/html/installation/upgrade_11gr2_autoinit.html).
 */
export function autoInitOffLines(text: string): AutoInitOff[] {
  const out: AutoInitOff[] = [];
  for (const [index, line] of text.replace(/\r\n/g, '\n').split('\n').entries()) {
    const d = parseDirective(line);
    if (d?.name.replace(/-/g, '_').toLowerCase() !== 'rep_set_config') continue;
    const args = d.args[0]?.toUpperCase() === 'DB' ? [`DB_${d.args[1] ?? ''}`, ...d.args.slice(2)] : d.args;
    if (args[0]?.toLowerCase() === 'db_rep_conf_autoinit' && args[1]?.toLowerCase() === 'off')
      out.push({ line: index + 1, text: line.trim() });
  }
  return out;
}

/** Why a replicant must not have automatic initialisation off: the runbook has emptied it. */
export function autoInitOffMessage(off: AutoInitOff): string {
  return (
    `"${off.text}" turns automatic internal initialisation off, but this runbook empties the replicant, so ` +
    `internal initialisation is the only way it can join ` +
    (`(without it the replicant logs "join failure" over and over: DB_REP_JOIN_FAILURE); delete the line or ` +
      `write "rep_set_config DB_REP_CONF_AUTOINIT on"`)
  );
}

/** "path:line: message" lines for an operator. */
export function formatIssues(file: string, issues: DbConfigIssue[]): string[] {
  return issues.map((i) => (i.line > 0 ? `${file}:${i.line}: ${i.message}` : `${file}: ${i.message}`));
}

/** What a DB_CONFIG write did (or, previewed, would do), as the step note and the run report name it. */
export interface DbConfigOutcome {
  file: string;
  changed: boolean;
  changes: string[];
  /** Every line changed, before → after, with the typos corrected on it (the run report lists them). */
  lineChanges: DbConfigLineChange[];
  /** path:line: message, for the run report: the typos replup corrects, the advice it gives. */
  warnings: string[];
}

export function dbConfigOutcome(file: string, update: DbConfigUpdate): DbConfigOutcome {
  const { changed, changes, lineChanges } = update;
  return { file, changed, changes, lineChanges, warnings: formatIssues(file, update.warnings) };
}

/** Why a write is refused: the file keeps errors replup cannot fix (one line each, path:line: message). */
export function unfixableDbConfigMessage(file: string, errors: DbConfigIssue[]): string {
  return [`${file} has errors that replup cannot fix; edit the file, then retry:`, ...formatIssues(file, errors)].join(
    '\n',
  );
}
