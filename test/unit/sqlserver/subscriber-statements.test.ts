// The subscriber runbooks' own statements (activities/sqlserver/subscriber-statements.ts) are held
// to the catalog like statements.ts: documented tables, columns, procedures; every bound variable read.
import { describe, expect, it } from 'vitest';
import { checkStatement } from '../../../activities/sqlserver/catalog.js';
import * as sql from '../../../activities/sqlserver/subscriber-statements.js';
import { addSubscriberStatements, removeSubscriberStatements } from '../../../activities/sqlserver/subscribers-sql.js';
import { parseAddSubscriberPlan } from '../../../plan/add-subscriber/schema.js';
import { parseRemoveSubscriberPlan } from '../../../plan/remove-subscriber/schema.js';
import type { AddSubscriberPlan, RemoveSubscriberPlan } from '../../../plan/add-subscriber/types.js';

const STATEMENTS = {
  databaseExists: sql.databaseExists('PersonalizationServer'),
  tableRowCounts: sql.tableRowCounts('PersonalizationServer'),
};

describe('subscriber statements', () => {
  it('covers every exported statement', () => {
    expect(Object.keys(sql).sort()).toEqual(Object.keys(STATEMENTS).sort());
  });

  it.each(Object.entries(STATEMENTS))('%s names only what the catalog documents', (_name, statement) => {
    expect(checkStatement(statement.sql, statement.params)).toEqual([]);
  });

  it('counts rows in the subscription database, approximate, heaps and clustered indexes only', () => {
    const s = sql.tableRowCounts('Branch]7');
    expect(s.sql).toContain('FROM [Branch]]7].sys.dm_db_partition_stats AS ps JOIN [Branch]]7].sys.objects AS o');
    expect(s.sql).toContain("WHERE o.type = 'U' AND o.is_ms_shipped = 0 AND ps.index_id IN (0, 1)");
  });
});

describe('plan show --sql of the subscriber runbooks', () => {
  const plan = (runbook: 'add-subscriber' | 'remove-subscriber') => {
    const text = [
      'name: t',
      `runbook: ${runbook}`,
      'target: { kind: sqlserver, canary: { write: "UPDATE dbo.T SET n = @token", read: "SELECT 1 FROM dbo.T ' +
        'WHERE n = @token" } }',
      'publisher: { server: SQL01 }',
      'subscriber: { server: BRANCH7, edition: Express }',
    ].join('\n');
    const parsed =
      runbook === 'add-subscriber'
        ? parseAddSubscriberPlan(text, '/p/add.yaml')
        : parseRemoveSubscriberPlan(text, '/p/r.yaml');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.value;
  };

  it('sends only what the catalog documents, in the steps that apply', () => {
    const add = addSubscriberStatements(plan('add-subscriber') as AddSubscriberPlan);
    const remove = removeSubscriberStatements(plan('remove-subscriber') as RemoveSubscriberPlan);
    expect(add.map((s) => s.id)).toEqual(['preflight', 'create-subscriptions', 'synchronize', 'verify-subscription']);
    expect(remove.map((s) => s.id)).toEqual(['preflight', 'drop-subscriptions', 'verify-fleet']);
    for (const s of [...add, ...remove].flatMap((step) => step.statements)) {
      expect(checkStatement(s.statement.sql, s.statement.params), s.purpose).toEqual([]);
    }
  });
});
