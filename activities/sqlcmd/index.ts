// sqlcmd scripts: parsing (GO, :setvar, $(var), :r, :on error) and the sync-type rewrite.
// Both are pure; reading files from disk is the caller's (see activities/sqlcmd/files.ts).
export { parseSqlcmd, SqlcmdError } from './parse.js';
export type { OnError, SqlcmdBatch, ParsedScript, ParseOptions, IncludedFile } from './parse.js';
export { rewriteSyncType, SyncTypeRewriteError, SYNC_TYPE_NONE } from './rewrite.js';
export type { SyncTypeChange, SyncTypeRewrite } from './rewrite.js';
// includeFromDir (node:fs) is exported from './files.js' only, so this module stays pure.
