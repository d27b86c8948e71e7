// The names a T-SQL statement of statements.ts uses: tables and views (with their aliases), the
// columns it reads through those aliases, procedures with the parameters it passes, SERVERPROPERTY
// properties and @variables. Pure. catalog.ts checks them against Microsoft's documentation.
//
// Why not a parser package: node-sql-parser 5.4.0 (TransactSQL dialect) fails on 11 of the 31
// statement functions (measured 2026-12-05: @@SERVERNAME and @@SPID, ALTER DATABASE … SET, BACKUP,
// RESTORE VERIFYONLY, sp_executesql's positional arguments). The adapter writes a small,
// regular subset of T-SQL: every column through a table alias, every system object with its
// schema. This extractor reads that subset and refuses anything else (an unqualified name, an
// unknown function), so a statement outside it fails the catalog test instead of passing unread.

export interface NameRef {
  /** The name as written, parts joined by '.', brackets removed (`msdb.dbo.sysjobsteps`). */
  name: string;
  parts: string[];
}

export interface ColumnRef {
  alias: string;
  column: string;
}

export interface ProcedureCall extends NameRef {
  /** Named arguments (`@job_id`) and positional ones by their index (0-based). */
  named: string[];
  positional: number;
}

export interface StatementNames {
  tables: (NameRef & { alias?: string })[];
  columns: (ColumnRef & { table?: string })[];
  procedures: ProcedureCall[];
  serverProperties: string[];
  /** Variables the statement reads (bound as parameters), without procedures' parameter names. */
  variables: string[];
  /** What the extractor could not place: each makes the statement fail the check. */
  unknown: string[];
}

interface Token {
  kind: 'word' | 'quoted' | 'var' | 'sysvar' | 'string' | 'number' | 'punct';
  text: string;
}

// T-SQL words the adapter's statements use as syntax. A new statement that needs another adds it
// here, which is a reviewed change; anything else bare is taken for an unqualified column.
const KEYWORDS = new Set(
  (
    'select from where and or not null is join left right inner outer cross apply on as order by group ' +
    'having desc asc top ' +
    ('distinct case when then else end if exec execute kill alter database set restricted_user multi_user ' +
      'with rollback ') +
    ('immediate backup restore verifyonly to disk copy_only checksum init like in exists between ' +
      'quoted_identifier off ') +
    'output union all declare begin minute second hour day'
  ).split(' '),
);
// OBJECT_NAME / OBJECT_SCHEMA_NAME ( object_id [, database_id ] ):
// learn.microsoft.com/en-us/sql/t-sql/functions/object-schema-name-transact-sql
const FUNCTIONS = new Set([
  'serverproperty',
  'is_srvrolemember',
  'db_id',
  'object_id',
  'object_name',
  'object_schema_name',
  'cast',
  'convert',
  'max',
  'min',
  'count',
  'sum',
  'coalesce',
  'isnull',
  'dateadd',
  'datediff',
  'getdate',
  'getutcdate',
  'sysutcdatetime',
]);
const TYPES = new Set([
  'nvarchar',
  'varchar',
  'nchar',
  'char',
  'int',
  'bigint',
  'smallint',
  'tinyint',
  'bit',
  'sysname',
  'uniqueidentifier',
  'datetime',
  'datetime2',
  'datetimeoffset',
  'binary',
  'varbinary',
]);
const SYSTEM_VARIABLES = new Set(['@@servername', '@@spid']);
// A word after these starts something other than a table alias.
const NOT_ALIAS = new Set([
  'on',
  'where',
  'join',
  'left',
  'right',
  'inner',
  'outer',
  'cross',
  'order',
  'group',
  'with',
  'else',
  'union',
  'having',
]);

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const at = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(sql);
    return m && m.index === i ? m[0] : undefined;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    let m: string | undefined;
    if ((m = at(/--[^\n]*/y)) || (m = at(/\/\*[\s\S]*?\*\//y))) {
      i += m.length;
    } else if ((m = at(/N?'(?:[^']|'')*'/y))) {
      tokens.push({ kind: 'string', text: m.replace(/^N?'|'$/g, '').replace(/''/g, "'") });
      i += m.length;
    } else if ((m = at(/\[(?:[^\]]|\]\])*\]/y))) {
      tokens.push({ kind: 'quoted', text: m.slice(1, -1).replace(/\]\]/g, ']') });
      i += m.length;
    } else if ((m = at(/@@\w+/y))) {
      tokens.push({ kind: 'sysvar', text: m });
      i += m.length;
    } else if ((m = at(/@\w+/y))) {
      tokens.push({ kind: 'var', text: m });
      i += m.length;
    } else if ((m = at(/[A-Za-z_#][\w$#]*/y))) {
      tokens.push({ kind: 'word', text: m });
      i += m.length;
    } else if ((m = at(/\d+(?:\.\d+)?/y))) {
      tokens.push({ kind: 'number', text: m });
      i += m.length;
    } else {
      m = at(/<>|<=|>=|./y)!;
      tokens.push({ kind: 'punct', text: m });
      i += m.length;
    }
  }
  return tokens;
}

/** The names one batch uses (statements separated by ';'); aliases hold within a statement. */
export function statementNames(sql: string): StatementNames {
  const out: StatementNames = {
    tables: [],
    columns: [],
    procedures: [],
    serverProperties: [],
    variables: [],
    unknown: [],
  };
  const all = tokenize(sql);
  const statements: Token[][] = [[]];
  for (const t of all) {
    if (t.kind === 'punct' && t.text === ';') statements.push([]);
    else statements[statements.length - 1]!.push(t);
  }
  for (const tokens of statements) readStatement(tokens, out);
  out.variables = [...new Set(out.variables)];
  return out;
}

const isName = (t: Token | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'quoted');
const isPunct = (t: Token | undefined, p: string) => t !== undefined && t.kind === 'punct' && t.text === p;
const lower = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toLowerCase() : '');

