// Every decision carries who and why (README, "the audit"): `replup approve` without --reason is a usage error,
// refused before it reaches the server, like retry, skip and abort.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

it('replup approve without --reason: exit 2, naming the option', () => {
  const r = spawnSync(
    process.execPath,
    [resolve('cli/bin.mjs'), 'approve', 'upgrade:x', '--gate', 'remove-replication'],
    {
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' }, // nothing is asked of a server
    },
  );
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("required option '--reason <text>' not specified");
});
