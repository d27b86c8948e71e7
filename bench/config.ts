// What `npm run bench` runs, from its command line: the mode (--quick or full), which scenarios
// (--only), and the fan-out sizes and repetitions (--fanout, --reps). Read once at start.

/** The scenarios, in the order they run. */
export const SCENARIO_NAMES = ['overhead', 'fanout', 'history', 'resume'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Repetitions and fleet sizes of each scenario. */
export interface BenchSizes {
  overheadReps: number;
  /** Also run the overhead fleet with maxParallel 4. */
  parallelVariant: boolean;
  /** Subscriber counts of the fan-out runs (maxParallel = N). */
  fanOut: number[];
  fanOutReps: number;
  /** Subscriber counts measured with maxParallel 1 (the others are extrapolated). */
  sequentialNs: number[];
  sequentialReps: number;
  /** Subscriber counts whose history size is measured (taken from a fan-out run of that size when there is one). */
  historyNs: number[];
  resumeReps: number;
}

export interface BenchConfig {
  quick: boolean;
  /** `--only resume,history`: those scenarios only (results.json then holds only those; RESULTS.md is left alone). */
  only: Set<string> | undefined;
  /** `--fanout 200[,50]`: only these fan-out sizes (one run each unless `--reps N`; sequential N = 1 once). */
  fanOutSizes: number[] | undefined;
  reps: number | undefined;
  sizes: BenchSizes;
}

/** Lab latency per operation in the fan-out and resume fleets, ms. */
export const FANOUT_LATENCY_MS = 200;

/**
 * Activities the bench's worker runs at once: the largest fan-out, as a user running maxParallel
 * 200 would start `replup worker --concurrency 200` (the default, 100, would run such a fan-out in
 * two waves). REPLUP_BENCH_CONCURRENCY overrides it.
 */
export const WORKER_CONCURRENCY = Number(process.env.REPLUP_BENCH_CONCURRENCY ?? 200);

/** A usage mistake on the command line: the runner prints the message and exits 2. */
export class BenchUsageError extends Error {}

/**
 * The configuration from `argv` (process.argv).
 * @throws BenchUsageError for an unknown scenario or a malformed number list
 */
export function readConfig(argv: readonly string[]): BenchConfig {
  const quick = argv.includes('--quick');
  const only = (() => {
    const i = argv.indexOf('--only');
    if (i < 0) return undefined;
    const names = (argv[i + 1] ?? '').split(',').filter(Boolean);
    const unknown = names.filter((n) => !(SCENARIO_NAMES as readonly string[]).includes(n));
    if (!names.length || unknown.length) {
      throw new BenchUsageError(
        `--only takes a comma-separated list of ${SCENARIO_NAMES.join(', ')}` +
          `${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
      );
    }
    return new Set(names);
  })();
  const sizes: BenchSizes = quick
    ? // Under 5 minutes: N = 200 and 1000 are full-run only (the lab's state grows as N², see RESULTS.md).
      {
        overheadReps: 3,
        parallelVariant: false,
        fanOut: [10, 50],
        fanOutReps: 1,
        sequentialNs: [1],
        sequentialReps: 1,
        historyNs: [50],
        resumeReps: 1,
      }
    : {
        overheadReps: 5,
        parallelVariant: true,
        fanOut: [1, 10, 50, 200],
        fanOutReps: 3,
        sequentialNs: [1, 10],
        sequentialReps: 2,
        historyNs: [200, 1000],
        resumeReps: 3,
      };
  const listArg = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) return undefined;
    const values = (argv[i + 1] ?? '').split(',').map(Number);
    if (!values.length || values.some((v) => !Number.isInteger(v) || v < 1)) {
      throw new BenchUsageError(`${flag} takes a comma-separated list of positive whole numbers`);
    }
    return values;
  };
  const fanOutSizes = listArg('--fanout');
  const reps = listArg('--reps')?.[0];
  if (fanOutSizes)
    Object.assign(sizes, { fanOut: fanOutSizes, fanOutReps: reps ?? 1, sequentialNs: [1], sequentialReps: 1 });
  return { quick, only, fanOutSizes, reps, sizes };
}

/** Does this run include the scenario? */
export const runsScenario = (config: BenchConfig, name: ScenarioName): boolean => !config.only || config.only.has(name);

/** The command line as results.json and RESULTS.md name it. */
export function commandLine(config: BenchConfig, external?: string): string {
  const { quick, only, fanOutSizes, reps } = config;
  const args = [
    quick ? '--quick' : '',
    only ? `--only ${[...only].join(',')}` : '',
    fanOutSizes ? `--fanout ${fanOutSizes.join(',')}` : '',
    reps ? `--reps ${reps}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${external ? `TEMPORAL_ADDRESS=${external} ` : ''}npm run bench${args ? ` -- ${args}` : ''}`;
}
