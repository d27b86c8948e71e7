// Failure types of the set-up runbook's activities and workflow (the report and tests read them).
export const SetupFailure = {
  alreadyReplicated: 'SetupAlreadyReplicated',
  preflight: 'SetupPreflight',
  verification: 'SetupVerification',
  snapshotNotReady: 'SetupSnapshotNotReady',
} as const;
