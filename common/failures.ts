// The ApplicationFailure types replup's activities throw and its workflows throw or tell apart,
// named once: a workflow, an activity, the report and a test compare the same constant, never a
// string typed again. Pure, no imports: it runs in the workflow sandbox and in Node alike.

/** Thrown by the engine itself (workflows/engine/). */
export const EngineFailure = {
  /** A bug in workflow code ended the run (TypeError and the like): see isUnexpectedError. */
  workflowCode: 'WorkflowCodeError',
} as const;

/** The Personalization Server upgrade (activities/personalization-upgrade, workflows/personalization-upgrade.ts). */
export const UpgradeFailure = {
  transient: 'SqlTransient',
  preflight: 'PreflightFailed',
  conflicts: 'ConflictsFound',
  script: 'ScriptProblem',
  verification: 'VerificationFailed',
  expired: 'SubscriptionExpired',
  snapshot: 'SnapshotFailed',
  automatic: 'AutomaticSubscription',
  conversionUncertain: 'ConversionUncertain',
  configuration: 'ConfigurationNotRestored',
  copiesDiffer: 'CopiesDiffer',
  // Raised by the workflow from what activities returned.
  usersConnected: 'UsersConnected',
  notQuiet: 'NotQuiet',
  snapshotNotReady: 'SnapshotNotReady',
  plan: 'PlanError',
} as const;

/** SQL Server errors as activities/sqlserver/classify.ts sorts them. */
export const SqlFailure = {
  transient: 'SqlTransient',
  'already-done': 'SqlAlreadyDone',
  fatal: 'SqlFatal',
} as const;

/** TapeTrack's Berkeley DB replicant (activities/bdb-replicant, workflows/bdb-replicant.ts). */
export const BdbFailure = {
  environment: 'BdbEnvironment',
  verification: 'ReplicationCheckFailed',
  other: 'BdbError',
  // Raised by the workflow from what activities returned.
  dbConfigInvalid: 'DbConfigInvalid',
  notMaster: 'NotMaster',
  notReplicant: 'NotReplicant',
  replicantNotJoined: 'ReplicantNotJoined',
} as const;

/** OpenEdge Replication start-up (activities/openedge-startup, workflows/openedge-startup.ts). */
export const OpenEdgeFailure = {
  properties: 'PropertiesInvalid',
  openError: 'DatabaseCannotBeOpened',
  notEnabled: 'ReplicationNotEnabled',
  command: 'DsrutilFailed',
  // Raised by the workflow from the server's status codes.
  criticalAgentNotConnected: 'CriticalAgentNotConnected',
  replicationEnded: 'ReplicationEnded',
  replicationHalted: 'ReplicationHalted',
} as const;

/** Notifications (activities/notify). */
export const NotifyFailure = {
  targetUnresolved: 'NotifyTargetUnresolved',
  undelivered: 'NotifyUndelivered',
  refused: 'NotifyRefused',
} as const;

type ValueOf<T> = T[keyof T];
/** Any failure type replup names. */
export type FailureTypeName =
  | ValueOf<typeof EngineFailure>
  | ValueOf<typeof UpgradeFailure>
  | ValueOf<typeof SqlFailure>
  | ValueOf<typeof BdbFailure>
  | ValueOf<typeof OpenEdgeFailure>
  | ValueOf<typeof NotifyFailure>;
