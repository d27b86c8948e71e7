// dsrutil -C status -detail codes (Progress's DSRUTIL status tables; DOMAIN.md §3) and what each
// means for the start-up runbook. Pure: the workflow imports it.

export const STATUS_TEXT: Readonly<Record<number, string>> = {
  1001: 'Initial Connection',
  1002: 'Initializing',
  1003: 'Target in Quiet Point',
  1032: 'Initial Connection Failed',
  1033: 'Recovery Failed',
  1034: 'Invalid Target Database Configuration',
  1035: 'Agent Failed',
  1036: 'Agent is Ignored',
  1037: 'Agent is Stopped',
  1038: 'Agent is Terminated',
  1063: 'Agent is Ended',
  3048: 'Startup Synchronization',
  3049: 'Normal Processing',
  3050: 'Recovery Synchronization',
  6001: 'Server Initialization',
  6002: 'Connecting to Agents',
  6003: 'Configuring Agent(s)',
  6004: 'Recovery Processing',
  6005: 'Startup Synchronization',
  6021: 'Normal Processing',
  6060: 'Server is ended',
};

export type ReplicationPhase = 'connecting' | 'synchronizing' | 'normal' | 'failed' | 'other';

/** 1001/6001/6002/6003 connecting, 6005/3048 startup synchronization, 6021/3049 normal, 1032-1038/1063/6060 inactive or failed. */
export function phaseOf(code: number): ReplicationPhase {
  if ([1001, 1002, 6001, 6002, 6003].includes(code)) return 'connecting';
  if ([3048, 6005].includes(code)) return 'synchronizing';
  if ([3049, 6021].includes(code)) return 'normal';
  if ((code >= 1032 && code <= 1038) || code === 1063 || code === 6060) return 'failed';
  return 'other';
}

export function describeCode(code: number): string {
  return `${code} ${STATUS_TEXT[code] ?? 'unknown status'}`;
}
