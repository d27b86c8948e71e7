#!/usr/bin/env node
// The `replup` command, however it is installed (npx, npm exec, npm link, a global install, a
// tarball): it always runs main() itself. It loads the TypeScript CLI through tsx's loader, so no
// build step is needed (tsx is a runtime dependency for that reason).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
try {
  process.exit(await main(process.argv.slice(2)));
} catch (err) {
  process.stderr.write(`replup: ${String(err)}\n`);
  process.exit(1);
}
