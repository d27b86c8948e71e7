// The articles a publication script adds (issues #19/#20): a publication re-created without an
// article it has today stops replicating that table for good, so preflight compares what the
// vendor's script adds with what the publisher publishes now. Read from the batches as the runner
// sends them (variables substituted, `:r` includes in place), with the sync-type rewrite's
// tokenizer (comments, strings, [names], any case). Pure.
//
// Parameter order for calls written without names, from Microsoft's pages:
//   sp_addmergearticle [@publication =] 'publication', [@article =] 'article', [@source_object =] …
//   https://learn.microsoft.com/en-us/sql/relational-databases/system-stored-procedures/sp-addmergearticle-transact-sql
//   (syntax as quoted at https://learn.microsoft.com/en-us/previous-versions/sql/sql-server-2008/ms174329(v=sql.100))
import type { ParsedScript } from './parse.js';
import {
  argumentText,
  procedureCalls,
  proceduresInStrings,
  SyncTypeRewriteError,
  type ProcedureCall,
} from './rewrite.js';

const ADD_ARTICLE = 'sp_addmergearticle';
/** Each parameter replup reads, by its position in a call written without names (1-based). */
const POSITIONS = { '@publication': 1, '@article': 2 } as const;

export interface ScriptArticle {
  publication: string;
  article: string;
  /** Where the call is (the script, or a file it pulls in with `:r`). */
  file: string;
  line: number;
}

/** A call replup cannot read statically: the message names the file and line and the fix. */
export class ArticleReadError extends Error {
  constructor(
    public readonly file: string,
    public readonly line: number,
    public readonly detail: string,
  ) {
    super(`${file} line ${line}: ${detail}`);
    this.name = 'ArticleReadError';
  }
}

/**
 * Every sp_addmergearticle call of a parsed script, with its publication and article as the server
 * will read them.
 * @throws ArticleReadError for a call assembled at run time (inside a string) or an argument known
 *   only at run time (a T-SQL variable, an expression)
 */
export function articlesOf(parsed: ParsedScript): ScriptArticle[] {
  const out: ScriptArticle[] = [];
  for (const batch of parsed.batches) {
    // batch.line is the batch's first line in batch.file; a line inside it counts from there.
    const at = (line: number) => batch.line + line - 1;
    const dynamic = proceduresInStrings(batch.sql, [ADD_ARTICLE]);
    if (dynamic.length) {
      throw new ArticleReadError(
        batch.file,
        at(dynamic[0]!),
        `${ADD_ARTICLE} inside a string (dynamic SQL, run by EXEC(…) or sp_executesql) cannot be read before ` +
          `the script runs, so replup cannot tell which articles the publication gets; write the call as a ` +
          `plain EXEC with literal @publication and @article`,
      );
    }
    let calls: ProcedureCall[];
    try {
      calls = procedureCalls(batch.sql, [ADD_ARTICLE]);
    } catch (err) {
      if (!(err instanceof SyncTypeRewriteError)) throw err;
      throw new ArticleReadError(
        batch.file,
        at(err.line),
        `cannot read the arguments of this ${ADD_ARTICLE} call; write @publication and @article as literals`,
      );
    }
    for (const call of calls) {
      const value = (name: keyof typeof POSITIONS) => {
        const position = POSITIONS[name];
        // T-SQL allows no positional argument after a named one: the leading unnamed ones are positional.
        const arg =
          call.args.find((a) => a.name === name) ??
          (call.args.slice(0, position).every((a) => !a.name) ? call.args[position - 1] : undefined);
        if (!arg)
          throw new ArticleReadError(
            batch.file,
            at(call.line),
            `this ${ADD_ARTICLE} call has no ${name}; name it as a literal`,
          );
        if (arg.kind !== 'string' && arg.kind !== 'word') {
          throw new ArticleReadError(
            batch.file,
            at(call.line),
            `${name} of this ${ADD_ARTICLE} call is ${arg.value}, known only when the script runs; write it ` +
              `as a literal (N'…') so replup can check the articles before anything changes`,
          );
        }
        return argumentText(arg);
      };
      out.push({
        publication: value('@publication'),
        article: value('@article'),
        file: batch.file,
        line: at(call.line),
      });
    }
  }
  return out;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export interface ArticleComparison {
  /** Published today, not added by the script. */
  missing: string[];
  /** Added by the script, not published today (a new version may publish more). */
  extra: string[];
}

/**
 * The publication's articles today against those the script adds to it. Names compare
 * case-insensitively (sysname under the default case-insensitive collations: inferred).
 */
export function compareArticles(
  publication: string,
  today: readonly string[],
  added: readonly ScriptArticle[],
): ArticleComparison {
  const mine = added.filter((a) => same(a.publication, publication)).map((a) => a.article);
  return {
    missing: today.filter((t) => !mine.some((m) => same(m, t))),
    extra: [...new Set(mine.filter((m) => !today.some((t) => same(m, t))))],
  };
}
