// The lab's subscription keys: what the bench reads the publication of a merge session from.
import { describe, expect, it } from 'vitest';
import { parseSubscriptionKey, subscriptionKey } from '../../../activities/lab/index.js';

describe('lab subscription keys', () => {
  it.each([
    ['LAB-PUB/PersonalizationServer', 'Config', 'LAB-SUB1/PersonalizationServer'],
    ['tcp:HQ,1433/PersonalizationServer', 'Data', 'tcp:SUB:1/Recovery->Leeds'],
    ["HQ-SQL\\RECOVERY/Recovery O'Brien's München", 'Data', 'A/b'],
  ])('reads back %s : %s -> %s', (publisherKey, publication, subscriberKey) => {
    const key = subscriptionKey(publisherKey, publication, subscriberKey);
    expect(parseSubscriptionKey(key)).toEqual({ publisherKey, publication, subscriberKey });
  });

  it('names a text that is not a key', () => {
    expect(() => parseSubscriptionKey('LAB-PUB/db')).toThrow(
      'not a lab subscription key (publisher:publication->subscriber): LAB-PUB/db',
    );
  });
});
