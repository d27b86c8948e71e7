// Credential references (plan/personalization-upgrade/types.ts CredentialRef): the plan and the workflow history only
// ever hold `env:NAME` or `file:PATH`; the worker resolves them when an activity connects.
import { readFileSync } from 'node:fs';
import type { CredentialRef } from '../../plan/personalization-upgrade/types.js';

export interface CredentialSources {
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
}

export function resolveCredentialRef(ref: CredentialRef, sources: CredentialSources = {}): string {
  const env = sources.env ?? process.env;
  const readFile = sources.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const m = /^(env|file):(.+)$/.exec(ref);
  if (!m) throw new Error(`credential reference '${ref}' must be env:NAME or file:PATH`);
  const [, kind, target = ''] = m;
  if (kind === 'env') {
    const value = env[target];
    if (value === undefined || value === '') {
      throw new Error(`credential reference '${ref}': environment variable ${target} is not set for the replup worker`);
    }
    return value;
  }
  let text: string;
  try {
    text = readFile(target);
  } catch (err) {
    throw new Error(
      `credential reference '${ref}': cannot read ${target} on the worker (` +
        `${err instanceof Error ? err.message : String(err)})`,
    );
  }
  return text.replace(/\r?\n$/, ''); // a secret file usually ends with a newline that is not part of it
}
