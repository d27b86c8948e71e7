// The example's two TapeTrack machines, on this one, for examples/bdb/plan.yaml (or another plan
// of runbook bdb-replicant whose services are local). Run from the repository root:
//   npx tsx examples/bdb/setup.ts init [PLAN] [--force]   a standalone master with tapes, a fresh replicant
//   npx tsx examples/bdb/setup.ts stop [PLAN]             stop both services the run started
// The master is what a TapeTrack server is before the runbook: the vendor's DB_CONFIG (both
// replication blocks commented out, DB_CONFIG.seed), a shared environment (`db5.3_recover -e`
// keeps its regions: https://manpages.ubuntu.com/manpages/focal/man1/db_recover.1.html; without
// it, db5.3_hotbackup refuses "a PRIVATE environment") and a tapes.db database. The replicant is a
// fresh install: the same DB_CONFIG and a catalog file, which the runbook wipes.
import { createServer } from 'node:net';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { logDirOf } from '../../activities/bdb-replicant/db-config.js';
import { stopService } from '../../activities/bdb-replicant/service.js';
import { runTool, toolErrors } from '../../activities/bdb-replicant/tools.js';
import type { BdbReplicantPlan, BdbSite } from '../../plan/bdb-replicant/schema.js';
import { loadPlanText } from '../../plan/load.js';

const DEFAULT_PLAN = path.join(import.meta.dirname, 'plan.yaml');
const SEED = path.join(import.meta.dirname, 'DB_CONFIG.seed');
const USAGE = 'usage: setup.ts init [PLAN] [--force] | stop [PLAN]   (PLAN defaults to examples/bdb/plan.yaml)';

/** The master's tapes: what the replicant must show after the run. */
export const TAPES: Record<string, string> = {
  VOL001: 'rack A slot 1',
  VOL002: 'rack A slot 2',
  VOL003: 'offsite vault',
};

class SetupError extends Error {}

async function loadPlan(file: string): Promise<BdbReplicantPlan> {
  // Without the on-disk checks (loadPlanText): `plan validate` refuses the plan for the very master this creates.
  const loaded = loadPlanText(await readFile(file, 'utf8'), path.resolve(file));
  if (!loaded.ok)
    throw new SetupError(
      `${file} is not a valid plan:\n` +
        `${loaded.errors.map((e) => `  ${e.line}:${e.column} ${e.path}: ${e.message}`).join('\n')}`,
    );
  const plan = loaded.plan as BdbReplicantPlan;
  if (plan.runbook !== 'bdb-replicant')
    throw new SetupError(
      `${file} is a plan for ${String((loaded.plan as { runbook: string }).runbook)}, not bdb-replicant`,
    );
  for (const [role, site] of [
    ['master', plan.master],
    ['replicant', plan.replicant],
  ] as const) {
    if (site.service.kind !== 'local')
      throw new SetupError(
        `${file}: the ${role}'s service is "${site.service.kind}": this set-up makes local environments only ` +
          `(service: { kind: local })`,
      );
  }
  return plan;
}

const serviceOf = (role: 'master' | 'replicant', s: BdbSite) => ({
  role,
  host: s.host,
  envDir: s.envDir,
  control: s.service,
  messageLog: s.messageLog,
});

/** Is host:port free to listen on? The plan's repmgr ports must be, or the services cannot start. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

async function stopBoth(plan: BdbReplicantPlan): Promise<string[]> {
  const out: string[] = [];
  for (const [role, site] of [
    ['replicant', plan.replicant],
    ['master', plan.master],
  ] as const) {
    const r = await stopService(serviceOf(role, site), { graceMs: 5_000 }).catch(() => ({ wasRunning: false }));
    out.push(`${role} ${site.host}:${site.port}: ${r.wasRunning ? 'stopped' : 'was not running'}`);
  }
  return out;
}

async function tool(name: string, args: string[], input?: string): Promise<void> {
  const r = await runTool(name, args, { input });
  if (r.code !== 0) throw new SetupError(`${r.command} failed: ${toolErrors(r) || `exit ${r.code}`}`);
}

async function init(plan: BdbReplicantPlan, file: string, force: boolean): Promise<string[]> {
  const { master, replicant } = plan;
  const present = await readdir(master.envDir).catch(() => [] as string[]);
  if (present.length > 0 && !force) {
    throw new SetupError(
      `${master.envDir} already holds an environment (${present.length} files): pass --force to stop both ` +
        `services and make both machines again`,
    );
  }
  if (force) await stopBoth(plan);
  for (const site of [master, replicant]) {
    const busy = !(await portFree(site.host, site.port));
    if (busy)
      throw new SetupError(
        `port ${site.port} on ${site.host} is in use by another program: give ` +
          `${site === master ? 'master' : 'replicant'}.port another free port in ${file}`,
      );
  }
  const seed = await readFile(SEED, 'utf8');
  const logs = logDirOf(seed) ?? '.';
  for (const site of [master, replicant]) {
    await rm(site.envDir, { recursive: true, force: true });
    await rm(path.resolve(site.envDir, logs), { recursive: true, force: true });
    await mkdir(site.envDir, { recursive: true });
    await mkdir(path.resolve(site.envDir, logs), { recursive: true }); // Berkeley DB does not create set_lg_dir
    await copyFile(SEED, path.join(site.envDir, 'DB_CONFIG'));
  }
  if (force) await rm(plan.backupDir, { recursive: true, force: true });
  await tool('recover', ['-e', '-h', master.envDir]);
  await tool(
    'load',
    ['-T', '-t', 'btree', '-h', master.envDir, 'tapes.db'],
    `${Object.entries(TAPES).flat().join('\n')}\n`,
  );
  await writeFile(path.join(replicant.envDir, 'TMSS10.catalog'), 'catalog of the fresh TapeTrack install\n');
  return [
    `master    ${master.host}:${master.port}  ${master.envDir}: the vendor's DB_CONFIG, tapes.db with ` +
      `${Object.keys(TAPES).length} tapes, logs in ${path.resolve(master.envDir, logs)}`,
    `replicant ${replicant.host}:${replicant.port}  ${replicant.envDir}: a fresh install (the vendor's ` +
      `DB_CONFIG, TMSS10.catalog)`,
    `next: npx replup start ${path.relative(process.cwd(), file) || file}`,
  ];
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { force: { type: 'boolean', default: false } },
  });
  const [command, planArg] = positionals;
  if ((command !== 'init' && command !== 'stop') || positionals.length > 2) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const file = planArg ?? DEFAULT_PLAN;
  try {
    const plan = await loadPlan(file);
    const lines = command === 'init' ? await init(plan, file, values.force) : await stopBoth(plan);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

// Run as a command only (the README test imports TAPES).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main(process.argv.slice(2));
