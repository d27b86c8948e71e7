// An operator resolves conflicts while a worker holds the lab, as a DBA would in the conflict
// viewer while the run is parked: the change goes through the holder, never around it.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { changeLab, initLab, openLab, readLabState } from '../../../activities/lab/index.js';
import { loadPlanFile } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';

it('resolve-conflicts reaches a lab that another process holds, and a second worker is still refused', async () => {
  const r = await loadPlanFile(resolve('examples/lab-small.yaml'));
  if (!r.ok) throw new Error('example invalid');
  const statePath = join(mkdtempSync(join(tmpdir(), 'replup-hold-')), 'lab.json');
  await initLab(r.plan as UpgradePlan, { statePath, conflicts: 3, seed: 2 });

  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', resolve('test/unit/lab/fixtures/hold-lab.ts'), statePath],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((ok) => holder.stdout.once('data', () => ok()));
    expect(() => openLab(statePath)).toThrow(`the lab ${statePath} is in use by process ${holder.pid}`);
    const cli = spawnSync(
      process.execPath,
      [resolve('cli/bin.mjs'), 'lab', 'resolve-conflicts', '--state', statePath],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(`resolved 3 conflicts in ${statePath}\n`);
    expect(readLabState(statePath).conflicts).toEqual([]);
  } finally {
    holder.kill('SIGKILL');
  }
  await new Promise((r) => holder.once('exit', r));
  // With the holder gone the change is made directly.
  expect(await changeLab(statePath, { kind: 'add-conflicts', n: 2 })).toBe(2);
  expect(readLabState(statePath).conflicts).toHaveLength(2);
}, 30_000);
