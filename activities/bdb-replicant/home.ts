// Is the master's environment there to be backed up? Read by `plan validate` (where this machine
// sees the folder) and by backup-master, the runbook's first step, so a missing folder is named
// with the way to create it instead of reaching db5.3_archive, which reports a missing folder as
// "BDB0061 PANIC ... DB_RUNRECOVERY: Fatal error, run database recovery" (seen with db5.3 5.3.28).
import { readdirSync, statSync } from 'node:fs';

/** The example's set-up command (examples/bdb/setup.ts), named where the example's master is missing. */
export const EXAMPLE_SETUP = 'npx tsx examples/bdb/setup.ts init';

/** Why `envDir` cannot be the master's environment, or undefined when it can be. */
export function masterHomeProblem(envDir: string): string | undefined {
  const how =
    `envDir must be the master's Berkeley DB environment (TapeTrack's var/db: its DB_CONFIG, databases and log ` +
    `files); for the example plan, \`${EXAMPLE_SETUP}\` creates one`;
  let entries: string[];
  try {
    if (!statSync(envDir).isDirectory()) return `the master environment ${envDir} is a file, not a folder: ${how}`;
    entries = readdirSync(envDir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `the master environment ${envDir} does not exist: ${how}`;
    return (
      `the master environment ${envDir} cannot be read (${code ?? (err as Error).message}): make it readable ` +
      `by the worker's account`
    );
  }
  if (entries.length === 0)
    return `the master environment ${envDir} is empty: there is nothing to back up or replicate; ${how}`;
  return undefined;
}
