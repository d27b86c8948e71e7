// A fleet's identity from the way a plan spells its publisher. One fleet must get one workflow id
// (Temporal's one-open-run-per-id guard), however the operator wrote the server's name. Pure and
// deterministic: workflow code and the CLI share it.
//
// Microsoft's "Connect to SQL Server with sqlcmd"
// (https://learn.microsoft.com/sql/ssms/scripting/sqlcmd-connect-to-the-database-engine/) writes a
// server as `[tcp:]computer[\instance][,port]`: `tcp:` only chooses the protocol, and its examples
// reach the default instance "on port 1433" both as `ComputerA` and as `ComputerA,1433`.
// What is normalised here without asking the server:
//  - surrounding spaces, and a `tcp:` prefix (TCP is the only protocol replup's driver speaks);
//  - a trailing dot after a DNS name (`sql01.corp.example.` is the same DNS name; inferred from
//    DNS's fully qualified form, not from a SQL Server page);
//  - letter case (SQL Server names do not tell case apart);
//  - for the identity only, `,1433` after a host without an instance: a default instance listens
//    on 1433 unless configured otherwise (inferred from the page's examples; the connection keeps
//    the port as written).
// What cannot be told apart here (an alias, a short name against its FQDN, an IP address) needs
// the server's own @@SERVERNAME.

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The default TCP port of a default instance. */
export const DEFAULT_SQL_PORT = 1433;

/**
 * A server name as a connection may use it: spaces around it, a `tcp:` prefix and a trailing dot
 * after the host removed; case and port kept. Other text is returned as it is for the schema to judge.
 */
export function normalizeServerName(server: string): string {
  const s = server.trim().replace(/^tcp:\s*/i, '');
  const [, host = '', rest = ''] = /^([^\\,]*)(.*)$/s.exec(s) ?? [];
  return `${host.replace(/(?<=[A-Za-z0-9])\.+$/, '')}${rest}`;
}

/** The server's part of a fleet identity: normalized, lower case, a default instance's `,1433` dropped. */
export function serverIdentity(server: string): string {
  return normalizeServerName(server)
    .toLowerCase()
    .replace(new RegExp(`^([^\\\\,]+),0*${DEFAULT_SQL_PORT}$`), '$1');
}

/** `server/database` as one fleet is known whatever the spelling (databases compared case-insensitively too). */
export function fleetIdentity(db: { server: string; database: string }): string {
  return `${serverIdentity(db.server)}/${db.database.toLowerCase()}`;
}

/**
 * The search attribute a run records its fleet under at preflight: the publisher's @@SERVERNAME +
 * database as fleetIdentity writes them (activities/personalization-upgrade/fleet-guard.ts), so spellings the plan
 * alone cannot tell apart are one fleet.
 */
export const ReplupFleetId = defineSearchAttributeKey('ReplupFleetId', SearchAttributeType.KEYWORD);
