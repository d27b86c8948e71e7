// The lab's subscription keys: what the bench reads the publication of a merge session from.
import { describe, expect, it } from 'vitest';
import { parseSubscriptionKey, subscriptionKey } from '../../../activities/lab/index.js';

describe('lab subscription keys', () => {
  it('reads back every part, whatever the site keys hold (`:` of tcp:, `->` in a database name)', () => {
    const keys = [
      {
        publisherKey: 'LAB-PUB/PersonalizationServer',
        publication: 'Config',
        subscriberKey: 'LAB-SUB1/PersonalizationServer',
      },
      {
        publisherKey: 'tcp:HQ,1433/PersonalizationServer',
        publication: 'Data',
        subscriberKey: 'tcp:SUB:1/Recovery->Leeds',
      },
      { publisherKey: "HQ-SQL\\RECOVERY/Recovery O'Brien's München", publication: 'Data', subscriberKey: 'A/b' },
    ];
    for (const k of keys)
      expect(parseSubscriptionKey(subscriptionKey(k.publisherKey, k.publication, k.subscriberKey))).toEqual(k);
  });

  it('names a text that is not a key', () => {
    expect(() => parseSubscriptionKey('LAB-PUB/db')).toThrow(
      'not a lab subscription key (publisher:publication->subscriber): LAB-PUB/db',
    );
  });
});
