// `replup lab check` after an abort holds the fleet to what an abort promises (issue #21), not to a
// completed upgrade's invariants: before removal, replication intact and users admitted; after
// removal, nothing lost up to the removal and users kept out.
import { describe, expect, it } from 'vitest';
import { labVerdict } from '../../../activities/lab/check.js';
import { labsPerTest, syncUntilQuiet } from './runbook.js';

const lab = labsPerTest();
const ref = (s: { server: string; database: string }) => ({ server: s.server, database: s.database });

describe('lab check after an abort', () => {
  it('aborted before removal with users admitted again: every promise of that abort holds', async () => {
    const { lab: l, plan } = await lab();
    const hosts = plan.sites.flatMap((s) => s.personalizationServers);
    for (const h of hosts) await l.hosts.drain(h);
    // The abort cleanup at the gate re-admits users.
    for (const h of hosts) await l.hosts.undrain(h);
    const v = labVerdict(await l.admin.state());
    expect(v.phase).toBe('intact');
    expect(v.invariants.map((i) => [i.name, i.ok])).toEqual([
      ['nothing-lost', true],
      ['archives-intact', true],
      ['replication-intact', true],
      ['background-services-running', true],
      ['serving-again', true],
    ]);
  });

  it('aborted before removal but users left out: serving-again fails', async () => {
    const { lab: l, plan } = await lab();
    await l.hosts.drain(plan.sites[0]!.personalizationServers[0]!);
    const v = labVerdict(await l.admin.state());
    expect(v.invariants.filter((i) => !i.ok).map((i) => i.name)).toEqual(['serving-again']);
  });

  it('aborted after removal: nothing lost up to the removal, users must stay out', async () => {
    const { lab: l, plan } = await lab();
    const hosts = plan.sites.flatMap((s) => s.personalizationServers);
    for (const h of hosts) await l.hosts.drain(h);
    await syncUntilQuiet(l, plan);
    for (const s of plan.sites) await l.sql.removeReplication(ref(s));
    const held = labVerdict(await l.admin.state());
    expect(held.phase).toBe('removed');
    expect(held.title).toContain('replication was removed and not re-enabled');
    expect(held.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(held.invariants.map((i) => i.name)).toContain('users-kept-out');
    // Someone admits users into a fleet that no longer replicates: the check says so.
    await l.hosts.undrain(hosts[0]!);
    const broken = labVerdict(await l.admin.state());
    expect(broken.invariants.find((i) => i.name === 'users-kept-out')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`${hosts[0]} admits users`),
    });
  });
});
