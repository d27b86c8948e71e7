// plan/source.ts is generic: any zod schema, any extra rules, positions from YAML or JSON.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath, parsePlanSource, whenMissing } from '../../../plan/source.js';

const schema = z.strictObject({
  master: z.strictObject({ host: z.string(whenMissing('the master host name')), port: z.number().int().default(5000) }),
  replicants: z.array(z.strictObject({ host: z.string(), port: z.number().int() })).min(1),
});

describe("parsePlanSource with another runbook's schema", () => {
  it('returns the parsed value with defaults', () => {
    expect(parsePlanSource('master: { host: tt1 }\nreplicants: [{ host: tt2, port: 5001 }]\n', schema)).toEqual({
      ok: true,
      value: { master: { host: 'tt1', port: 5000 }, replicants: [{ host: 'tt2', port: 5001 }] },
    });
  });

  it('reports schema issues and rule violations together, sorted by position', () => {
    const text = [
      'master:',
      '  port: 5000',
      'replicants:',
      '  - host: tt2',
      '    port: "5001"',
      '    prot: 1',
      '',
    ].join('\n');
    const rules = () => [{ path: ['master', 'port'], message: 'the master and a replicant share port 5000' }];
    expect(parsePlanSource(text, schema, rules)).toEqual({
      ok: false,
      errors: [
        { path: 'master.host', line: 1, column: 1, message: '"host" is missing: the master host name' },
        { path: 'master.port', line: 2, column: 9, message: 'the master and a replicant share port 5000' },
        { path: 'replicants[0].port', line: 5, column: 11, message: 'expected a number, found "5001"' },
        { path: 'replicants[0].prot', line: 6, column: 5, message: 'unknown key "prot"; did you mean "port"?' },
      ],
    });
  });

  it('an empty file says where to start', () => {
    expect(parsePlanSource('# nothing yet\n', schema)).toEqual({
      ok: false,
      errors: [
        { path: '', line: 1, column: 1, message: 'the plan file is empty: start from one of the files in examples/' },
      ],
    });
  });

  it('an empty list is reported on the key that holds it', () => {
    expect(parsePlanSource('master: { host: a }\nreplicants: []\n', schema)).toMatchObject({
      ok: false,
      errors: [{ path: 'replicants', line: 2, column: 13, message: 'must list at least 1 entry' }],
    });
  });
});

describe('formatPath', () => {
  it.each([
    [['subscribers', 2, 'server'], 'subscribers[2].server'],
    [['hosts', 'my key'], 'hosts["my key"]'],
    [[], ''],
  ] as const)('%j → %s', (segments, text) => {
    expect(formatPath(segments)).toBe(text);
  });
});
