import { describe, expect, it } from 'vitest';
import { coveredMs, criticalPath, formatSummary, minimumSyncRounds, summarize } from '../../../bench/stats.js';

describe('summarize', () => {
  it('gives the median, min and max of an odd and an even number of runs', () => {
    expect(summarize([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, n: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('refuses an empty scenario instead of reporting NaN', () => {
    expect(() => summarize([])).toThrow('summarize: no measurements (the scenario did not run)');
  });

  it('prints median (min–max), and says when there was one run only', () => {
    expect(formatSummary(summarize([1.234, 2, 0.5]), 1, ' ms')).toBe('1.2 ms (0.5 ms–2.0 ms)');
    expect(formatSummary(summarize([7]))).toBe('7 (n=1)');
  });
});

describe('coveredMs', () => {
  it('adds operations made one after the other, and counts overlapping ones once', () => {
    expect(
      coveredMs([
        { start: 0, end: 200 },
        { start: 300, end: 500 },
      ]),
    ).toBe(400);
    // eight reads at once, then eight more: two latencies, not sixteen
    const batch = (t: number) => Array.from({ length: 8 }, (_, i) => ({ start: t + i, end: t + 200 + i }));
    expect(coveredMs([...batch(0), ...batch(210)])).toBe(207 + 207);
    expect(
      coveredMs([
        { start: 0, end: 100 },
        { start: 50, end: 80 },
        { start: 90, end: 150 },
      ]),
    ).toBe(150);
    expect(coveredMs([])).toBe(0);
  });
});

describe('criticalPath', () => {
  const span = (key: string, scheduled: number, completed: number, labMs: number) => ({
    key,
    scheduled,
    completed,
    labMs,
  });
  it.each([
    {
      rule: 'adds up a chain of activities each asked for after the previous one completed',
      spans: [span('a', 0, 110, 100), span('b', 120, 330, 200), span('c', 340, 400, 50)],
      expected: { ms: 350, chain: ['a', 'b', 'c'] },
    },
    {
      rule: 'takes the longest branch of a fan-out, not their sum',
      // preflight, then three subscribers in parallel, then the next step.
      spans: [
        span('pre', 0, 100, 90),
        span('sub1', 110, 400, 200),
        span('sub2', 110, 700, 600),
        span('sub3', 110, 300, 150),
        span('next', 710, 800, 80),
      ],
      expected: { ms: 770, chain: ['pre', 'sub2', 'next'] },
    },
    {
      rule: 'does not chain activities that overlapped in time',
      spans: [span('x', 0, 500, 400), span('y', 100, 600, 450)],
      expected: { ms: 450, chain: ['y'] },
    },
  ])('$rule', ({ spans, expected }) => {
    expect(criticalPath(spans)).toEqual(expected);
  });
});

describe('minimumSyncRounds', () => {
  const s = (publication: string, uploaded: number, downloaded: number) => ({ publication, uploaded, downloaded });

  it('needs only the quiet rounds when nothing was pending', () => {
    expect(minimumSyncRounds([s('Config', 0, 0), s('Data', 0, 0)], 2)).toEqual({ moving: 0, minimum: 2 });
  });

  it('moves changes from the publisher and one uploading subscriber in one round', () => {
    expect(minimumSyncRounds([s('Data', 3, 1), s('Data', 0, 4), s('Config', 0, 2)], 2)).toEqual({
      moving: 1,
      minimum: 3,
    });
  });

  it('needs a second round once two subscribers of one publication upload', () => {
    expect(minimumSyncRounds([s('Data', 3, 0), s('Data', 1, 3), s('Config', 1, 0)], 2)).toEqual({
      moving: 2,
      minimum: 4,
    });
  });
});
