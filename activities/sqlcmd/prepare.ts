// Preparing the vendor scripts for a run, on the worker: read each one as sqlcmd reads it (one
// decoder), rewrite the subscription scripts' sync type, and check every run the workflow will
// make — with the very values it will pass — before anything changes. The same functions build the
// variables when the scripts run, so what preflight checked is what runs.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { ArticleReadError, articlesOf, compareArticles } from './articles.js';
import { includeFromDir, readScript } from './files.js';
import { parseSqlcmd, SqlcmdError, type IncludedFile, type OnError } from './parse.js';
import { ScriptEncodingError, type ScriptEncoding } from './read.js';
import {
  rewriteSyncType,
  syncTypesOf,
  SyncTypeRewriteError,
  SYNC_TYPE_PROCEDURES,
  type SyncTypeChange,
} from './rewrite.js';
import {
  DEFAULT_SCRIPT_VARIABLES,
  expandScriptVariables,
  missingPlaceholders,
  sqlcmdVariables,
  type ScriptFor,
} from './variables.js';

/** A script that must not run as it is: the message names the file, the line and the fix. */
export class ScriptProblem extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScriptProblem';
  }
}

/** One run of a script: what it runs for, and the database it runs in (sqlcmd -S/-d). */
export interface ScriptRun {
  for: ScriptFor;
  at: DbRef;
}

export interface LoadedScript {
  /** The text to run (rewritten for subscription scripts), without a byte-order mark. */
  text: string;
  encoding: ScriptEncoding;
  changes: SyncTypeChange[];
}

/**
 * Reads one script from the scripts folder through the one decoder, and rewrites its sync type
 * when asked. A subscription script must come out with every merge subscription call at sync type
 * none, and must have at least one.
 * @throws ScriptProblem naming the file (and line) for an unreadable, undecodable or unsafe script
 */
export async function loadScript(dir: string, file: string, rewrite: boolean): Promise<LoadedScript> {
  let decoded;
  try {
    decoded = await readScript(dir, file);
  } catch (err) {
    if (err instanceof ScriptEncodingError)
      throw new ScriptProblem(
        `script ${join(dir, file)}${err.message.slice(err.file.length)}; nothing has been changed`,
      );
    throw new ScriptProblem(
      `script ${join(dir, file)} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); check ` +
        `scripts.dir in the plan`,
    );
  }
  if (!rewrite) return { ...decoded, changes: [] };
  let rewritten;
  try {
    rewritten = rewriteSyncType(decoded.text);
  } catch (err) {
    if (!(err instanceof SyncTypeRewriteError)) throw err;
    throw new ScriptProblem(`${join(dir, file)} ${err.message}`);
  }
  const calls = syncTypesOf(rewritten.text);
  if (calls.length === 0) {
    throw new ScriptProblem(
      `${join(dir, file)} (read as ${decoded.encoding}) has no ` +
        `${Object.keys(SYNC_TYPE_PROCEDURES).join(' or ')} call, so replup cannot find or set its sync type: ` +
        `is it the vendor's subscription script? (a call made inside an :r include must be moved into the ` +
        `script)`,
    );
  }
  const notNone = calls.filter((c) => c.syncType !== 'none');
  if (notNone.length) {
    throw new ScriptProblem(
      `${join(dir, file)}: after the rewrite, ` +
        `${notNone.map((c) => `line ${c.line} (${c.procedure}) still has sync type ${c.syncType}`).join('; ')}` +
        `; set @sync_type = N'none' there by hand`,
    );
  }
  return { ...decoded, text: rewritten.text, changes: rewritten.changes };
}

/** `for` with every server named as replication knows it (@@SERVERNAME, SqlFleetPort.replicationName). */
export async function withReplicationNames(
  f: ScriptFor,
  name: (server: string) => Promise<string>,
): Promise<ScriptFor> {
  const db = async (d: DbRef | undefined) => (d ? { server: await name(d.server), database: d.database } : undefined);
  return {
    ...(f.publication !== undefined && { publication: f.publication }),
    ...(f.publisher && { publisher: (await db(f.publisher))! }),
    ...(f.subscriber && { subscriber: (await db(f.subscriber))! }),
    distributor: (await db(f.distributor))!,
  };
}

