// Resolves (and if needed builds) the Temporal CLI, and says where it came from.
import { resolveTemporalCli, TemporalCliNotFound } from '../worker/temporal-cli.js';

try {
  const cli = resolveTemporalCli({ log: (line) => console.error(`replup: ${line}`) });
  const how = cli.source === 'cache' ? 'reused the cached build' : `from ${cli.source}`;
  console.error(`replup: Temporal CLI ${cli.path} (${cli.version}), ${how}`);
} catch (err) {
  if (err instanceof TemporalCliNotFound) {
    console.error(`replup: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
