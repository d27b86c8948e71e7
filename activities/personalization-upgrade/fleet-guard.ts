// One run per fleet beyond what the spelling tells (issue #21): SQL01, sql01.corp.example,
// 10.0.0.5 and an alias are one server that plan/personalization-upgrade/fleet-identity.ts cannot tell apart, so their
// workflow ids differ and Temporal's one-open-run-per-id guard lets two runs in. Only the server
// knows its name: at preflight, before anything changes, the run records the publisher's
// @@SERVERNAME + database as the `ReplupFleetId` search attribute and looks in Temporal's
// visibility for another running upgrade with the same value.
//
// Visibility is eventually consistent (a search attribute upserted by one run appears in list
// queries some time later), so the order matters. The workflow upserts the attribute first, then
// `claimFleet` waits until this run itself is listed with it, and only then lists the others.
// Two runs racing: say A is listed before B. B waits until it is listed itself, so it lists after
// A was listed, and sees A: at least one of the two stops (both may, and a retry of one then goes
// on). Inferred, not documented: that once a run is listed with a value it stays listed while it
// runs, and that one namespace's list queries read one store (true of the dev server's SQLite;
// assumed of a cluster's Elasticsearch/SQL visibility).
import { resolve } from 'node:path';
import { Context, ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { fleetIdentity, ReplupFleetId } from '../../plan/personalization-upgrade/fleet-identity.js';
import type { DbRef } from '../../plan/personalization-upgrade/types.js';
import { FailureType, type FleetContext, type PortsFor } from './activities.js';

export const FLEET_ID_ATTRIBUTE = ReplupFleetId.name;
/** How long claimFleet waits for this run to be listed before the activity is retried. */
const OWN_LISTING_TIMEOUT_MS = 30_000;

export interface FleetIdentityAnswer {
  /**
   * The canonical identity as recorded: `server/database` as the publisher names itself, lower case (a lab's prefixed
   * by its state file), fleetAttributeValue-encoded.
   */
  identity: string;
  /** @@SERVERNAME as the publisher answered it. */
  server: string;
  /**
   * Why the identity could not be recorded (the search attribute is not registered); the run goes on, guarded by its
   * workflow id only.
   */
  warning?: string;
}

/**
 * The attribute's value: the identity with `%`, `\` and `"` percent-encoded. A value holding a
 * backslash (a named instance, SQL01\PERSONALIZATION) or a double quote is found by no visibility
 * query, escaped or not (measured on the dev server 1.5.1: `"…\\…"`, `'…\\…'`, `'…""…'` all list
 * nothing), so the value never holds them and its literal needs no escaping.
 */
export const fleetAttributeValue = (identity: string) =>
  identity.replace(/[%\\"]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const literal = (v: string) => `"${v}"`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The README's command to register the attribute on a server the user brings. */
export const REGISTER_FLEET_ID =
  `temporal operator search-attribute create ` + `--name ${FLEET_ID_ATTRIBUTE} --type Keyword`;

export function createFleetGuardActivities(client: () => Promise<Client>, portsFor: PortsFor) {
  return {
    /**
     * preflight: the fleet as its publisher names itself (@@SERVERNAME), and whether the namespace
     * can record it. A lab's servers are only the same fleet within one lab state file.
     */
    async fleetIdentity(ctx: FleetContext, publisher: DbRef): Promise<FleetIdentityAnswer> {
      const server = await (await portsFor(ctx)).sql.replicationName(publisher.server);
      const own = fleetIdentity({ server, database: publisher.database });
      const identity = fleetAttributeValue(ctx.target.kind === 'lab' ? `lab:${resolve(ctx.target.state)}|${own}` : own);
      const c = await client();
      try {
        // An unregistered attribute is refused by the query; upserting it would fail the workflow task instead.
        await c.workflow
          .list({ query: `${FLEET_ID_ATTRIBUTE} = ${literal(identity)}`, pageSize: 1 })
          [Symbol.asyncIterator]()
          .next();
      } catch (err) {
        // The server's reason is the cause: "column name 'ReplupFleetId' is not a valid search attribute" (measured,
        // dev server 1.5.1).
        const message =
          err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err);
        if (!message.includes(FLEET_ID_ATTRIBUTE)) throw err;
        return {
          identity,
          server,
          warning:
            `the search attribute ${FLEET_ID_ATTRIBUTE} is not registered in namespace ${c.options.namespace}, ` +
            `so another run on ${own} under another spelling of its name cannot be found; register it (` +
            `${REGISTER_FLEET_ID}) before the next run`,
        };
      }
      return { identity, server };
    },

    /**
     * preflight, after the workflow recorded its identity: stops (nothing changed yet) when another
     * upgrade of the same fleet is running, naming it and how to look at it.
     */
    async claimFleet(input: { identity: string; workflowId: string; runId: string }): Promise<void> {
      const c = await client();
      const ctx = Context.current();
      const same = `${FLEET_ID_ATTRIBUTE} = ${literal(input.identity)}`;
      const deadline = Date.now() + OWN_LISTING_TIMEOUT_MS;
      for (;;) {
        ctx.heartbeat('waiting for this run to be listed with its fleet');
        // By run id (a UUID) alone: a workflow id may hold a backslash, which no query matches.
        const mine = c.workflow.list({ query: `RunId = ${literal(input.runId)} AND ${same}`, pageSize: 1 });
        if (!(await mine[Symbol.asyncIterator]().next()).done) break;
        if (Date.now() > deadline) {
          // Retryable: the activity's retry policy asks again.
          throw new Error(
            `Temporal's visibility has not listed this run with ${FLEET_ID_ATTRIBUTE} after ` +
              `${OWN_LISTING_TIMEOUT_MS / 1000} s; asking again`,
          );
        }
        await sleep(250);
      }
      const others: { workflowId: string; runId: string }[] = [];
      for await (const wf of c.workflow.list({ query: `${same} AND ExecutionStatus = "Running"` })) {
        if (wf.runId !== input.runId) others.push({ workflowId: wf.workflowId, runId: wf.runId });
      }
      if (others.length === 0) return;
      const named = others.map((o) => `${o.workflowId} (run ${o.runId})`).join(', ');
      throw ApplicationFailure.nonRetryable(
        `another upgrade of this fleet is running: ${named}. The publisher names itself ` +
          `${decodeURIComponent(input.identity.replace(/^lab:.*\|/, ''))}, so the plans name one fleet under ` +
          `two spellings; nothing was changed. ` +
          (`Look at it: ${others.map((o) => `replup status '${o.workflowId}'`).join(', ')}; when it has ` +
            `ended, retry this step (replup retry --step preflight --reason "..."), or end this run (replup ` +
            `abort --step preflight --reason "...")`),
        FailureType.preflight,
      );
    },
  };
}

export type FleetGuardActivities = ReturnType<typeof createFleetGuardActivities>;
