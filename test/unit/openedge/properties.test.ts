import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReplicationProperties } from '../../../activities/openedge-startup/properties.js';

const example = await readFile(
  path.resolve(import.meta.dirname, '../../../examples/openedge/sports.repl.properties'),
  'utf8',
);
const errorsOf = (text: string) => {
  const r = parseReplicationProperties(text);
  return r.ok ? [] : r.errors;
};

describe('parseReplicationProperties', () => {
  it('reads the example source file', () => {
    const r = parseReplicationProperties(example);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.server).toEqual({
      controlAgents: ['agent1', 'agent2'],
      database: 'sports',
      deferAgentStartup: 60,
      line: 2,
    });
    expect(r.value.controlAgents.map((a) => [a.name, a.host, a.port, a.replicationMethod, a.critical])).toEqual([
      ['agent1', '10.0.0.21', 4901, 'async', true],
      ['agent2', '10.0.0.22', 4901, 'async', false],
    ]);
  });

  it('refuses long names and ALL, with their lines', () => {
    const text = example
      .replaceAll('agent2', 'agent_for_sports_2')
      .replace('control-agents=agent1,', 'control-agents=ALL,agent1,');
    expect(errorsOf(text)).toEqual([
      {
        line: 3,
        message:
          'control-agents: "ALL" cannot be an agent name: ALL is reserved (dsrutil -C connectagent ALL means ' +
          'every agent)',
      },
      {
        line: 3,
        message: 'control-agents: agent name "agent_for_sports_2" is 18 characters long; at most 15 are allowed',
      },
      {
        line: 3,
        message: 'control-agents names "ALL" but there is no [control-agent.ALL] section: add it or remove the name',
      },
      {
        line: 16,
        message:
          '[control-agent.agent_for_sports_2]: agent name "agent_for_sports_2" is 18 characters long; at ' +
          'most 15 are allowed',
      },
    ]);
  });

  it('wants deferred start-up to be 0 or 5-10080 minutes, and asynchronous agents', () => {
    expect(errorsOf(example.replace('defer-agent-startup=60', 'defer-agent-startup=3'))).toEqual([
      { line: 5, message: 'defer-agent-startup must be 0 (off) or 5 to 10080 minutes (7 days), found 3' },
    ]);
    expect(errorsOf(example.replace('defer-agent-startup=60', 'defer-agent-startup=20000'))).toEqual([
      { line: 5, message: 'defer-agent-startup must be 0 (off) or 5 to 10080 minutes (7 days), found 20000' },
    ]);
    const sync = example.replace('replication-method=async\ncritical=1', 'replication-method=sync\ncritical=1');
    expect(errorsOf(sync)).toEqual([
      {
        line: 13,
        message:
          'agent agent1 is synchronous, but defer-agent-startup=60 (line 5) needs replication-method=async ' +
          'for every agent',
      },
    ]);
    expect(errorsOf(sync.replace('defer-agent-startup=60', 'defer-agent-startup=0'))).toEqual([]);
  });

  it('matches control-agents and the [control-agent.NAME] sections one to one', () => {
    const text = example.replace('control-agents=agent1,agent2', 'control-agents=agent1,agent3');
    expect(errorsOf(text)).toEqual([
      {
        line: 3,
        message:
          'control-agents names "agent3" but there is no [control-agent.agent3] section: add it or remove the name',
      },
      {
        line: 16,
        message:
          '[control-agent.agent2] is not listed in control-agents (line 3): add agent2 there or remove the section',
      },
    ]);
  });

  it('reports missing keys, bad values and stray lines where they are', () => {
    const text = [
      '[server]',
      'control-agents=agent1',
      'database=sports',
      '[control-agent.agent1]',
      'name=agent9',
      'host=10.0.0.21',
      'port=49o1',
      'replication-method=fast',
      'critical=yes',
      'this is not a property',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      { line: 4, message: '[control-agent.agent1] needs database=the target database name' },
      { line: 5, message: 'name=agent9 does not match the section [control-agent.agent1]: write name=agent1' },
      { line: 7, message: 'port must be a whole number, found "49o1"' },
      { line: 8, message: 'replication-method must be sync or async, found "fast"' },
      { line: 9, message: 'critical must be 0 or 1, found "yes"' },
      { line: 10, message: 'expected "[section]" or "key=value", found "this is not a property"' },
    ]);
  });

  it('accepts a target file with only [agent]', () => {
    const r = parseReplicationProperties('[agent]\nname=agent1\ndatabase=sports_target1\nlistener-minport=4387\n');
    expect(r).toEqual({
      ok: true,
      value: { controlAgents: [], agent: { name: 'agent1', database: 'sports_target1', 'listener-minport': '4387' } },
    });
  });

  describe('a comment on the line of a value', () => {
    const lines = example.split('\n');
    const propertyLines = lines.map((l, i) => ({ l, line: i + 1 })).filter(({ l }) => /^[a-z-]+=/.test(l));

    it(
      'is refused on every property line of the example, with the reason and the fix, and nothing else said of ' +
        'that line',
      () => {
        expect(propertyLines).toHaveLength(17);
        for (const { l, line } of propertyLines) {
          const key = l.split('=')[0];
          const text = lines.map((x, i) => (i + 1 === line ? `${x}   # why this value` : x)).join('\n');
          expect(errorsOf(text), l).toEqual([
            {
              line,
              message:
                `a comment on the line of the value of ${key} ("# why this value"): OpenEdge Replication allows ` +
                `a comment only on a line of its own; move it to a line of its own above "${l}"`,
            },
          ]);
        }
      },
    );

    it(
      'is refused without a blank before "#", on keys replup does not check, on target files and on section ' +
        'headers',
      () => {
        expect(
          errorsOf(
            example.replace(
              'port=4901\nconnect-timeout=120\nreplication-method=async\ncritical=1',
              'port=4901#agent1\nconnect-timeout=120\nreplication-method=async\ncritical=1',
            ),
          ),
        ).toEqual([
          {
            line: 11,
            message:
              'a comment on the line of the value of port ("#agent1"): OpenEdge Replication allows a comment ' +
              'only on a line of its own; move it to a line of its own above "port=4901"',
          },
        ]);
        expect(
          errorsOf(example.replace('database=sports\n', 'database=sports\ntransition=manual # failover by hand\n')),
        ).toEqual([
          {
            line: 5,
            message:
              'a comment on the line of the value of transition ("# failover by hand"): OpenEdge Replication ' +
              'allows a comment only on a line of its own; move it to a line of its own above ' +
              '"transition=manual"',
          },
        ]);
        expect(errorsOf('[agent]\nname=agent1\ndatabase=sports_target1\nlistener-minport=4387 # firewall\n')).toEqual([
          {
            line: 4,
            message:
              'a comment on the line of the value of listener-minport ("# firewall"): OpenEdge Replication ' +
              'allows a comment only on a line of its own; move it to a line of its own above ' +
              '"listener-minport=4387"',
          },
        ]);
        expect(errorsOf(example.replace('[server]', '[server] # source'))).toEqual([
          {
            line: 2,
            message:
              'a comment on the line of a section header ("# source"): OpenEdge Replication allows a comment ' +
              'only on a line of its own; move it to a line of its own above "[server]"',
          },
        ]);
      },
    );

    it('is accepted on a line of its own, indented or not (the fix)', () => {
      const fixed = example
        .replace('port=4901\n', '  # the target broker\nport=4901\n')
        .replace('critical=1', '# stop replication without it\ncritical=1');
      const r = parseReplicationProperties(fixed);
      expect(r.ok && r.value.controlAgents.map((a) => [a.name, a.port, a.critical])).toEqual([
        ['agent1', 4901, true],
        ['agent2', 4901, false],
      ]);
    });
  });
});
