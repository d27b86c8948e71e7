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
  return [...template.matchAll(SECRET_REFERENCE)].map((m) => ({
    kind: m[1] as 'env' | 'file',
    name: m[2]!,
    text: m[0],
  }));
}

// Where a credential stands in common command lines (inferred from the usual tools' syntax, not
// from one page each): an option or key with its value (`--password x`, `-Password x`, `-pw x`
// (plink), `/p:x` (msdeploy), `PASSWORD=x`, `DB_PASSWORD=x`, connection strings `Password=x;`
// `Pwd=x;`, `token=x`), a user with its password (`-u user:pass`, `--user user:pass` (curl),
// `https://user:pass@host`), an HTTP `Authorization:` header, and `net use`'s positional password.
const KEY = String.raw`(?:password|passwd|pwd|pass|pw|secret|token|api-?key)`;
const VALUE = String.raw`("[^"]*"|'[^']*'|[^\s;'"]+)`;
const CREDENTIAL_OPTION = new RegExp(
  String.raw`(?:^|[\s;'"])(--?${KEY}|-P|\/p(?:assword)?)(\s*[=:]\s*|\s+)${VALUE}`,
  'gi',
);
/** A key with `=` or `:` (`PASSWORD=x`, `DB_PASSWORD=x`, `Pwd=x;`): a bare word followed by a space is no key. */
const CREDENTIAL_KEY = new RegExp(String.raw`(?:^|[\s;'"])((?:[A-Za-z]\w*_)?${KEY})(\s*[=:]\s*)${VALUE}`, 'gi');
/** `-u user:pass`, `--user user:pass`: the part after the colon is the password. */
const USER_PASSWORD = /(?:^|[\s;'"])(-u|--user)(\s*=\s*|\s+)["']?([^\s:"']+):([^\s"']+)/gi;
/** `scheme://user:pass@host`. */
const URL_PASSWORD = /\b([a-z][\w+.-]*:\/\/[^\s:/@"']+):([^\s@/"']+)@/gi;
/** `Authorization: Bearer x`, `Authorization: Basic x`, `Authorization: x`. */
const AUTH_HEADER = /(Authorization:\s*(?:(?:Bearer|Basic|Token|Digest|Negotiate)\s+)?)([^\s"']*)/gi;
/** `net use [device] \\server\share password`: the word after the share (not a /switch, not `*`, which prompts). */
const NET_USE = /\bnet\s+use\s+(?:(?:[A-Za-z]:|\*)\s+)?(\S+)\s+([^\s/*][^\s]*)/gi;

/** A value that is not itself the secret: a reference, a shell or cmd variable, a prompt. */
const IS_REFERENCE =
  /^["']?(?:\{(?:env|file):[^{}\s]+\}|\$\{?[A-Za-z_]\w*\}?|\$\(|%[A-Za-z_]\w*%|\(Get-Content|\(Read-Host|\$env:[A-Za-z_]\w*)/i;

/**
 * `-p`/`-P` is also a port (`ssh -p 22`) or mkdir's parents flag (`mkdir -p /x`): only a word that is none of these is
 * taken as a password.
 */
const NOT_A_PASSWORD_AFTER_P = /^(?:\d+|[-/\\.~]|[A-Za-z]:[\\/])/;

interface Found {
  /** What the message shows, the secret masked, e.g. `--password ******`. */
  shown: string;
  /** The same place written with a reference, e.g. `--password {env:REPLUP_HOSTS_PASSWORD}`. */
  fix: string;
}

const EXAMPLE_REF = '{env:REPLUP_HOSTS_PASSWORD}';

function findLiteral(template: string): Found | undefined {
  for (const m of [...template.matchAll(CREDENTIAL_OPTION), ...template.matchAll(CREDENTIAL_KEY)]) {
    const [, option = '', separator = '', value = ''] = m;
    if (IS_REFERENCE.test(value)) continue;
    // `/p` alone is also a path segment (`C:\tools /p`); only `/p:` is taken as the option.
    if (/^\/p$/i.test(option) && !separator.includes(':')) continue;
    if (/^-p$/i.test(option) && NOT_A_PASSWORD_AFTER_P.test(value)) continue;
    const sep = separator.trim() === '' ? ' ' : separator.trim();
    return { shown: `${option}${sep}******`, fix: `${option}${sep}${EXAMPLE_REF}` };
  }
  for (const m of template.matchAll(USER_PASSWORD)) {
    const [, option = '', separator = '', user = '', password = ''] = m;
    if (IS_REFERENCE.test(password)) continue;
    const sep = separator.trim() === '' ? ' ' : separator.trim();
    return { shown: `${option}${sep}${user}:******`, fix: `${option}${sep}${user}:${EXAMPLE_REF}` };
  }
  for (const m of template.matchAll(URL_PASSWORD)) {
    const [, before = '', password = ''] = m;
    if (IS_REFERENCE.test(password)) continue;
    return { shown: `${before}:******@`, fix: `${before}:${EXAMPLE_REF}@` };
  }
  for (const m of template.matchAll(AUTH_HEADER)) {
    const [, header = '', value = ''] = m;
    // `"Authorization: Bearer "{env:TOKEN}`: the header's quotes close before the credential.
    const credential = value || template.slice((m.index ?? 0) + m[0].length).replace(/^["']/, '');
    if (credential === '' || IS_REFERENCE.test(credential)) continue;
    return { shown: `${header}******`, fix: `"${header}"{env:REPLUP_HOSTS_TOKEN}` };
  }
  for (const m of template.matchAll(NET_USE)) {
    const [, share = '', password = ''] = m;
    if (!share.startsWith('\\\\') || IS_REFERENCE.test(password)) continue;
    return { shown: `net use ${share} ******`, fix: `net use ${share} ${EXAMPLE_REF}` };
  }
  return undefined;
}

/**
 * A `{env:…}`/`{file:…}` reference written inside quotes, or undefined. The worker puts the value
 * in as one single-quoted shell word (activities/hosts/commands.ts), so inside "…" or '…' the
 * quotes would reach the program as part of the secret. Quotes are read as /bin/sh reads them.
 */
export function quotedReference(template: string): string | undefined {
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote !== "'" && c === '\\') {
      i++;
      continue;
    }
    if (quote === '' && (c === "'" || c === '"')) quote = c;
    else if (quote !== '' && c === quote) quote = '';
    else if (quote !== '' && c === '{') {
      const ref = /^\{(?:env|file):[^{}\s]+\}/.exec(template.slice(i));
      if (ref) {
        return (
          `${ref[0]} is written inside ${quote === '"' ? 'double' : 'single'} quotes: the worker puts the ` +
          `secret in as one quoted shell word itself, so these quotes would become part of it. ` +
          (`Write the reference outside the quotes, closing them before it if the word goes on, e.g. ` +
            `--password ${ref[0]} or "Authorization: Bearer "${ref[0]}`)
        );
      }
    }
  }
  return undefined;
}

/**
 * Why a command template holds a secret wrongly, or undefined: a credential written out (the
 * message shows the place with its value masked and says what to write instead; it never repeats
 * the value), or a reference inside quotes.
 */
export function literalCredential(template: string): string | undefined {
  const found = findLiteral(template);
  if (found) {
    return (
      `this command seems to hold a credential written out ("${found.shown}"): the plan travels in workflow ` +
      `history, so a secret must not be in it. ` +
      (`Write {env:NAME} (a variable of the worker's environment) or {file:PATH} (a file only the worker can ` +
        `read) in its place, e.g. ${found.fix}`)
    );
  }
  return quotedReference(template);
}
