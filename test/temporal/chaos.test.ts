// The fixed-seed slice of the chaos suite (test/chaos/): three full upgrades, each with worker
// processes SIGKILLed at lab crash points and at a random moment, one restart of a Temporal dev
// server of its own from its SQLite file, and a 10 % transient SQL error rate. Seeds 1–3 put
// kills right after a background service stop (seed 1), a subscription script (seed 2) and a
// database upgrade (seed 3): the places where a lost reply could make a rerun do harm.
// The full suite: `npm run chaos -- --runs 50` (docs/reliability.md).
import { describe, expect, it } from 'vitest';
import { formatSummary, runChaos } from '../chaos/chaos.js';

describe('chaos (fixed seeds 1–3)', () => {
  it(
    'every run completes with the fleet intact and no side effect repeated, through kills, a server restart ' +
      'and transient errors',
    async () => {
      const summary = await runChaos({ runs: 3, seed: 1, transient: 0.1 });
      const failed = summary.reports
        .filter((r) => !r.ok)
        .map((r) => `seed ${r.seed}: ${r.problems.join('; ')} (files: ${r.dir})`);
      expect(failed, formatSummary(summary)).toEqual([]);
      expect(summary.completed).toBe(3);
      expect(summary.serverRestarts).toBe(3);
      for (const r of summary.reports) {
        // Several kills per run: the crash points (effect done, reply lost) and one at a random moment.
        expect(r.kills.filter((k) => k.how !== 'unexpected').length, `seed ${r.seed}`).toBeGreaterThanOrEqual(2);
        expect(r.unexpectedWorkerExits).toBe(0);
        // Each publication script and each subscription script ran exactly once (2 + 4 in lab-small).
        expect([r.publicationScriptRuns, r.subscriptionScriptRuns]).toEqual([2, 4]);
        expect(r.sideEffects.map((s) => [s.database, s.backups, s.snapshotDeliveries])).toEqual(
          r.sideEffects.map((s) => [s.database, 1, 0]),
        );
      }
      expect(summary.reports.flatMap((r) => r.kills.map((k) => k.how))).toEqual(
        expect.arrayContaining(['crash-at stopService:3', 'crash-at runScript:6', 'crash-at upgradeDatabase:3']),
      );
      expect(summary.injectedErrors).toBeGreaterThan(0);
      // A killed worker's step goes on within the heartbeat timeout (10 s) plus a worker start.
      expect(summary.resumeLatencyMs.max).toBeLessThan(45_000);
    },
    420_000,
  );
});
