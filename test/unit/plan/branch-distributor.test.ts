// Issue #18 §3: each publishing site has its own distributor. A branch publisher distributes for
// itself unless the plan names another (vendor seed 000: SetMasterUp sets up "the distributer and
// the master" on the server that acts as Publisher / Distributor).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planShow } from '../../../cli/commands/plan.js';
import { loadPlanText } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { distributorOf, publishingSites } from '../../../plan/personalization-upgrade/schema.js';
import { BRANCH_OFFICE_START, EXAMPLES, loadExample } from './load-example.js';

/** A branch's recovery database on HQ\RECOVERY, in the inline spelling. */
const recovery = (city: string) => `    recovery: { server: HQ\\RECOVERY, database: Recovery ${city} }`;
const BRANCH_OFFICE = [
  ...BRANCH_OFFICE_START, // 1-9
  recovery('Leeds'), // 10
  '  - server: YORK', // 11
  recovery('York'), // 12
  'scripts: { dir: replication }', // 13
];
const text = (extra: Record<number, string[]> = {}) =>
  BRANCH_OFFICE.flatMap((line, i) => [line, ...(extra[i + 1] ?? [])]).join('\n') + '\n';

function load(t: string): UpgradePlan {
  const result = loadPlanText(t, '/plans/t.yaml');
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.plan as UpgradePlan;
}
const distributors = (plan: UpgradePlan) =>
  Object.fromEntries(publishingSites(plan).map((s) => [s.key, distributorOf(plan, s)]));

describe('a distributor per publishing site', () => {
  it(
    'by default each branch distributes its Data itself, the central publisher uses the plan distributor (its ' +
      'own server)',
    () => {
      expect(distributors(load(text()))).toEqual({
        'HQ/PersonalizationServer': { server: 'HQ', database: 'distribution' },
        'LEEDS/PersonalizationServer': { server: 'LEEDS', database: 'distribution' },
        'YORK/PersonalizationServer': { server: 'YORK', database: 'distribution' },
      });
    },
  );

  it('a branch may name its own distributor (database default distribution); the others keep theirs', () => {
    const plan = load(
      text({
        8: ['    distributor: { server: DIST-LEEDS }'],
        11: ['    distributor: { server: HQ, database: dist_york }'],
      }),
    );
    expect(distributors(plan)).toEqual({
      'HQ/PersonalizationServer': { server: 'HQ', database: 'distribution' },
      'LEEDS/PersonalizationServer': { server: 'DIST-LEEDS', database: 'distribution' },
      'YORK/PersonalizationServer': { server: 'HQ', database: 'dist_york' },
    });
    // Subscribers have none: they do not publish.
    expect(plan.sites.find((s) => s.key === 'HQ\\RECOVERY/Recovery Leeds')!.distributor).toBeUndefined();
  });

  it("a plan normalized before sites had a distributor falls back to the plan's", () => {
    const plan = load(text());
    const { distributor: _old, ...leeds } = plan.sites.find((s) => s.server === 'LEEDS')!;
    expect(distributorOf(plan, leeds)).toEqual({ server: 'HQ', database: 'distribution' });
  });

  it.each([
    [
      'a server name that is not one',
      '    distributor: { server: "LEEDS\\\\A\\\\B" }',
      'branches[0].distributor.server',
      '"A\\B" is not a SQL Server instance name (at most 16 letters, digits, _, $ or #, starting with a ' +
        'letter or _): write HOST, HOST\\INSTANCE or HOST,PORT (e.g. SQL01, SQL01\\PERSONALIZATION, SQL01,1433)',
    ],
    [
      'a key it does not know',
      '    distributor: { server: DIST, db: x }',
      'branches[0].distributor.db',
      'unknown key "db"; the keys allowed here are "server", "database"',
    ],
  ])('%s: the error names the place and the fix', (_name, line, at, message) => {
    const result = loadPlanText(text({ 8: [line] }), '/plans/t.yaml');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => ({ path: e.path, line: e.line, message: e.message }))).toEqual([
      { path: at, line: 9, message },
    ]);
  });

  it("plan show prints each publishing site's distributor", async () => {
    const example = await loadExample('branch-office.yaml');
    expect(publishingSites(example)).toHaveLength(3);
    const { text: shown, exitCode } = await planShow(path.join(EXAMPLES, 'branch-office.yaml'), { width: 400 });
    expect(exitCode).toBe(0);
    const lines = shown.split('\n');
    const at = lines.findIndex((l) => l.startsWith('distributor:'));
    expect(lines.slice(at, at + 3)).toEqual([
      'distributor:  HQ-SQL/distribution (for HQ-SQL/PersonalizationServer: the site distributes for itself)',
      '              LEEDS-SQL/distribution (for LEEDS-SQL/PersonalizationServer: the site distributes for itself)',
      '              MUENCHEN-SQL/distribution (for MUENCHEN-SQL/PersonalizationServer [DE]: the site ' +
        'distributes for itself)',
    ]);
  });
});
