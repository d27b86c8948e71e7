import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../../plan/suggest.js';

describe('did you mean', () => {
  it.each([
    ['sever', 'server', 1],
    ['hots', 'host', 1], // two neighbouring letters swapped count as one typo
    ['Subscribers', 'subscribers', 0],
    ['approvals', 'aprovals', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ] as const)('editDistance(%j, %j) = %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
  });

  it('suggests the nearest candidate only when it is plausibly a typo', () => {
    expect(closest('subscriber', ['publisher', 'subscribers', 'scripts'])).toBe('subscribers');
    expect(closest('where', ['dir', 'copyOnly'])).toBeUndefined();
    expect(closest('x', ['server', 'database'])).toBeUndefined();
  });
});
