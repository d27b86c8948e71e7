// Reading script files from disk for the worker (the parser itself stays pure): every read goes
// through decodeScript (read.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve, win32 } from 'node:path';
import type { IncludedFile } from './parse.js';
import { decodeScript, type DecodedScript } from './read.js';

/**
 * Reads and decodes one script (see decodeScript for the encoding rules).
 * @param dir the scripts folder; `file` is relative to it and names the script in messages
 * @throws ScriptEncodingError for text that does not decode; node's errno errors for a missing file
 */
export async function readScript(dir: string, file: string): Promise<DecodedScript> {
  return decodeScript(await readFile(resolve(dir, file)), file);
}

/** A path a Windows sqlcmd would read as absolute: `C:\…`, `C:/…`, `\\server\share\…`. */
export function isWindowsAbsolute(path: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(path) || /^\\\\[^\\]/.test(path) || (win32.isAbsolute(path) && /^[\\/]{2}/.test(path));
}

/**
 * `resolveInclude` for parseSqlcmd. sqlcmd reads `:r <filename>` "relative to the startup directory
 * in which sqlcmd was run" (https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-utility, :r),
 * not relative to the including file; the vendor's .cmd files start sqlcmd in their Replication
 * folder, so that folder is the startup directory here *(inferred from how .cmd files are run)*.
 * Windows separators (`:r .\Common.sql`) are accepted. A Windows absolute path cannot be read by a
 * Linux worker: the error says how to fix the plan.
 */
export function includeFromDir(scriptsDir: string): (path: string, from: string) => IncludedFile {
  return (path) => {
    if (process.platform !== 'win32' && isWindowsAbsolute(path)) {
      throw new Error(
        `${path} is a Windows absolute path, which a worker on ${process.platform} cannot read: copy the ` +
          `file into the plan's scripts.dir (${scriptsDir}) and include it relative to that folder (':r .\\` +
          `${win32.basename(path)}'), or set scripts.dir to the folder as this worker sees it`,
      );
    }
    const normalized = path.replace(/\\/g, '/');
    const file = isAbsolute(normalized) ? normalized : resolve(scriptsDir, normalized);
    // Name files inside the scripts folder relative to it, as the operator knows them.
    const inside = relative(scriptsDir, file);
    const name = inside.startsWith('..') || isAbsolute(inside) ? file : inside;
    return { file: name, text: decodeScript(readFileSync(file), name).text };
  };
}
