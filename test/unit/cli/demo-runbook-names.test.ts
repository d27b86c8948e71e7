// `replup demo --runbook NAME`: the demo's names, the plan's own runbook name for the upgrade, and a typo
// refused (exit 2) with what was probably meant.
import { describe, expect, it } from 'vitest';
import { demoRunbook } from '../../../cli/lib/demo-runbooks.js';
import { UserError } from '../../../cli/errors.js';

describe('replup demo --runbook', () => {
  it.each(['upgrade', 'em-personalization-upgrade'])('%s runs the upgrade demo', (name) => {
    expect(demoRunbook(name, false)).toBeUndefined();
  });

  it('add-subscribers: refused, exit 2, did you mean add-subscriber', () => {
    let thrown: unknown;
    try {
      demoRunbook('add-subscribers', false);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UserError);
    expect((thrown as UserError).message).toBe(
      '--runbook add-subscribers: the demo runs no such runbook (did you mean add-subscriber?); nothing was started',
    );
    expect((thrown as UserError).exitCode).toBe(2);
  });
});
