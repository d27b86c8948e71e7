// runScript acts on what the scripts contain, with SQL Server's errors; faults and the CLI.
import { resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SqlError } from '../../../activities/ports.js';
import type { Lab } from '../../../activities/lab/index.js';
import { labCheck, labInit, labShow } from '../../../cli/commands/lab.js';
import { freshLab, script, tempStatePath, removeTempLabs } from './runbook.js';

afterAll(removeTempLabs);

let open: Lab[] = [];
afterEach(() => {
  for (const l of open) l.admin.close();
  open = [];
});
async function lab(opts: Parameters<typeof freshLab>[0] = {}) {
  const made = await freshLab(opts);
  open.push(made.lab);
  return made;
}

const PUB = { server: 'LAB-PUB', database: 'PersonalizationServer' };
const SUB1 = { server: 'LAB-SUB1', database: 'PersonalizationServer' };
const pubVars = (publication: string) => ({
  PublisherServer: PUB.server,
  PublisherDatabase: PUB.database,
  Publication: publication,
});
const subVars = (publication: string) => ({
  ...pubVars(publication),
  SubscriberServer: SUB1.server,
  SubscriberDatabase: SUB1.database,
});

describe('runScript in the lab', () => {
  it(
    'creates the publication from the example script, ' + 'and a second run fails with 20025 as on SQL Server',
    async () => {
      const { lab: l } = await lab();
      await l.sql.removeReplication(PUB);
      const run = await l.sql.runScript(PUB, script('CreateConfigPublication.sql', pubVars('Config')));
      expect(run.batches).toBe(6);
      expect(await l.sql.replicationState(PUB)).toMatchObject({ mergePublished: true, publications: ['Config'] });
      const again = l.sql.runScript(PUB, script('CreateConfigPublication.sql', pubVars('Config')));
      await expect(again).rejects.toThrow(
        'CreateConfigPublication.sql: Msg 20025, Level 16, State 1, Server LAB-PUB, ' +
          'CreateConfigPublication.sql line 10: The publication name must be unique. The specified publication ' +
          "name 'Config' has already been used.",
      );
    },
  );

  it(
    'a subscription script run while the subscription exists fails with 14058; a rewritten one creates a ' +
      'no-sync subscription',
    async () => {
      const { lab: l } = await lab({ from: '8.3.253.0' });
      await expect(
        l.sql.runScript(PUB, script('CreateConfigSubscription.sql', subVars('Config'), true)),
      ).rejects.toMatchObject({ number: 14058 });
      await l.sql.removeReplication(PUB);
      await l.sql.runScript(PUB, script('CreateConfigPublication.sql', pubVars('Config')));
      await l.sql.runScript(PUB, script('CreateConfigSubscription.sql', subVars('Config'), true));
      const state = await l.sql.replicationState(PUB);
      expect(state.subscriptions).toEqual([
        { publication: 'Config', publisher: PUB, subscriber: SUB1, syncType: 'none', status: 'active' },
      ]);
      // The push agent exists: a merge runs and moves nothing (no snapshot, nothing changed yet).
      const session = await l.sql.runMergeAgent({ publication: 'Config', publisher: PUB, subscriber: SUB1 });
      expect(session.download.inserts).toBe(0);
    },
  );

  it(
    'a subscription on a publication that does not exist fails with 20026, and :on error exit stops the script ' +
      'there',
    async () => {
      const { lab: l } = await lab();
      await l.sql.removeReplication(PUB);
      const err = await l.sql
        .runScript(PUB, script('CreateDataSubscription.sql', subVars('Data'), true))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SqlError);
      expect((err as SqlError).number).toBe(20026);
      expect((err as SqlError).message).toContain("The publication 'Data' does not exist.");
      expect((await l.admin.counters())['LAB-SUB1/PersonalizationServer']?.subscriptionCreations ?? 0).toBe(0);
    },
  );

  it('ConvertRowGuids.sql run twice converts once', async () => {
    const { lab: l } = await lab();
    await l.sql.removeReplication(SUB1);
    const vars = { SubscriberServer: SUB1.server, SubscriberDatabase: SUB1.database };
    await l.sql.runScript(SUB1, script('ConvertRowGuids.sql', vars));
    const once = (await l.admin.state()).databases['LAB-SUB1/PersonalizationServer']!.tables.ProfileData!;
    await l.sql.runScript(SUB1, script('ConvertRowGuids.sql', vars));
    const twice = (await l.admin.state()).databases['LAB-SUB1/PersonalizationServer']!.tables.ProfileData!;
    const pub = (await l.admin.state()).databases['LAB-PUB/PersonalizationServer']!.tables.ProfileData!;
    const pk = Object.keys(pub).find((k) => once[k])!;
    expect(once[pk]!.rowguid).toBe(pub[pk]!.rowguid);
    expect(twice[pk]!.rowguid).toBe(pub[pk]!.rowguid);
  });

  it('injected transient faults carry real SQL Server numbers and hit SQL operations only', async () => {
    const { lab: l } = await lab();
    await l.admin.setFaults({ transient: 1, seed: 3 });
    const numbers = new Set<number>();
    for (let i = 0; i < 12; i++)
      numbers.add(((await l.sql.databaseVersion(PUB).catch((e: unknown) => e)) as SqlError).number);
    expect([...numbers].sort((a, b) => a - b)).toEqual([-2, 1205, 10054]);
    await expect(l.hosts.productVersion('ps-pub-1')).resolves.toBe('8.2.0.0');
  });

  it('the same seed gives the same fleet after the same operations', async () => {
    const run = async () => {
      const { lab: l } = await lab({ seed: 42 });
      for (let i = 0; i < 5; i++) await l.sql.activeSessions(PUB);
      const s = await l.admin.state();
      return { databases: s.databases, sessions: s.sessions, ledger: s.ledger };
    };
    expect(await run()).toEqual(await run());
  });
});

describe('replup lab init|show|check', () => {
  const plan = resolve(import.meta.dirname, '../../../examples/lab-small.yaml');

  it(
    'creates a lab from the example plan, shows it, and ' + 'check holds it to what an untouched fleet promises',
    async () => {
      const state = tempStatePath();
      const init = await labInit(plan, { state, seed: 5, rows: 10 });
      expect(init.text).toContain(
        `Created the lab lab-small at ${state}: 3 databases, 4 personalization servers, Personalization Server ` +
          `8.2.0.0, seed 5.`,
      );
      await expect(labInit(plan, { state })).rejects.toThrow(
        `a lab already exists at ${state}; pass --force to replace it`,
      );
      const show = await labShow({ state });
      expect(show.text).toContain(
        'LAB-SUB2\\PERSONALIZATION/PersonalizationServer  subscriber  v8.2.0.0  rows: PersonalizationGroup 10, ' +
          'ProfileData 10, Archive 5  row GUIDs: legacy',
      );
      // Replication never removed: nothing lost, replication intact, users admitted; the upgrade's
      // own promises (versions at the target) are not asked of a fleet that was never upgraded.
      const check = await labCheck({ state });
      expect(check.exitCode).toBe(0);
      expect(check.text).toContain('replication was never removed');
      expect(check.text).toContain('PASS  replication-intact');
      expect(check.text).toContain('PASS  archives-intact');
      expect(check.text).not.toContain('versions-at-target');
      expect(check.text.trimEnd().split('\n').pop()).toBe(`All 5 invariants hold for the lab at ${state}`);
      const json = JSON.parse((await labCheck({ state }, { json: true })).text);
      expect(json).toMatchObject({ ok: true, phase: 'intact' });
    },
  );
});
