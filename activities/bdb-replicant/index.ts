// The Berkeley DB (TapeTrack replicant) side effects the bdb-replicant workflow's activities call.
// The pure DB_CONFIG code is in ./db-config.js (safe to import from a workflow).
export {
  backupEnvironment,
  deleteRegionFiles,
  logDirectory,
  readDbConfig,
  replicationRole,
  wipeReplicantEnv,
  writeDbConfig,
  BdbEnvError,
} from './env.js';
export type { BackupRecord, ReplicationRole, WipeResult, WriteDbConfigResult } from './env.js';
export { startService, stopService, serviceState, localServicePid, messageLogOf, BdbServiceError } from './service.js';
export type { BdbService, ServiceControl, ServiceErrorCode, StartOptions, StartResult, StopResult } from './service.js';
export { waitForLog, logSize, LogWaitError, REPLICANT_JOINED } from './message-log.js';
export type { LogMatch, LogPattern, WaitForLogOptions } from './message-log.js';
export { verifyReplication, ReplicationCheckError, CANARY_DB } from './verify.js';
export type { VerifyReplicationInput, VerifyReplicationResult } from './verify.js';