/**
 * The variables one run passes (sqlcmd -v): the plan's mapping expanded for what it runs for, and
 * sqlcmd's own SQLCMD* variables for where it runs.
 */
export function runVariables(
  mapping: Readonly<Record<string, string>> | undefined,
  run: ScriptRun,
): Record<string, string> {
  return {
    ...sqlcmdVariables({ server: run.at.server, database: run.at.database, workstation: hostname() }),
    ...expandScriptVariables(mapping, run.for),
  };
}

/**
 * The files a script pulls in with `:r` for one run, read (through the one decoder) the way the
 * parser asks for them, so the port that runs the script, the lab included, reads exactly these.
 */
export function readIncludes(
  dir: string,
  file: string,
  text: string,
  vars: Record<string, string>,
  onError: OnError,
): Record<string, IncludedFile> {
  const read = includeFromDir(dir);
  const files: Record<string, IncludedFile> = {};
  parseSqlcmd(text, { file, vars, onError, resolveInclude: (path, from) => (files[path] = read(path, from)) });
  return files;
}

/**
 * What the checks of one script read: the scripts folder, the script's file name (relative to it) and text, the runs
 * it is checked for, the plan's scripts.variables (undefined: the defaults) and its on-error choice.
 */
type ScriptCheck = [
  dir: string,
  file: string,
  text: string,
  runs: ScriptRun[],
  mapping: Readonly<Record<string, string>> | undefined,
  onError: OnError,
];

/**
 * Checks every run of one script as the runner will parse it, with the values it will pass:
 * undefined variables (naming the plan's mapping when it has no value for this script), values
 * that cannot stand where the script puts them, and a `:setvar` that would silently replace a
 * value the plan passes (sqlcmd gives :setvar precedence over -v).
 * @throws ScriptProblem with the file, line and fix
 */
export function checkRuns(...[dir, file, text, runs, mapping, onError]: ScriptCheck): void {
  const seen = new Set<string>();
  for (const run of runs) {
    const vars = runVariables(mapping, run);
    const key = JSON.stringify(vars);
    if (seen.has(key)) continue;
    seen.add(key);
    // The sync-type rewrite reads the script's own text, not what `:r` pulls in: a merge
    // subscription call inside an include would run unrewritten, so it is refused.
    const readInclude = includeFromDir(dir);
    const unreachable: string[] = [];
    const resolveInclude = (path: string, from: string) => {
      const included = readInclude(path, from);
      for (const call of syncTypesOf(included.text))
        unreachable.push(
          `${join(dir, included.file)} line ${call.line} (${call.procedure}, included by ${from} with :r)`,
        );
      return included;
    };
    let parsed;
    try {
      parsed = parseSqlcmd(text, { file, vars, onError, resolveInclude });
    } catch (err) {
      if (!(err instanceof SqlcmdError)) throw err;
      throw new ScriptProblem(
        `${join(dir, err.file)} line ${err.line}: ${explain(err, mapping, run)}; fix the script or the plan, ` +
          `then retry this step`,
      );
    }
    if (unreachable.length) {
      throw new ScriptProblem(
        `${unreachable.join('; ')}: a merge subscription call in an included file is out of reach of the ` +
          `@sync_type rewrite; move it into ${file} itself`,
      );
    }
    const passed = new Set(Object.keys(expandScriptVariables(mapping, run.for)).map((n) => n.toUpperCase()));
    const clash = parsed.setvars.find((s) => passed.has(s.name.toUpperCase()));
    if (clash) {
      throw new ScriptProblem(
        `${join(dir, clash.file)} line ${clash.line}: ':setvar ${clash.name}' replaces the value the plan ` +
          `passes for $(${clash.name}) (in sqlcmd :setvar wins over -v), so the script would run with the ` +
          `script's value, not the fleet's; remove the line, or remove ${clash.name} from the plan's ` +
          `scripts.variables`,
      );
    }
  }
}

