// Commands as a user types them, in a folder of their choosing: a child process with its output
// and exit code, for the install and README tests (test/temporal/install.test.ts, readme.test.ts).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Ran } from './replup.js';

export interface ShellOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Killed (SIGKILL, with its whole process group) and rejected past this. */
  timeoutMs?: number;
}

/** Runs `bash -c line`, as typed at a prompt; resolves with its exit code and output. */
export function sh(line: string, opts: ShellOptions): Promise<Ran> {
  return new Promise((res, rej) => {
    const child = spawn('bash', ['-c', line], {
      cwd: opts.cwd,
      env: opts.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      rej(
        new Error(
          `\`${line}\` (in ${opts.cwd}) did not finish in ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', rej);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/**
 * The environment a user's shell would give npm: this process's, without the npm_* variables an
 * enclosing `npm test` sets (npm_config_local_prefix and the like would point the child npm at
 * this checkout), with a warm cache preferred over the registry (same packages, fewer requests).
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'INIT_CWD'));
  return {
    ...env,
    npm_config_prefer_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

/**
 * userEnv for a README walk-through: the Temporal server at `address`, the test's own `namespace`, reports
 * under <scratch>/reports and readme-operator as the actor.
 */
export function readmeEnv(address: string, namespace: string, scratch: string): NodeJS.ProcessEnv {
  return userEnv({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: namespace,
    REPLUP_REPORTS_DIR: join(scratch, 'reports'),
    REPLUP_ACTOR: 'readme-operator',
  });
}

/** Whether the npm registry answers (`npm ping`), for tests that must install from it. */
export async function registryReachable(cwd: string): Promise<boolean> {
  const ran = await sh('npm ping', {
    cwd,
    env: userEnv({ npm_config_prefer_offline: 'false' }),
    timeoutMs: 60_000,
  }).catch(() => undefined);
  return ran?.code === 0;
}
