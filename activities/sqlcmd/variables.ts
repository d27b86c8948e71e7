// The vendor scripts' variables: which name gets which value from the fleet. The vendor's scripts
// choose their own names, so a plan maps them (`scripts.variables`), each to a template over the
// fleet, e.g. `SubscriberDatabase: "{subscriber.database}"`. The workflow (to record what it
// passes), prepare-scripts (to check every value before anything changes) and the activities that
// run the scripts all expand them here. Pure, no Node imports: the workflow bundle uses it.

/** The placeholders a template may use; which ones a script gets depends on what it runs for. */
export const SCRIPT_VARIABLE_PLACEHOLDERS = [
  'publication',
  'publisher.server',
  'publisher.database',
  'subscriber.server',
  'subscriber.database',
  'distributor.server',
  'distributor.database',
] as const;
export type ScriptVariablePlaceholder = (typeof SCRIPT_VARIABLE_PLACEHOLDERS)[number];

/**
 * The names replup's example scripts use (examples/replication/README.md), the mapping of every
 * plan that does not set `scripts.variables`.
 */
export const DEFAULT_SCRIPT_VARIABLES: Readonly<Record<string, string>> = {
  DistributorServer: '{distributor.server}',
  Publication: '{publication}',
  PublisherServer: '{publisher.server}',
  PublisherDatabase: '{publisher.database}',
  SubscriberServer: '{subscriber.server}',
  SubscriberDatabase: '{subscriber.database}',
};

/** What a script runs for: a publication script has no subscriber, ConvertRowGuids no publication. */
export interface ScriptFor {
  publication?: string;
  publisher?: { server: string; database: string };
  subscriber?: { server: string; database: string };
  distributor: { server: string; database: string };
}

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The placeholders a template names that are not known ones (for plan validation). */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1] ?? '')
    .filter((p) => !(SCRIPT_VARIABLE_PLACEHOLDERS as readonly string[]).includes(p));
}

function placeholderValue(name: string, f: ScriptFor): string | undefined {
  switch (name as ScriptVariablePlaceholder) {
    case 'publication':
      return f.publication;
    case 'publisher.server':
      return f.publisher?.server;
    case 'publisher.database':
      return f.publisher?.database;
    case 'subscriber.server':
      return f.subscriber?.server;
    case 'subscriber.database':
      return f.subscriber?.database;
    case 'distributor.server':
      return f.distributor.server;
    case 'distributor.database':
      return f.distributor.database;
    default:
      return undefined;
  }
}

/**
 * The `sqlcmd -v` variables for one run of a script: every mapped name whose placeholders are all
 * known for what the script runs for (the others are left out, so a script that uses one is
 * refused at preflight as "not defined").
 * @param mapping name → template; default DEFAULT_SCRIPT_VARIABLES
 */
export function expandScriptVariables(
  mapping: Readonly<Record<string, string>> | undefined,
  f: ScriptFor,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, template] of Object.entries(mapping ?? DEFAULT_SCRIPT_VARIABLES)) {
    let complete = true;
    const value = template.replace(PLACEHOLDER, (_m, p: string) => {
      const v = placeholderValue(p, f);
      if (v === undefined) complete = false;
      return v ?? '';
    });
    if (complete) out[name] = value;
  }
  return out;
}

/** Which placeholders of a mapped variable are unknown for what a script runs for (for messages). */
export function missingPlaceholders(template: string, f: ScriptFor): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '').filter((p) => placeholderValue(p, f) === undefined);
}

/**
 * sqlcmd's own scripting variables with the values sqlcmd gives them when started with
 * `-S server -d database` and no other option (table "sqlcmd Scripting Variables",
 * https://learn.microsoft.com/en-us/sql/tools/sqlcmd/sqlcmd-use-scripting-variables). SQLCMDUSER
 * and SQLCMDPASSWORD are left out on purpose: replup never puts credentials into a script (a
 * script that uses them is refused by the parser with that reason).
 */
export function sqlcmdVariables(at: { server: string; database: string; workstation: string }): Record<string, string> {
  return {
    SQLCMDSERVER: at.server,
    SQLCMDDBNAME: at.database,
    SQLCMDWORKSTATION: at.workstation,
    SQLCMDLOGINTIMEOUT: '8',
    SQLCMDSTATTIMEOUT: '0',
    SQLCMDHEADERS: '0',
    SQLCMDCOLSEP: ' ',
    SQLCMDCOLWIDTH: '0',
    SQLCMDPACKETSIZE: '4096',
    SQLCMDERRORLEVEL: '0',
    SQLCMDMAXVARTYPEWIDTH: '256',
    SQLCMDMAXFIXEDTYPEWIDTH: '0',
    SQLCMDEDITOR: 'edit.com',
    SQLCMDINI: '',
  };
}
