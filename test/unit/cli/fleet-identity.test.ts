// One run per fleet, whatever the spelling (issue #21): SQL Server names ignore case, so the
// workflow id (Temporal's one-run-per-id guard) is the fleet's name in one spelling.
import { describe, expect, it } from 'vitest';
import { upgradeWorkflowId } from '../../../workflows/personalization-upgrade.js';

describe('fleet identity', () => {
  it('the publisher written in another case is the same fleet, so the same workflow id', () => {
    const a = upgradeWorkflowId({ publisher: { server: 'LAB-PUB', database: 'PersonalizationServer' } as never });
    const b = upgradeWorkflowId({ publisher: { server: 'lab-pub', database: 'personalizationserver' } as never });
    expect(a).toBe('upgrade:lab-pub/personalizationserver');
    expect(b).toBe(a);
  });

  it('another database on the same server is another fleet', () => {
    const a = upgradeWorkflowId({ publisher: { server: 'LAB-PUB', database: 'PersonalizationServer' } as never });
    const b = upgradeWorkflowId({ publisher: { server: 'LAB-PUB', database: 'PersonalizationServer2' } as never });
    expect(b).not.toBe(a);
  });
});
