// The example plans load, with the defaults a DBA relies on filled in and relative paths resolved
// against the plan file's folder.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlanText } from '../../../plan/load.js';
import { EXAMPLES, loadExample } from './load-example.js';

const examples = EXAMPLES;
const repo = path.dirname(examples);

describe('example plans', () => {
  it('lab-small: one publisher with two personalization servers, two subscribers with one each', async () => {
    const plan = await loadExample('lab-small.yaml');
    expect(plan.sites.map((s) => [s.key, s.role, s.personalizationServers])).toEqual([
      ['LAB-PUB/PersonalizationServer', 'publisher', ['ps-pub-1', 'ps-pub-2']],
      ['LAB-SUB1/PersonalizationServer', 'subscriber', ['ps-sub1-1']],
      ['LAB-SUB2\\PERSONALIZATION/PersonalizationServer', 'subscriber', ['ps-sub2-1']],
    ]);
    const subscribers = ['LAB-SUB1/PersonalizationServer', 'LAB-SUB2\\PERSONALIZATION/PersonalizationServer'];
    expect(plan.publications).toEqual([
      { name: 'Config', kind: 'Config', publisher: 'LAB-PUB/PersonalizationServer', subscribers },
      { name: 'Data', kind: 'Data', publisher: 'LAB-PUB/PersonalizationServer', subscribers },
    ]);
    expect(plan.target).toEqual({ kind: 'lab', state: path.join(repo, '.replup/labs/lab-small.json') });
    expect(plan.scripts.dir).toBe(path.join(examples, 'replication'));
    expect(plan.backup).toEqual({ dir: path.join(repo, '.replup/labs/lab-small-backups'), copyOnly: true });
    expect(plan.options.approvals).toEqual([]);
  });

  it('fills in the defaults the issue names', async () => {
    const plan = await loadExample('lab-modern.yaml');
    expect(plan.from).toBe('10.0.0.0');
    expect(plan.distributor).toEqual({ server: 'LAB-PUB', database: 'distribution' });
    expect(plan.scripts.files).toEqual({
      createConfigPublication: 'CreateConfigPublication.sql',
      createDataPublication: 'CreateDataPublication.sql',
      createConfigSubscription: 'CreateConfigSubscription.sql',
      createDataSubscription: 'CreateDataSubscription.sql',
      convertRowGuids: 'ConvertRowGuids.sql',
    });
    expect(plan.credentials).toEqual({ kind: 'windows' });
    expect(plan.hosts).toEqual({ upgrade: 'PersonalizationServerSetup.exe /quiet /upgrade {host} {version}' });
    expect(plan.options).toEqual({
      maxParallel: 4,
      sync: { quietRounds: 2, maxRounds: 10 },
      approvals: [],
      drainTimeoutSeconds: 600,
      childWorkflowThreshold: 50,
      // preflight warns of subscriptions expiring within a working night; a real Snapshot Agent takes minutes
      expectedRunHours: 8,
      snapshotTimeoutMinutes: 30,
    });
  });

  it(
    'branch-office: Config from the centre to branches and recovery databases, each branch publishing Data to ' +
      'its recovery database',
    async () => {
      const plan = await loadExample('branch-office.yaml');
      const leeds = 'LEEDS-SQL/PersonalizationServer';
      const leedsRecovery = 'HQ-SQL\\RECOVERY/Recovery Leeds';
      const munich = 'MUENCHEN-SQL/PersonalizationServer [DE]';
      const munichRecovery = "HQ-SQL\\RECOVERY/Recovery O'Brien's München";
      expect(plan.sites.map((s) => [s.key, s.role])).toEqual([
        ['HQ-SQL/PersonalizationServer', 'publisher'],
        [leeds, 'publisher-subscriber'],
        [leedsRecovery, 'subscriber'],
        [munich, 'publisher-subscriber'],
        [munichRecovery, 'subscriber'],
      ]);
      expect(plan.publications).toEqual([
        {
          name: 'Config',
          kind: 'Config',
          publisher: 'HQ-SQL/PersonalizationServer',
          subscribers: [leeds, leedsRecovery, munich, munichRecovery],
        },
        { name: 'Data', kind: 'Data', publisher: leeds, subscribers: [leedsRecovery] },
        { name: 'Data', kind: 'Data', publisher: munich, subscribers: [munichRecovery] },
      ]);
      // Identifiers with spaces, ], quotes and non-ASCII letters are accepted as written.
      expect(plan.sites[4]?.database).toBe("Recovery O'Brien's München");
      expect(plan.options.approvals).toEqual(['remove-replication']);
    },
  );

  it('sqlserver template: credentials stay references, Windows paths stay as written', async () => {
    const plan = await loadExample('sqlserver.yaml');
    expect(plan.target).toEqual({
      kind: 'sqlserver',
      canary: {
        write: 'UPDATE dbo.ReplicationCanary SET Token = @token WHERE Id = 1',
        read: 'SELECT 1 FROM dbo.ReplicationCanary WHERE Token = @token',
      },
    });
    expect(plan.versionQuery).toBe('SELECT TOP (1) Version FROM dbo.SchemaVersion');
    expect(plan.credentials).toEqual({ kind: 'sql', user: 'env:REPLUP_SQL_USER', password: 'env:REPLUP_SQL_PASSWORD' });
    expect(plan.backup.dir).toBe('D:\\Backups\\replup');
    expect(plan.scripts.dir).toBe('/srv/replup/replication/10.4');
    expect(plan.hosts.stopService).toBe('sc.exe \\\\{host} stop "{service}"');
    expect(plan.sites.map((s) => s.server)).toEqual(['SQL-PUB01\\PERSONALIZATION', 'SQL-LON01', 'SQL-PAR01,1433']);
  });

  it('a JSON plan is read like YAML', () => {
    const json = JSON.stringify({
      name: 'j',
      runbook: 'em-personalization-upgrade',
      from: '8.2.0.0',
      to: '10.4.0.0',
      target: { kind: 'lab', state: 'state.json' },
      publisher: { server: 'PUB', database: 2024 },
      subscribers: [{ server: 'SUB,1433', database: 'Personalization ]] "Server"' }],
      scripts: { dir: '../scripts' },
    });
    const result = loadPlanText(json, '/plans/emea/j.json');
    expect(result).toMatchObject({
      ok: true,
      plan: {
        // A numeric database name is a name.
        publisher: { key: 'PUB/2024', database: '2024' },
        sites: [{ key: 'PUB/2024' }, { key: 'SUB,1433/Personalization ]] "Server"' }],
        target: { kind: 'lab', state: '/plans/emea/state.json' },
        scripts: { dir: '/plans/scripts' },
        backup: { dir: '/plans/emea/state-backups' },
      },
    });
  });
});
