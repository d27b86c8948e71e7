#!/usr/bin/env node
// The `replup` command, however it is installed (npx, npm exec, npm link, a global install, a
// tarball): it always runs main() itself. It loads the TypeScript CLI through tsx's loader, so no
// build step is needed (tsx is a runtime dependency for that reason).
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`replup start --help | head`) closes the pipe: the output ends there, quietly,
// as with other command-line tools, instead of an unhandled EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (/** @type {NodeJS.ErrnoException} */ err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
const { main } = await import('./main.ts');
let code = 1;
try {
  code = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`replup: ${String(err)}\n`);
}
await exitAfterFlush(code);

/**
 * process.exit() ends the process at once, and writes to a pipe are asynchronous on POSIX: output
 * still queued (anything past the pipe's 64 KiB buffer) is lost, so `replup report --json | jq` got
 * a cut document. An empty write's callback runs once everything written before it is flushed.
 * We still exit explicitly: an open Temporal connection would otherwise keep the process alive.
 */
/** @param {number} exitCode */
async function exitAfterFlush(exitCode) {
  /** @param {NodeJS.WriteStream} stream */
  const flushed = (stream) =>
    new Promise((resolve) =>
      stream.writableEnded || stream.destroyed ? resolve() : stream.write('', () => resolve()),
    );
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(exitCode);
}
