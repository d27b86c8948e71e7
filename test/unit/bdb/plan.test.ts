import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bdbPlanSteps, parseBdbPlan } from '../../../plan/bdb-replicant/schema.js';

const examplePath = path.resolve(import.meta.dirname, '../../../examples/bdb/plan.yaml');
const example = await readFile(examplePath, 'utf8');
const root = path.resolve(import.meta.dirname, '../../..');

describe('bdb-replicant plans', () => {
  it('normalizes the example: absolute paths, defaults, a trusted network', () => {
    const r = parseBdbPlan(example, examplePath);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.master).toEqual({
      host: '127.0.0.1',
      envDir: path.join(root, '.replup/bdb/master/db'),
      port: 15010,
      service: { kind: 'local' },
      messageLog: path.join(root, '.replup/bdb/master/db/DB_Msg.txt'),
    });
    expect(r.value.backupDir).toBe(path.join(root, '.replup/bdb/backup'));
    expect(r.value.network).toEqual({ trusted: true });
    expect(r.value.options).toEqual({
      startupTimeoutSeconds: 120,
      replicantRetrySeconds: 15,
      replicantStartAttempts: 20,
      verifyTimeoutSeconds: 60,
    });
    expect(bdbPlanSteps(r.value).find((s) => s.id === 'trusted-network')?.applies).toBe(false);
  });

  it('without network.trusted the run stops at the trusted-network approval', () => {
    const r = parseBdbPlan(example.replace(/network:\n  trusted: true.*\n/, ''), examplePath);
    expect(r.ok && r.value.network).toEqual({ trusted: false });
    if (!r.ok) return;
    expect(bdbPlanSteps(r.value)[0]).toEqual({
      id: 'trusted-network',
      applies: true,
      reason:
        'replication traffic is not encrypted and the plan does not say the network is trusted: waits for ' +
        '`replup approve`',
    });
  });

  it('reports a host name, a shared address and a backup inside an environment, with lines', () => {
    const text = example
      .replace(
        'host: 127.0.0.1\n  envDir: ../../.replup/bdb/master/db',
        'host: master.tapetrack.com\n  envDir: ../../.replup/bdb/master/db',
      )
      .replace('port: 15011', 'port: 15010')
      .replace('backupDir: ../../.replup/bdb/backup', 'backupDir: ../../.replup/bdb/replicant/db/backup');
    const r = parseBdbPlan(text.replace('host: master.tapetrack.com', 'host: 127.0.0.1'), examplePath);
    expect(r.ok ? [] : r.errors).toEqual([
      {
        path: 'replicant.port',
        line: 13,
        column: 9,
        message: "the replicant uses the master's address 127.0.0.1:15010: give it its own port or host",
      },
      {
        path: 'backupDir',
        line: 15,
        column: 12,
        message:
          "backupDir is inside the replicant's envDir ../../.replup/bdb/replicant/db: put the backup outside " +
          'every environment',
      },
    ]);
    const named = parseBdbPlan(text, examplePath);
    expect(named.ok ? [] : named.errors[0]).toEqual({
      path: 'master.host',
      line: 6,
      column: 9,
      message:
        '"master.tapetrack.com" is not an IPv4 address: the vendor warns that a name can resolve to IPv6 and ' +
        'stop replication; write the address, e.g. 192.0.2.10',
    });
  });
});
