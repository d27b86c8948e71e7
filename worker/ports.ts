// Builds the ports a plan's target needs, once per target: the lab's state file, or the real
// SQL Server adapter plus the personalization servers' command templates. Credentials are
// resolved here, in the worker, from the plan's references: they never enter workflow history.
import { resolve } from 'node:path';
import type { FleetContext, Ports, PortsFor } from '../activities/upgrade.js';
import { openLab } from '../activities/lab/index.js';
import { createSqlServerFleet } from '../activities/sqlserver/adapter.js';
import { createCommandHosts } from '../activities/hosts/commands.js';

export interface PortsOptions {
  /** Which targets this worker serves; a plan for another target is refused. */
  targets?: ('lab' | 'sqlserver')[];
  log?: (line: string) => void;
}

export function createPortsFor(opts: PortsOptions = {}): PortsFor & { close(): Promise<void> } {
  const cache = new Map<string, Ports & { close?: () => Promise<void> }>();
  const serves = new Set(opts.targets ?? ['lab', 'sqlserver']);
  const portsFor = (ctx: FleetContext): Ports => {
    if (!serves.has(ctx.target.kind)) {
      throw new Error(`this worker does not serve target ${ctx.target.kind} (it serves ${[...serves].join(', ')})`);
    }
    const key = ctx.target.kind === 'lab' ? `lab:${resolve(ctx.target.state)}` : `sqlserver:${JSON.stringify([ctx.credentials, ctx.hosts, ctx.versionQuery, ctx.distributor, ctx.scriptsDir])}`;
    let ports = cache.get(key);
    if (!ports) {
      if (ctx.target.kind === 'lab') {
        const lab = openLab(resolve(ctx.target.state));
        ports = { sql: lab.sql, hosts: lab.hosts, close: async () => lab.admin.close() };
      } else {
        const fleet = createSqlServerFleet({ credentials: ctx.credentials, versionQuery: ctx.versionQuery, distributor: ctx.distributor, scriptsDir: ctx.scriptsDir });
        ports = { sql: fleet, hosts: createCommandHosts({ commands: ctx.hosts, log: opts.log }), close: () => fleet.close() };
      }
      cache.set(key, ports);
    }
    return ports;
  };
  return Object.assign(portsFor, {
    async close() {
      for (const p of cache.values()) await p.close?.();
      cache.clear();
    },
  });
}
