// Every code of Progress's `dsrutil <db> -C status [AGENT] -detail` tables, and what each means for
// the start-up runbook. Pure: the workflow imports it. Sources (read 2026-12-05):
// - OpenEdge 13.0, "Detail or verbose return codes":
//   https://docs.progress.com/bundle/openedge-database-replication/page/Detail-or-verbose-return-codes.html
// - OpenEdge 12.2, "When the detail or verbose argument is used" (0, 2084, 3055 listed):
//   https://docs.progress.com/de-DE/bundle/openedge-database-replication-122/page/When-the-detail-or-verbose-argument-is-used.html
// - the class (group) of each code, "When the detail or verbose argument is not used":
//   https://documentation.progress.com/output/ua/OpenEdge_latest/ffr/when-the-detail-or-verbose-argument-is-not-used.html
// - Progress KB P156255 (6022 and 6023, missing from the manual; 3051 also "Being Transitioned"):
//   https://community.progress.com/articles/Knowledge/P156255 and
//   https://docs.progress.com/bundle/openedge-database-replication-quickstart/page/Understand-DSRUTIL-STATUS-vs-detail-or-verbose-return-codes.html
// - AI stall (3054): "After-image Stall (-aistall)" suspends database activity when every AI file is
//   full, until the next one is backed up and marked empty:
//   https://docs.progress.com/bundle/openedge-startup-and-parameter-reference-128/page/After-image-Stall-aistall.html
// The group of 2084, 3055, 6022 and 6023 is not in a table: inferred from their names.

/**
 * What a code means for the runbook:
 * connecting / synchronizing / recovery: the server is working, the run waits (its note says so);
 * normal: done; failed: the agent or server is down (judged by the run);
 * halted, suspended, transition, unknown: nothing moves until a person acts, so the run names it and
 * asks an operator after the plan's askOperatorAfterSeconds.
 */
export type ReplicationPhase =
  'connecting' | 'synchronizing' | 'normal' | 'recovery' | 'halted' | 'suspended' | 'transition' | 'failed' | 'unknown';

/** The phases that wait on a person, never on the server: named in the note, asked of an operator in bounded time. */
export const ATTENTION_PHASES: readonly ReplicationPhase[] = ['halted', 'suspended', 'transition', 'unknown'];

export interface DetailCode {
  /** Progress's description (what `-C status verbose` prints). */
  text: string;
  /** The class of the group code (`-C status` without -detail): 100 connecting ... 199 inactive, 255 unknown. */
  group: 100 | 101 | 102 | 103 | 104 | 105 | 199 | 255;
  phase: ReplicationPhase;
  /** What it means, in plain words, and what to do when the run stops on it. */
  meaning: string;
}

const halted = (text: string, meaning: string): DetailCode => ({
  text,
  group: 102,
  phase: 'halted',
  meaning: `activity halted: ${meaning}`,
});
const inactive = (text: string, meaning: string): DetailCode => ({ text, group: 199, phase: 'failed', meaning });
const transition = (text: string, group: DetailCode['group'], meaning: string): DetailCode => ({
  text,
  group,
  phase: 'transition',
  meaning: `transition (failover) under way: ${meaning}`,
});