/**
 * A publication script must add every article its publication has today (issues #19/#20): run
 * through the vendor's script, a publication without one of them stops replicating that table for
 * good, discovered only after replication is removed. For each run, the script is parsed with the
 * values it will pass and its sp_addmergearticle calls compared with `today` (undefined: the
 * publication does not exist now, nothing to compare).
 * @returns a note naming the articles the script adds beyond today's (fine: a new version may publish more)
 * @throws ScriptProblem naming the publication, the articles, the file and the fix
 */
export async function checkPublicationArticles(
  ...[dir, file, text, runs, mapping, onError, today]: [
    ...ScriptCheck,
    today: (run: ScriptRun) => Promise<string[] | undefined>,
  ]
): Promise<string | undefined> {
  const notes: string[] = [];
  for (const run of runs) {
    const publication = run.for.publication;
    if (publication === undefined) continue;
    const published = await today(run);
    if (published === undefined) continue;
    let added;
    try {
      added = articlesOf(
        parseSqlcmd(text, { file, vars: runVariables(mapping, run), onError, resolveInclude: includeFromDir(dir) }),
      );
    } catch (err) {
      if (!(err instanceof ArticleReadError)) throw err;
      throw new ScriptProblem(`${join(dir, err.file)} line ${err.line}: ${err.detail}; nothing has been changed`);
    }
    const { missing, extra } = compareArticles(publication, published, added);
    const where = `${run.at.server}/${run.at.database}`;
    if (missing.length) {
      const none = added.some((a) => a.publication.toLowerCase() === publication.toLowerCase())
        ? ''
        : ` (it adds no article to ${publication} at all)`;
      throw new ScriptProblem(
        `publication ${publication} on ${where} publishes ${missing.join(', ')} today, but ${join(dir, file)}` +
          ` does not add ${missing.length > 1 ? 'them' : 'it'}${none}: re-created by this script, ` +
          `${publication} would stop replicating ${missing.length > 1 ? 'those tables' : 'that table'} for ` +
          `good. Nothing has been changed. ` +
          (`Point scripts.dir at the vendor's scripts for the version you upgrade to that publish ` +
            `${missing.length > 1 ? 'them' : 'it'}, or add EXEC sp_addmergearticle @publication = N'` +
            `${publication}', @article = N'${missing[0]}', … to the script, then retry preflight`),
      );
    }
    if (extra.length)
      notes.push(
        `${file} adds ${extra.join(', ')} to ${publication} on ${where}, not published today (a new version ` +
          `may publish more)`,
      );
  }
  return notes.length ? [...new Set(notes)].join('; ') : undefined;
}

function explain(err: SqlcmdError, mapping: Readonly<Record<string, string>> | undefined, run: ScriptRun): string {
  const name = err.variable;
  const entry =
    name === undefined
      ? undefined
      : Object.entries(mapping ?? DEFAULT_SCRIPT_VARIABLES).find(([n]) => n.toUpperCase() === name.toUpperCase());
  if (entry && /is not defined/.test(err.detail)) {
    const missing = missingPlaceholders(entry[1], run.for);
    return (
      `$(${name}) is mapped in the plan's scripts.variables to '${entry[1]}', but ` +
      `${missing.map((m) => `{${m}}`).join(', ')} has no value for this script (it runs for ` +
      `${describe(run.for)}); map ${name} to a value known there`
    );
  }
  return err.detail;
}

function describe(f: ScriptFor): string {
  if (f.subscriber && f.publication)
    return `publication ${f.publication} and subscriber ${f.subscriber.server}/${f.subscriber.database}`;
  if (f.subscriber) return `subscriber ${f.subscriber.server}/${f.subscriber.database}`;
  return `publication ${f.publication ?? '?'} on ${f.publisher?.server ?? '?'}/${f.publisher?.database ?? '?'}`;
}
