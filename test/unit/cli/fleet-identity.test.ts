// One run per fleet, whatever the spelling (issue #21 and its follow-up): the workflow id, which is
// Temporal's one-open-run-per-id guard, is the fleet's name in one spelling. SQL Server names ignore
// case; `tcp:`, surrounding spaces, a trailing dot and a default instance's `,1433` name the same
// server (plan/personalization-upgrade/fleet-identity.ts cites the page). An alias, a short name against its FQDN or an
// IP cannot be told apart without asking the server, so they stay different here.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlanText } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';
import { upgradeWorkflowId } from '../../../workflows/personalization-upgrade.js';

const idOf = (server: string, database = 'PersonalizationServer') =>
  upgradeWorkflowId({ publisher: { server, database } as never });

const example = readFileSync(resolve('examples/lab-small.yaml'), 'utf8').replace(
  /^ {2}dir: replication\b.*$/m,
  `  dir: ${resolve('examples/replication')}`,
);
/** The lab plan with its publisher written as given. */
const labPlan = (server: string) => {
  const r = loadPlanText(
    example.replace(/^ {2}server: LAB-PUB$/m, `  server: ${JSON.stringify(server)}`),
    resolve('examples/plan.yaml'),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.plan as UpgradePlan;
};

describe('fleet identity', () => {
  it('the publisher written in another case is the same fleet, so the same workflow id', () => {
    expect(idOf('LAB-PUB')).toBe('upgrade:lab-pub/personalizationserver');
    expect(idOf('lab-pub', 'personalizationserver')).toBe(idOf('LAB-PUB'));
  });

  it.each(['SQL01', 'sql01', 'SQL01,1433', 'tcp:SQL01', 'TCP:sql01,1433', ' SQL01 ', 'SQL01,01433'])(
    '%j is the fleet of SQL01',
    (spelling) => {
      expect(idOf(spelling)).toBe('upgrade:sql01/personalizationserver');
    },
  );

  it('a DNS name with its trailing root dot is the same name', () => {
    expect(idOf('sql01.corp.example.com.')).toBe(idOf('SQL01.corp.example.com'));
  });

  it.each([
    ['another port', 'SQL01,1434'],
    ['a named instance', 'SQL01\\PERSONALIZATION'],
    ['the full host name (needs the server to tell)', 'sql01.corp.example.com'],
    ['an IP address (needs the server to tell)', '10.0.0.5'],
  ])('%s is another id: %s', (_, spelling) => {
    expect(idOf(spelling)).not.toBe(idOf('SQL01'));
  });

  it('another database on the same server is another fleet', () => {
    expect(idOf('LAB-PUB', 'PersonalizationServer2')).not.toBe(idOf('LAB-PUB'));
  });

  it(
    'lab: two plans spelling the lab publisher differently validate to the same server and start the same ' +
      'workflow id',
    () => {
      const a = labPlan('LAB-PUB');
      const b = labPlan('tcp:lab-pub,1433');
      const c = labPlan(' LAB-PUB ');
      expect(upgradeWorkflowId(b)).toBe(upgradeWorkflowId(a));
      expect(upgradeWorkflowId(c)).toBe(upgradeWorkflowId(a));
      // What the run connects to is the name without the protocol prefix or spaces; the port, as written.
      expect([a.publisher.server, b.publisher.server, c.publisher.server]).toEqual([
        'LAB-PUB',
        'lab-pub,1433',
        'LAB-PUB',
      ]);
    },
  );

  it('a protocol replup cannot speak is still refused with the forms it takes', () => {
    const r = loadPlanText(
      example.replace(/^ {2}server: LAB-PUB$/m, '  server: np:\\\\LAB-PUB\\pipe\\sql\\query'),
      resolve('examples/plan.yaml'),
    );
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors.map((e) => [e.path, e.message])).toEqual([
      [
        'publisher.server',
        '"np:\\\\LAB-PUB\\pipe\\sql\\query" is not a SQL Server name: write HOST, HOST\\INSTANCE or ' +
          'HOST,PORT (e.g. SQL01, SQL01\\PERSONALIZATION, SQL01,1433)',
      ],
    ]);
  });
});
