// What preflight says about the account SQL Server Agent runs as on each distributing server. The seed: "SQL
// Server Agent on the master instance must be running with sufficient privilege to access all the databases in
// question" (its merge agents reach every subscriber by Windows authentication). Microsoft: "Services that run as
// virtual accounts access network resources by using the credentials of the computer account in the format
// <domain_name>\<computer_name>$"
// (https://learn.microsoft.com/en-us/sql/database-engine/configure-windows/configure-windows-service-accounts-and-permissions);
// the same page: "Services that run as the Local Service account access network resources as a null session
// without credentials" and "the Local Service account is not supported for the SQL Server or SQL Server Agent
// services".
// Pure: the workflow calls it with the server facts preflight read.

/** One distributing server as preflight read it: its name and the account its Agent runs as (if read). */
export interface AgentAccountFact {
  server: string;
  agentAccount?: string;
}

const VIRTUAL = /^NT SERVICE\\/i;
const COMPUTER = /^(LocalSystem|NT AUTHORITY\\(SYSTEM|NETWORK ?SERVICE))$/i;
const ANONYMOUS = /^NT AUTHORITY\\LOCAL ?SERVICE$/i;

/**
 * One line per distributing server for the preflight warnings: who its Agent signs in as on the other servers and
 * what must be granted there. `others` are the fleet's other servers (named in the line). replup checks its own
 * login's rights, not this account's: the lines say what a DBA confirms.
 */
export function agentAccountNotes(distributors: AgentAccountFact[], others: (server: string) => string[]): string[] {
  return distributors.map(({ server, agentAccount }) => {
    const elsewhere = others(server);
    const where = elsewhere.length ? `on ${elsewhere.join(', ')}` : 'on every server of the fleet';
    if (!agentAccount)
      return (
        `SQL Server Agent on ${server}: its account could not be read; the vendor's Replication guide asks ` +
        `that it be sysadmin ${where}`
      );
    const host = server.split(/[\\,]/)[0]!;
    if (VIRTUAL.test(agentAccount) || COMPUTER.test(agentAccount))
      return (
        `SQL Server Agent on ${server} runs as ${agentAccount}: on other servers it signs in as the computer ` +
        `account (<domain>\\${host}$), which must be sysadmin ${where}; or run Agent as a domain account`
      );
    if (ANONYMOUS.test(agentAccount))
      return (
        `SQL Server Agent on ${server} runs as ${agentAccount}, which Microsoft does not support for Agent and ` +
        `which signs in to other servers as a null session: run Agent as a domain account that is sysadmin ${where}`
      );
    return (
      `SQL Server Agent on ${server} runs as ${agentAccount}: the vendor's Replication guide asks that it be ` +
      `sysadmin ${where}`
    );
  });
}