// Grouped by what the run does on them. The thousands say who reports: 1xxx the server about an agent,
// 2xxx a control agent (the target side of a transition), 3xxx an agent, 6xxx the server.
export const DETAIL_CODES: Readonly<Record<number, DetailCode>> = {
  // Working: the run waits, its note says so.
  1001: {
    text: 'Initial Connection',
    group: 100,
    phase: 'connecting',
    meaning: 'the server is making its first connection to the agent',
  },
  1002: { text: 'Initializing', group: 100, phase: 'connecting', meaning: 'the server is initializing the agent' },
  6001: {
    text: 'Server Initialization',
    group: 100,
    phase: 'connecting',
    meaning: 'the replication server is starting',
  },
  6002: {
    text: 'Connecting to Agents',
    group: 100,
    phase: 'connecting',
    meaning: 'the server tries to reach its agents (deferred agent start-up while any is unreachable)',
  },
  6003: { text: 'Configuring Agent(s)', group: 100, phase: 'connecting', meaning: 'the server and agents shake hands' },
  3048: {
    text: 'Startup Synchronization',
    group: 101,
    phase: 'synchronizing',
    meaning: 'the agent is being brought up to date with the source; schema changes are blocked',
  },
  6005: {
    text: 'Startup Synchronization',
    group: 101,
    phase: 'synchronizing',
    meaning: 'the server brings the agents up to date; schema changes are blocked',
  },
  3050: {
    text: 'Recovery Synchronization',
    group: 101,
    phase: 'recovery',
    meaning: 'the server is catching the agent up after a lost connection',
  },
  6004: {
    text: 'Recovery Processing',
    group: 101,
    phase: 'recovery',
    meaning: 'the server recovers an agent after a lost connection',
  },
  3049: {
    text: 'Normal Processing',
    group: 101,
    phase: 'normal',
    meaning: 'the agent applies the source’s changes as they come',
  },
  6021: {
    text: 'Normal Processing',
    group: 101,
    phase: 'normal',
    meaning: 'the server sends changes to its agents as they come',
  },
  // Waiting on a person (ATTENTION_PHASES): named in the note, asked of an operator in bounded time.
  1003: halted(
    'Target in Quiet Point',
    'the target database is held at a quiet point; end the quiet point on the target',
  ),
  3051: halted(
    'Online backup of Target Database',
    'an online backup of the target runs (or, per KB P156255, the target is being transitioned); wait for it to end',
  ),
  3052: halted(
    'Target Database in Quiet Point',
    'the target database is held at a quiet point; end the quiet point on the target',
  ),
  3053: halted(
    'Target Database in BI Stall',
    'the target database waits for before-image space; free or extend its BI area',
  ),
  3054: halted(
    'Target Database in AI Stall',
    'every after-image file of the target is full and the target waits until the next one is backed up and ' +
      'marked empty; back up (archive) the full AI file on the target',
  ),
  6023: {
    text: 'Replication is Suspended',
    group: 102,
    phase: 'suspended',
    meaning: 'replication is suspended: the agents get nothing until it is resumed (inferred from the name)',
  },
  0: {
    text: 'Unknown',
    group: 255,
    phase: 'unknown',
    meaning: 'dsrutil does not know the state: look at the replication log files of the source and target',
  },
  2080: transition('Pre Transition', 103, 'the target prepares to become a source'),
  2081: transition(
    'Applying After-image Extent',
    103,
    'the target applies after-image extents before it becomes a source',
  ),
  2082: transition('Transitioning', 105, 'the target is being turned into a source'),
  2083: {
    text: 'Listening',
    group: 104,
    phase: 'transition',
    meaning: 'the agent listens for a server after a transition: it is not replicating from this source',
  },
  2084: transition(
    'Waiting while JTA transactions are resolved',
    103,
    'the target waits for open JTA transactions to be resolved',
  ),
  3055: transition('Being Transitioned', 105, 'the target is being transitioned'),
  6022: transition('Performing Transition', 105, 'the server performs a transition'),
  // Inactive: the agent or server is down; the run judges it (a critical agent ends it).
  1032: inactive(
    'Initial Connection Failed',
    'the server could not connect to the agent: check the target broker, host and port',
  ),
  1033: inactive('Recovery Failed', 'failure recovery of the agent did not succeed'),
  1034: inactive(
    'Invalid Target Database Configuration',
    'the handshake found the target not identical to the source or not created from it',
  ),
  1035: inactive('Agent Failed', 'the agent failed: see the target replication log'),
  1036: inactive('Agent is Ignored', 'the server ignores the agent'),
  1037: inactive('Agent is Stopped', 'the agent was stopped'),
  1038: inactive(
    'Agent is Terminated',
    'the agent was terminated (the target shut down or dsrutil -C terminate agent)',
  ),
  1063: inactive('Agent is Ended', 'the agent ended (it ends when the server ends)'),
  6060: inactive('Server is ended', 'the replication server is not running'),
};

/** Progress's description of each code (what `-C status verbose` prints after the code). */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DETAIL_CODES).map(([code, d]) => [code, d.text]),
);

export function phaseOf(code: number): ReplicationPhase {
  return DETAIL_CODES[code]?.phase ?? 'unknown';
}

/** "3054 Target Database in AI Stall" (or "9999 not a code of dsrutil's -detail tables"). */
export function describeCode(code: number): string {
  return `${code} ${STATUS_TEXT[code] ?? "not a code of dsrutil's -detail tables"}`;
}

/** What the code means for the runbook, for step notes and errors. */
export function meaningOf(code: number): string {
  return (
    DETAIL_CODES[code]?.meaning ??
    'replup cannot tell what it means: check the dsrutil command in the plan (it must print the -detail ' +
      'code) and the replication logs'
  );
}
