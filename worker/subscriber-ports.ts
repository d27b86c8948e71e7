// The subscriber runbooks' SubscriberPort per plan target, cached like worker/ports.ts: the lab's
// state file, or SQL Server pools of their own beside the fleet adapter of the same plan.
import { resolve } from 'node:path';
import type { FleetContext, PortsFor } from '../activities/personalization-upgrade/activities.js';
import type { SubscriberPortFor } from '../activities/subscribers/activities.js';
import type { SubscriberPort } from '../activities/subscribers/ports.js';
import { labSubscriberPort } from '../activities/lab/subscribers.js';
import { createSqlServerSubscriberPort } from '../activities/sqlserver/subscribers.js';
import { createMssqlConnections, type SqlConnections } from '../activities/sqlserver/connections.js';
import { resolveLogin } from '../activities/sqlserver/adapter.js';
import { resolveCredentialRef } from '../activities/sqlserver/credentials.js';

/** `portsFor` gives the fleet adapter of the same plan (replication names and state come from it). */
export function createSubscriberPortsFor(portsFor: PortsFor): SubscriberPortFor & { close(): Promise<void> } {
  const cache = new Map<string, SubscriberPort>();
  const pools: SqlConnections[] = [];
  const forCtx = async (ctx: FleetContext): Promise<SubscriberPort> => {
    const target = ctx.target;
    const key =
      target.kind === 'lab' ? `lab:${resolve(target.state)}` : `sqlserver:${JSON.stringify([target, ctx.credentials])}`;
    let port = cache.get(key);
    if (!port) {
      if (target.kind === 'lab') port = labSubscriberPort(resolve(target.state));
      else {
        const connections = createMssqlConnections({
          login: () => resolveLogin(ctx.credentials, target.windowsAccount, (ref) => resolveCredentialRef(ref)),
        });
        pools.push(connections);
        port = createSqlServerSubscriberPort(connections, (await portsFor(ctx)).sql);
      }
      cache.set(key, port);
    }
    return port;
  };
  return Object.assign(forCtx, {
    close: async () => {
      await Promise.all(pools.map((p) => p.close()));
    },
  });
}
