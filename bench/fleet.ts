// Benchmark fleets: a plan for one publisher and n subscribers, written as a DBA would write it and
// read by the same loader (the idea of test/temporal/scale.test.ts's fleetPlan), and its lab.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initLab } from '../activities/lab/index.js';
import { loadPlanText } from '../plan/load.js';
import type { UpgradePlan } from '../plan/personalization-upgrade/types.js';

export interface FleetOptions {
  subscribers: number;
  maxParallel: number;
  /** Lab latency per operation, ms. */
  latencyMs: number;
  childWorkflowThreshold?: number;
  /** Retry of transient errors; the product's default (2 s doubling to 60 s) when absent. */
  fastRetry?: boolean;
  seed?: number;
  /** Users per personalization server (default 2); 0 = nobody writes, so sync has nothing to move. */
  usersPerHost?: number;
  quietRounds?: number;
}

/**
 * From 8.2 every step of the runbook applies (row GUID conversion, background services). No
 * approval gate and a drain timeout of 0 (sessions still open are disconnected at once), so the
 * run never waits for a person or a timer: its wall time is orchestration plus lab time.
 */
const created: string[] = [];

/** Deletes every fleet this process created (a 200-subscriber lab is ~35 MB). */
export function removeFleets(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function createFleet(
  name: string,
  o: FleetOptions,
): Promise<{ plan: UpgradePlan; statePath: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `replup-bench-${name}-`));
  created.push(dir);
  const statePath = join(dir, 'lab.json');
  const subscribers = Array.from(
    { length: o.subscribers },
    (_, i) => `  - server: SUB${String(i + 1).padStart(4, '0')}\n    personalizationServers: [ps-sub${i + 1}]`,
  ).join('\n');
  const options = [
    'approvals: []',
    `maxParallel: ${o.maxParallel}`,
    'drainTimeoutSeconds: 0',
    o.childWorkflowThreshold ? `childWorkflowThreshold: ${o.childWorkflowThreshold}` : '',
    o.quietRounds ? `sync: { quietRounds: ${o.quietRounds} }` : '',
    o.fastRetry ? 'retry: { initialSeconds: 0.2, maximumSeconds: 1, maximumAttempts: 20 }' : '',
  ].filter(Boolean);
  const text = [
    `name: bench-${name}`,
    'runbook: em-personalization-upgrade',
    'from: 8.2.0.0',
    'to: 10.4.0.0',
    `target: { kind: lab, state: ${JSON.stringify(statePath)} }`,
    'publisher:',
    `  server: BENCH-PUB-${name.toUpperCase()}`,
    '  personalizationServers: [ps-pub]',
    'subscribers:',
    subscribers,
    `scripts: { dir: ${JSON.stringify(resolve('examples/replication'))} }`,
    `backup: { dir: ${JSON.stringify(join(dir, 'backups'))} }`,
    'hosts: { upgrade: "setup {host} {version}" }',
    `options: { ${options.join(', ')} }`,
  ].join('\n');
  const r = loadPlanText(text, join(dir, 'plan.yaml'));
  if (!r.ok)
    throw new Error(`bench fleet ${name}: the generated plan is invalid: ${JSON.stringify(r.errors.slice(0, 3))}`);
  const plan = r.plan as UpgradePlan;
  await initLab(plan, { rows: 4, seed: o.seed ?? 7, latencyMs: o.latencyMs, usersPerHost: o.usersPerHost ?? 2 });
  return { plan, statePath, dir };
}
