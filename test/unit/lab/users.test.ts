// Users write at a rate per unit of time at their own site (the lab's time at a site is the
// operations on it), not per operation fleet-wide: a 200-subscriber fan-out must not make every
// site's users write 200 times faster. And the lab's file keeps up with operations in parallel:
// none returns before its effect is on disk, and no change is lost to a write in flight.
import { describe, expect, it } from 'vitest';
import { readLabState } from '../../../activities/lab/index.js';
import { labsPerTest, ref, subscriptions } from './runbook.js';

const lab = labsPerTest();

const SUB1 = { server: 'LAB-SUB1', database: 'PersonalizationServer' };

describe("the lab's users", () => {
  it('write only at the sites the operations touch', async () => {
    const { lab: l } = await lab();
    for (let i = 0; i < 20; i++) await l.sql.databaseVersion(SUB1);
    const state = await l.admin.state();
    const written = Object.values(state.ledger).filter((e) => e.at > 0);
    expect(written.length).toBeGreaterThan(0);
    expect(new Set(written.map((e) => e.home))).toEqual(new Set(['LAB-SUB1/PersonalizationServer']));
    expect(state.clock).toBe(20);
  });

  it('an operation naming no site of the fleet only advances the clock', async () => {
    const { lab: l } = await lab();
    const before = await l.admin.state();
    await expect(l.sql.databaseVersion({ server: 'NOWHERE', database: 'PersonalizationServer' })).rejects.toMatchObject(
      { number: 53 },
    );
    const after = await l.admin.state();
    expect(after.clock).toBe(before.clock + 1);
    expect(after.ledger).toEqual(before.ledger);
    expect(after.rng).toBe(before.rng);
  });

  it('leave changes for the sync to move once every site is drained', async () => {
    const { lab: l, plan } = await lab();
    for (const h of plan.sites.flatMap((s) => s.personalizationServers)) await l.hosts.drain(h);
    for (const s of plan.sites)
      await l.sql.killSessions(
        ref(s),
        (await l.sql.activeSessions(ref(s))).map((x) => x.sessionId),
      );
    let pending = 0;
    for (const sub of subscriptions(plan)) {
      const p = await l.sql.pendingChanges(sub);
      pending += p.upload + p.download;
    }
    expect(pending).toBeGreaterThan(0);
  });

  it('act the same for a seed (sequential operations replay identically)', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const { lab: l, plan } = await lab({ seed: 11 });
      for (const s of plan.sites) await l.sql.databaseVersion(ref(s));
      for (const sub of subscriptions(plan)) await l.sql.runMergeAgent(sub);
      const { databases, ledger, sessions, subscriptions: subs } = await l.admin.state();
      // last_sync_date is wall-clock time, like MSmerge_sessions' times: not part of what a seed decides.
      const withoutTimes = Object.fromEntries(
        Object.entries(subs).map(([k, { lastSyncAt: _t, ...rest }]) => [k, rest]),
      );
      runs.push({ databases, ledger, sessions, subs: withoutTimes });
    }
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe("the lab's file under operations in parallel", () => {
  it('no operation returns before its effect is on disk, and no change is lost to a write in flight', async () => {
    // A lab big enough that a write takes a while, and operations arriving every millisecond
    // whatever the earlier ones are doing: some change the state while a write is in flight.
    const { lab: l, statePath } = await lab({ rows: 1500 });
    const n = 100;
    const seenOnDisk: number[] = [];
    let done = 0;
    const ops: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      ops.push(
        l.sql.databaseVersion(SUB1).then(() => {
          done += 1;
          // At least `done` operations have returned: each of their effects must be on disk.
          seenOnDisk.push(readLabState(statePath).calls.databaseVersion! - done);
        }),
      );
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(ops);
    expect(seenOnDisk.every((d) => d >= 0)).toBe(true);
    const memory = await l.admin.state();
    expect(memory.calls.databaseVersion).toBe(n);
    expect(memory.clock).toBe(n);
    expect(readLabState(statePath).calls.databaseVersion).toBe(n);
    // The next operation still sees every change (load never went back to an older file).
    await l.sql.databaseVersion(SUB1);
    expect(readLabState(statePath).clock).toBe(n + 1);
    // What is on disk is the whole state (databases re-serialised only when changed included).
    expect(readLabState(statePath)).toEqual(await l.admin.state());
  });
});
