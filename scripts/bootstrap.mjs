// Run by npm's pre-scripts (pretest, predemo, ...): installs the npm packages when they are
// missing or stale, then makes sure the Temporal CLI is there (building it once per machine).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const stale =
  !existsSync('node_modules/.package-lock.json') ||
  statSync('package-lock.json').mtimeMs > statSync('node_modules/.package-lock.json').mtimeMs;
if (stale) {
  console.error('replup: installing npm packages (npm ci)...');
  let r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0 && /EUSAGE/.test(r.stderr ?? '')) {
    // The committed lockfile holds every platform's optional packages, so npm ci accepts it; a
    // lockfile written on a machine whose registry mirror omits them is refused. Go on with the
    // same pinned versions, but --no-save: the clone's package-lock.json stays as committed.
    process.stderr.write(r.stderr ?? '');
    console.error(
      'replup: WARNING: npm ci refused package-lock.json (it does not match package.json, or other ' +
        "platforms' optional packages are missing).\n" +
        ('replup: falling back to `npm install --no-save`; fix the lockfile with `npm install` on a machine ' +
          'with the full registry and commit it.'),
    );
    r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  } else if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!process.env.TEMPORAL_ADDRESS) {
  const r = spawnSync('npx', ['tsx', 'scripts/ensure-temporal.ts'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