function readStatement(tokens: Token[], out: StatementNames): void {
  const used = new Set<number>(); // token indexes already placed
  const aliases = new Map<string, string>();

  /** A multipart name starting at i: its parts and the index after it. */
  const nameAt = (i: number): { parts: string[]; next: number } => {
    const parts = [tokens[i]!.text];
    used.add(i);
    let j = i + 1;
    while (isPunct(tokens[j], '.') && isName(tokens[j + 1])) {
      parts.push(tokens[j + 1]!.text);
      used.add(j + 1);
      j += 2;
    }
    return { parts, next: j };
  };

  // Tables after FROM / JOIN, with their aliases.
  for (let i = 0; i < tokens.length; i++) {
    const w = lower(tokens[i]);
    if ((w === 'from' || w === 'join') && isName(tokens[i + 1]) && !KEYWORDS.has(lower(tokens[i + 1]))) {
      if (w === 'from' && lower(tokens[i - 1]) === 'verifyonly') continue; // RESTORE VERIFYONLY FROM DISK
      const { parts, next } = nameAt(i + 1);
      let alias: string | undefined;
      let k = next;
      if (lower(tokens[k]) === 'as') k += 1;
      if (tokens[k]?.kind === 'word' && !NOT_ALIAS.has(lower(tokens[k]))) {
        alias = tokens[k]!.text;
        used.add(k);
      }
      const name = parts.join('.');
      if (alias !== undefined) {
        const before = aliases.get(alias.toLowerCase());
        if (before !== undefined && before !== name)
          out.unknown.push(`alias ${alias} names both ${before} and ${name}: give each its own alias`);
        aliases.set(alias.toLowerCase(), name);
      }
      out.tables.push({ name, parts, ...(alias !== undefined && { alias }) });
    }
  }

  // EXEC procedure @named = …, positional, …
  for (let i = 0; i < tokens.length; i++) {
    if ((lower(tokens[i]) === 'exec' || lower(tokens[i]) === 'execute') && isName(tokens[i + 1])) {
      const { parts, next } = nameAt(i + 1);
      const call: ProcedureCall = { name: parts.join('.'), parts, named: [], positional: 0 };
      let depth = 0;
      let argStart = true;
      for (let j = next; j < tokens.length; j++) {
        const t = tokens[j]!;
        if (isPunct(t, '(')) depth += 1;
        if (isPunct(t, ')')) depth -= 1;
        if (depth === 0 && isPunct(t, ',')) {
          argStart = true;
          continue;
        }
        if (argStart) {
          if (t.kind === 'var' && isPunct(tokens[j + 1], '=')) {
            call.named.push(t.text);
            used.add(j);
          } else {
            call.positional += 1;
          }
          argStart = false;
        }
      }
      out.procedures.push(call);
    }
  }

  // Everything else, token by token.
  for (let i = 0; i < tokens.length; i++) {
    if (used.has(i)) continue;
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (t.kind === 'var') {
      out.variables.push(t.text);
      continue;
    }
    if (t.kind === 'sysvar') {
      if (!SYSTEM_VARIABLES.has(t.text.toLowerCase())) out.unknown.push(`system variable ${t.text}`);
      continue;
    }
    if (t.kind !== 'word' && t.kind !== 'quoted') continue;
    const w = t.text.toLowerCase();
    if (isPunct(next, '.') && isName(tokens[i + 2])) {
      // alias.column
      const table = aliases.get(w);
      if (table === undefined) {
        out.unknown.push(`${t.text}.${tokens[i + 2]!.text}: ${t.text} is not a table alias of this statement`);
      } else {
        out.columns.push({ alias: t.text, column: tokens[i + 2]!.text, table });
      }
      used.add(i + 2);
      i += 2;
      continue;
    }
    if (t.kind === 'word' && isPunct(next, '(')) {
      if (TYPES.has(w) || KEYWORDS.has(w)) continue; // nvarchar(36), TOP (1), IN (…)
      if (!FUNCTIONS.has(w)) out.unknown.push(`function ${t.text}() is not one the catalog check knows`);
      if (w === 'serverproperty' && tokens[i + 2]?.kind === 'string') out.serverProperties.push(tokens[i + 2]!.text);
      continue;
    }
    if (t.kind === 'word' && (KEYWORDS.has(w) || TYPES.has(w))) continue;
    if (lower(prev) === 'as') continue; // an output column's name or CAST's type
    if (t.kind === 'quoted' && lower(prev) === 'database') continue; // ALTER DATABASE [name]
    out.unknown.push(`${t.text}: a name without its table alias (write alias.${t.text})`);
  }
}
