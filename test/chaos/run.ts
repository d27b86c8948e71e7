// `npm run chaos -- [--runs N] [--seed S] [--transient P] [--json] [--keep DIR]`: randomized
// worker kills, a server restart and transient SQL errors per run (see chaos.ts). Exit code 0 when
// every run passed, 1 when one failed (its seed is printed), 2 on a usage error.
import { formatSummary, runChaos } from './chaos.js';

function usage(message: string): never {
  process.stderr.write(
    `chaos: ${message}\nusage: npm run chaos -- [--runs N] [--seed S] [--transient 0..1] [--json] [--keep DIR]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const opts = { runs: 10, seed: 1, transient: 0.1, json: false, dir: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${arg} needs a value`);
      return v;
    };
    const whole = (name: string, v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) usage(`${name} must be a whole number ≥ ${min}, got "${v}"`);
      return n;
    };
    if (arg === '--runs') opts.runs = whole('--runs', value(), 1);
    else if (arg === '--seed') opts.seed = whole('--seed', value(), 0);
    else if (arg === '--transient') {
      const v = value();
      const p = Number(v);
      if (!(p >= 0 && p <= 1)) usage(`--transient is a probability between 0 and 1, got "${v}"`);
      opts.transient = p;
    } else if (arg === '--json') opts.json = true;
    else if (arg === '--keep') opts.dir = value();
    else usage(`unknown option ${arg}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const summary = await runChaos({ ...opts, log: (line) => process.stderr.write(`${line}\n`) });
if (opts.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
else process.stdout.write(`${formatSummary(summary)}\n`);
process.exit(summary.failures === 0 ? 0 : 1);
