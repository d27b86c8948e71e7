// Reading `:r` includes from disk for the worker (the parser itself stays pure).
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { IncludedFile } from './parse.js';

/**
 * `resolveInclude` for parseSqlcmd: `:r path` relative to the including file, which is itself
 * relative to `scriptsDir`. Windows separators in vendor scripts (`:r .\Common.sql`) are accepted.
 */
export function includeFromDir(scriptsDir: string): (path: string, from: string) => IncludedFile {
  return (path, from) => {
    const normalized = path.replace(/\\/g, '/');
    const base = dirname(isAbsolute(from) ? from : resolve(scriptsDir, from));
    const file = isAbsolute(normalized) ? normalized : resolve(base, normalized);
    const text = readFileSync(file, 'utf8');
    // Name files inside the scripts folder relative to it, as the operator knows them.
    const inside = relative(scriptsDir, file);
    return { file: inside.startsWith('..') || isAbsolute(inside) ? file : inside, text };
  };
}
