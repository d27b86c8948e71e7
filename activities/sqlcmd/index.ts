// sqlcmd scripts: decoding (read.ts), parsing (GO, :setvar, $(var), :r, :on error), the vendor
// scripts' variables and the sync-type rewrite. All pure; reading files from disk is files.ts.
export { includesFrom, parseSqlcmd, SqlcmdError } from './parse.js';
export type {
  OnError,
  SqlcmdBatch,
  ParsedScript,
  ParseOptions,
  IncludedFile,
  VariableContext,
  VariableReference,
} from './parse.js';
export {
  argumentText,
  procedureCalls,
  proceduresInStrings,
  rewriteSyncType,
  syncTypesOf,
  SyncTypeRewriteError,
  SYNC_TYPE_NONE,
  SYNC_TYPE_PROCEDURES,
} from './rewrite.js';
export type { CallArgument, ProcedureCall, SyncTypeChange, SyncTypeRewrite, SyncTypeCall } from './rewrite.js';
export { ArticleReadError, articlesOf, compareArticles } from './articles.js';
export type { ArticleComparison, ScriptArticle } from './articles.js';
export { decodeScript, ScriptEncodingError } from './read.js';
export type { DecodedScript, ScriptEncoding } from './read.js';
export {
  DEFAULT_SCRIPT_VARIABLES,
  SCRIPT_VARIABLE_PLACEHOLDERS,
  expandScriptVariables,
  missingPlaceholders,
  sqlcmdVariables,
  unknownPlaceholders,
} from './variables.js';
export type { ScriptFor } from './variables.js';
// includeFromDir and readScript (node:fs) are exported from './files.js' only, so this module stays pure.
