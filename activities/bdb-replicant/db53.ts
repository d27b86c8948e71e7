// The Berkeley DB ports (./ports.ts) on Debian's db5.3 utilities and the local file system: the
// production adapter, and the default of createBdbActivities. The work is in ./env.ts,
// ./service.ts and ./verify.ts; this file only binds it to the ports.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  backupEnvironment,
  deleteRegionFiles,
  readDbConfig,
  replicationRole,
  wipeReplicantEnv,
  writeDbConfig,
} from './env.js';
import type { BdbPorts } from './ports.js';
import { startService, stopService } from './service.js';
import { verifyReplication } from './verify.js';

/** env.ts writes this file last, once a backup is complete and verified. */
const BACKUP_MARKER = 'replup-backup.json';

export function db53Ports(): BdbPorts {
  return {
    homes: {
      async backup(envDir, backupDir) {
        // A folder without replup's marker is what a killed worker left half-done: made again
        // (env.ts refuses any other non-empty folder, so this run's own folder is emptied here).
        const finished = await stat(path.join(backupDir, BACKUP_MARKER)).then(
          () => true,
          () => false,
        );
        if (!finished) await rm(backupDir, { recursive: true, force: true });
        return backupEnvironment(envDir, backupDir);
      },
      readDbConfig,
      writeDbConfig,
      wipeReplicant: wipeReplicantEnv,
      deleteRegionFiles,
      replicationRole,
    },
    services: {
      stop: (svc) => stopService(svc),
      start: (svc, startupTimeoutMs) => startService(svc, { startupTimeoutMs }),
    },
    check: { verify: verifyReplication },
  };
}
