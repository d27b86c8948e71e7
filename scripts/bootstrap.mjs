// Run by npm's pre-scripts (pretest, predemo, ...): installs the npm packages when they are
// missing or stale, then makes sure the Temporal CLI is there (building it once per machine).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const stale = !existsSync('node_modules/.package-lock.json') ||
  statSync('package-lock.json').mtimeMs > statSync('node_modules/.package-lock.json').mtimeMs;
if (stale) {
  console.error('replup: installing npm packages (npm ci)...');
  let r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 && /EUSAGE/.test(r.stderr ?? '')) {
    // Some registry mirrors omit other platforms' optional packages from the lockfile, which
    // npm ci refuses; npm install resolves the same pinned versions from the same lockfile.
    console.error('replup: npm ci refused the lockfile (other platforms\' optional packages missing); using npm install');
    r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  } else if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!process.env.TEMPORAL_ADDRESS) {
  const r = spawnSync('npx', ['tsx', 'scripts/ensure-temporal.ts'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
