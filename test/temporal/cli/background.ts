// A README line ending in `&` (the worker): started in its own process group, resolved once `until`
// appears in its output, and stopped with its group when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';

export function runInBackground(
  command: string,
  until: string,
  opts: { cwd: string; env: NodeJS.ProcessEnv },
  started: ChildProcess[],
): Promise<void> {
  const child = spawn('bash', ['-c', command], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let log = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`\`${command}\` did not print "${until}" within 120 s:\n${log}`)),
      120_000,
    );
    const onData = (d: Buffer) => {
      log += d.toString();
      if (log.includes(until)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`\`${command}\` exited (${code}) before "${until}":\n${log}`));
    });
  });
}

/** SIGTERM to each background line's process group. */
export function stopBackground(started: ChildProcess[]): void {
  for (const child of started) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}
