// The typed activity calls a runbook is written with (workflows/engine/activity-types.ts): the
// fan-out builder describes calls, a plain script calls the functions directly; a misspelt name or
// a wrong argument does not compile (the @ts-expect-error lines fail `tsc` if it ever does).
import { describe, expect, it } from 'vitest';
import { calls, directActivities } from '../../../workflows/engine/activity-types.js';
import { tagged, tagOf } from '../../../common/activity-call.js';

const impl = {
  async add(a: number, b: number): Promise<number> {
    return a + b;
  },
  async greet(who: { name: string }): Promise<string> {
    return `hello ${who.name}`;
  },
};

describe('typed activity calls', () => {
  it('calls<T>() describes a call: activity, args, summary', () => {
    const batch = calls<typeof impl>();
    expect(batch.add('step: add', 1, 2)).toEqual({ activity: 'add', args: [1, 2], summary: 'step: add' });
    // @ts-expect-error a misspelt activity does not compile
    void batch.ad;
    // @ts-expect-error a wrong argument does not compile
    void batch.add('step: add', 1, 'two');
  });

  it('directActivities calls the function with its arguments and reports each call first', async () => {
    const seen: unknown[] = [];
    const acts = directActivities(impl, (c) => seen.push(c));
    expect(await acts.add('step: add', 2, 3)).toBe(5);
    expect(await acts.greet('step: greet', { name: 'anna' })).toBe('hello anna');
    expect(seen).toEqual([
      { activity: 'add', args: [2, 3], summary: 'step: add' },
      { activity: 'greet', args: [{ name: 'anna' }], summary: 'step: greet' },
    ]);
    // @ts-expect-error a wrong argument does not compile
    void (() => acts.greet('step: greet', 'anna'));
  });

  it('a call tag rides in the input object, and is read back only when well-formed', () => {
    const ctx = { target: 'lab' };
    const t = tagged(ctx, { step: 'sync-until-quiet', round: 2 });
    expect(t).toEqual({ target: 'lab', call: { step: 'sync-until-quiet', round: 2 } });
    expect(ctx).toEqual({ target: 'lab' });
    expect(tagOf(t)).toEqual({ step: 'sync-until-quiet', round: 2 });
    expect(tagOf(tagged(ctx, { step: 'backup' }))).toEqual({ step: 'backup' });
    for (const x of [undefined, null, 'preflight', 3, {}, { call: 'x' }, { call: { round: 1 } }])
      expect(tagOf(x)).toBeUndefined();
  });
});
