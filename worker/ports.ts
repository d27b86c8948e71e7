// Builds the ports a plan's target needs, once per target: the lab's state file, or the real
// SQL Server adapter plus the personalization servers' command templates. Credentials are
// resolved here, in the worker, from the plan's references: they never enter workflow history.
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import type { FleetContext, Ports, PortsFor } from '../activities/personalization-upgrade/activities.js';
import { openLab } from '../activities/lab/index.js';
import { createSqlServerFleet } from '../activities/sqlserver/adapter.js';
import { createCommandHosts } from '../activities/hosts/commands.js';

export interface PortsOptions {
  /** Which targets this worker serves; a plan for another target is refused. */
  targets?: ('lab' | 'sqlserver')[];
  log?: (line: string) => void;
}

/**
 * The adapter is shared by every activity of a plan, so it heartbeats to whichever activity is
 * running the call: Context.current() follows the async call chain. Outside an activity (a bench
 * script) there is nothing to heartbeat to.
 */
export function heartbeatCurrentActivity(detail: string): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(detail);
}

export function createPortsFor(
  opts: PortsOptions = {},
): PortsFor & { close(): Promise<void>; release(target: FleetContext['target']): Promise<void> } {
  const cache = new Map<string, Ports & { close?: () => Promise<void> }>();
  const serves = new Set(opts.targets ?? ['lab', 'sqlserver']);
  const portsFor = (ctx: FleetContext): Ports => {
    const target = ctx.target;
    if (!serves.has(target.kind)) {
      throw new Error(`this worker does not serve target ${target.kind} (it serves ${[...serves].join(', ')})`);
    }
    // Everything the adapter is built from is part of the key: two plans that differ get two adapters.
    const key =
      target.kind === 'lab'
        ? `lab:${resolve(target.state)}`
        : `sqlserver:${JSON.stringify([
            target,
            ctx.credentials,
            ctx.hosts,
            ctx.versionQuery,
            ctx.distributor,
            ctx.distributors,
            ctx.scriptsDir,
          ])}`;
    let ports = cache.get(key);
    if (!ports) {
      if (target.kind === 'lab') {
        const lab = openLab(resolve(target.state));
        ports = { sql: lab.sql, hosts: lab.hosts, close: async () => lab.admin.close() };
      } else {
        const fleet = createSqlServerFleet({
          credentials: ctx.credentials,
          ...(target.windowsAccount !== undefined && { windowsAccount: target.windowsAccount }),
          ...(target.canary !== undefined && { canary: target.canary }),
          distributor: ctx.distributor,
          ...(ctx.distributors !== undefined && { distributors: ctx.distributors }),
          ...(ctx.versionQuery !== undefined && { versionQuery: ctx.versionQuery }),
          scriptsDir: ctx.scriptsDir,
          heartbeat: heartbeatCurrentActivity,
        });
        ports = {
          sql: fleet,
          hosts: createCommandHosts({ commands: ctx.hosts, log: opts.log }),
          close: () => fleet.close(),
        };
      }
      cache.set(key, ports);
    }
    return ports;
  };
  return Object.assign(portsFor, {
    /**
     * A run on this target has ended: a lab is closed, so its lock file goes and `replup lab init`
     * (or another worker) can take it without stopping this worker; the next activity reopens it.
     */
    async release(target: FleetContext['target']) {
      if (target.kind !== 'lab') return;
      const key = `lab:${resolve(target.state)}`;
      const ports = cache.get(key);
      if (!ports) return;
      cache.delete(key);
      await ports.close?.();
    },
    async close() {
      for (const p of cache.values()) await p.close?.();
      cache.clear();
    },
  });
}
