// What set-up preflight says about SQL Server Agent's account on each distributing server (the seed: Agent must
// reach every database; Microsoft: virtual accounts sign in elsewhere as the computer account, Local Service as a
// null session), as the DBA reads it in the step's note and the run's preflightWarnings.
import { describe, expect, it } from 'vitest';
import { agentAccountNotes } from '../../../plan/setup-replication/agent-account.js';

const others = (server: string) => ['MASTER\\PERS', 'BRANCH1', 'REC1'].filter((s) => s !== server);

describe('agentAccountNotes', () => {
  it.each([
    [
      'CORP\\svc-sqlagent',
      "SQL Server Agent on MASTER\\PERS runs as CORP\\svc-sqlagent: the vendor's Replication guide asks that it be " +
        'sysadmin on BRANCH1, REC1',
    ],
    [
      'NT Service\\SQLAgent$PERS',
      'SQL Server Agent on MASTER\\PERS runs as NT Service\\SQLAgent$PERS: on other servers it signs in as the ' +
        'computer account (<domain>\\MASTER$), which must be sysadmin on BRANCH1, REC1; or run Agent as a domain ' +
        'account',
    ],
    [
      'LocalSystem',
      'SQL Server Agent on MASTER\\PERS runs as LocalSystem: on other servers it signs in as the computer account ' +
        '(<domain>\\MASTER$), which must be sysadmin on BRANCH1, REC1; or run Agent as a domain account',
    ],
    [
      'NT AUTHORITY\\LOCAL SERVICE',
      'SQL Server Agent on MASTER\\PERS runs as NT AUTHORITY\\LOCAL SERVICE, which Microsoft does not support for ' +
        'Agent and which signs in to other servers as a null session: run Agent as a domain account that is ' +
        'sysadmin on BRANCH1, REC1',
    ],
  ])('Agent as %s', (account, note) => {
    expect(agentAccountNotes([{ server: 'MASTER\\PERS', agentAccount: account }], others)).toEqual([note]);
  });

  it('an account that could not be read is said, and a fleet of one server names no other', () => {
    expect(agentAccountNotes([{ server: 'BRANCH1' }], () => [])).toEqual([
      "SQL Server Agent on BRANCH1: its account could not be read; the vendor's Replication guide asks that it be " +
        'sysadmin on every server of the fleet',
    ]);
  });
});
