import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseOpenEdgePlan } from '../../../plan/openedge-startup/schema.js';
import { edited } from '../support/fixture-edits.js';

const examplePath = path.resolve(import.meta.dirname, '../../../examples/openedge/plan.yaml');
const example = await readFile(examplePath, 'utf8');

describe('openedge-replication-startup plans', () => {
  it('normalizes the example with defaults', () => {
    const r = parseOpenEdgePlan(example, examplePath);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.agents[0]).toEqual({
      name: 'agent1',
      host: '10.0.0.21',
      port: 4901,
      connectTimeoutSeconds: 120,
      replicationMethod: 'async',
      critical: true,
    });
    expect(r.value.retryIntervalSeconds).toBe(300);
    expect(r.value.propertiesFile).toBe(path.join(path.dirname(examplePath), 'sports.repl.properties'));
    const noInterval = parseOpenEdgePlan(example.replace(/retryIntervalSeconds: 300.*\n/, ''), examplePath);
    expect(noInterval.ok && noInterval.value.retryIntervalSeconds).toBe(300);
  });

  it('refuses ALL, long names, a bad deferral and sync agents with deferral, at their lines', () => {
    const text = edited(example, [
      ['name: agent1', 'name: ALL'],
      [
        'name: agent2, host: 10.0.0.22, port: 4901, replicationMethod: async',
        'name: agent_for_sports_2, host: 10.0.0.22, port: 4901, replicationMethod: sync',
      ],
      ['deferAgentStartupMinutes: 60', 'deferAgentStartupMinutes: 3'],
    ]);
    const r = parseOpenEdgePlan(text, examplePath);
    expect(r.ok ? [] : r.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`)).toEqual([
      '8: agents[0].name: "ALL" cannot be an agent name: ALL is reserved (dsrutil -C connectagent ALL means ' +
        'every agent)',
      '9: agents[1].name: agent name "agent_for_sports_2" is 18 characters long; at most 15 are allowed',
      '9: agents[1].replicationMethod: deferred agent start-up (deferAgentStartupMinutes: 3) needs ' +
        'replicationMethod: async for every agent',
      '10: deferAgentStartupMinutes: deferAgentStartupMinutes must be 0 (off) or 5 to 10080 minutes (7 days), found 3',
    ]);
    const sync = parseOpenEdgePlan(
      example.replace(
        'port: 4901, replicationMethod: async, critical: false',
        'port: 4901, replicationMethod: sync, critical: false',
      ),
      examplePath,
    );
    expect(sync.ok ? [] : sync.errors.map((e) => `${e.line}: ${e.message}`)).toEqual([
      '9: deferred agent start-up (deferAgentStartupMinutes: 60) needs replicationMethod: async for every agent',
    ]);
  });

  it('askOperatorAfterSeconds: 600 by default, 0 (ask at once) to one day; anything else refused at its line', () => {
    // The example states the default; without the line the plan gets the same 600 s.
    const r = parseOpenEdgePlan(example.replace(/askOperatorAfterSeconds: .*\n/, ''), examplePath);
    expect(r.ok && r.value.askOperatorAfterSeconds).toBe(600);
    const at = (value: string) =>
      parseOpenEdgePlan(
        example.replace(/askOperatorAfterSeconds: 600.*\n/, `askOperatorAfterSeconds: ${value}\n`),
        examplePath,
      );
    const zero = at('0');
    expect(zero.ok && zero.value.askOperatorAfterSeconds).toBe(0);
    const messages = (value: string) => {
      const x = at(value);
      return x.ok ? [] : x.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`);
    };
    expect(messages('-5')).toEqual([
      '12: askOperatorAfterSeconds: askOperatorAfterSeconds must be 0 (ask at once) or more seconds',
    ]);
    expect(messages('1.5')).toEqual([
      '12: askOperatorAfterSeconds: askOperatorAfterSeconds must be a whole number of seconds',
    ]);
    expect(messages('90000')).toEqual([
      '12: askOperatorAfterSeconds: askOperatorAfterSeconds must be at most 86400 (one day): a halted agent ' +
        'should not wait longer unseen',
    ]);
  });
});
