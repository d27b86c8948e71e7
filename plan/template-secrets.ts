// Secrets in the plan's `hosts:` command templates. A template travels in the workflow input (and so
// in the history, once per activity that carries the fleet context), so it may hold a secret only as
// a reference the worker resolves: `{env:NAME}` (the worker's environment) or `{file:PATH}` (a file
// only the worker can read), as credentials already are. Pure: the plan rules and the worker share it.

/** `{env:NAME}` or `{file:PATH}` inside a command template. */
export const SECRET_REFERENCE = /\{(env|file):([^{}\s]+)\}/g;

export interface SecretReference {
  kind: 'env' | 'file';
  /** The variable name or the file path. */
  name: string;
  /** The text in the template, e.g. `{env:REPLUP_IIS_PASSWORD}`. */
  text: string;
}

export function secretReferences(template: string): SecretReference[] {
  return [...template.matchAll(SECRET_REFERENCE)].map((m) => ({ kind: m[1] as 'env' | 'file', name: m[2]!, text: m[0] }));
}

// Option or key names that carry a credential in common command lines (inferred from usual
// tools: `--password x`, `-Password x`, `/p:x`, `password=x`, `pwd=x`, `token=x`, `-P x`).
const CREDENTIAL_OPTION = /(?:^|[\s;'"])(--?(?:password|passwd|pwd|pass|secret|token|api-?key)|-P|\/p(?:assword)?|(?:password|passwd|pwd|secret|token|api-?key))(\s*[=:]\s*|\s+)("[^"]*"|'[^']*'|[^\s;'"]+)/gi;

/** A value that is not itself the secret: a reference, a shell or cmd variable, a prompt. */
const IS_REFERENCE = /^["']?(?:\{(?:env|file):[^{}\s]+\}|\$\{?[A-Za-z_]\w*\}?|\$\(|%[A-Za-z_]\w*%|\(Get-Content|\(Read-Host|\$env:[A-Za-z_]\w*)/i;

/**
 * Why a command template seems to hold a literal credential, or undefined. The message shows the
 * option with its value masked and says what to write instead; it never repeats the value.
 */
export function literalCredential(template: string): string | undefined {
  for (const m of template.matchAll(CREDENTIAL_OPTION)) {
    const [, option = '', separator = '', value = ''] = m;
    if (IS_REFERENCE.test(value)) continue;
    // `/p` alone is also a path segment (`C:\tools /p`); only `/p:` is taken as the option.
    if (/^\/p$/i.test(option) && !separator.includes(':')) continue;
    const shown = `${option}${separator.trim() === '' ? ' ' : separator.trim()}******`;
    return (
      `this command seems to hold a credential written out ("${shown}"): the plan travels in workflow history, so a secret must not be in it. ` +
      `Write {env:NAME} (a variable of the worker's environment) or {file:PATH} (a file only the worker can read) in its place, e.g. ${option}${separator.trim() === '' ? ' ' : separator.trim()}{env:REPLUP_HOSTS_PASSWORD}`
    );
  }
  return undefined;
}
