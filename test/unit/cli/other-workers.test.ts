import { describe, expect, it } from 'vitest';
import { livePollers } from '../../../cli/lib/other-workers.js';

describe('which pollers of task queue replup are live workers', () => {
  const now = 1_000_000_000;
  it('keeps those seen within 70 s, once each; drops stopped ones and those without a time', () => {
    expect(
      livePollers(
        [
          { identity: '42@ops-1', lastAccessMs: now - 5_000 },
          { identity: '42@ops-1', lastAccessMs: now - 1_000 }, // its activity poller
          { identity: '7@ops-2', lastAccessMs: now - 69_000 },
          { identity: '9@ops-3', lastAccessMs: now - 71_000 }, // stopped a while ago, still listed
          { identity: '11@ops-4', lastAccessMs: undefined },
        ],
        now,
      ),
    ).toEqual(['42@ops-1', '7@ops-2']);
  });
});
