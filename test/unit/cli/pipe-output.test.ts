// Output through a pipe is whole (found by trying replup as a new user: `replup report --json | jq`
// got the first 64 KiB, exit 0). The command runs as installed (node cli/bin.mjs), once into a pipe
// and once into a file; both must hold the same, complete document.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = resolve('cli/bin.mjs');
const dir = mkdtempSync(join(tmpdir(), 'replup-pipe-'));

/** examples/sqlserver.yaml with 400 subscribers: `plan show --sql` prints far more than a pipe buffers. */
function largePlan(): string {
  const example = readFileSync(resolve('examples/sqlserver.yaml'), 'utf8');
  const subscribers = Array.from(
    { length: 400 },
    (_, i) => `  - server: SQL-S${String(i).padStart(3, '0')}\n    personalizationServers: [ps-s${i}.corp.example]\n`,
  ).join('');
  const text = example
    .replace(/^subscribers:\n(?: {2}- [^\n]*\n(?: {4}[^\n]*\n)*)+/m, `subscribers:\n${subscribers}`)
    .replace(/^ {2}dir: (\S+)/m, (_m, d: string) => `  dir: ${resolve('examples', d)}`);
  const file = join(dir, 'large.yaml');
  writeFileSync(file, text);
  return file;
}

function run(args: string[], stdout: 'pipe' | number): Promise<{ code: number | null; out: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', stdout, 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, out }));
  });
}

describe('replup output into a pipe', () => {
  it(
    'plan show --sql of a 400-subscriber plan: the pipe ' + 'gets every byte the file gets, and --json parses',
    async () => {
      const plan = largePlan();
      const toFile = join(dir, 'show.txt');
      const fd = openSync(toFile, 'w');
      const filed = await run(['plan', 'show', '--sql', plan], fd);
      closeSync(fd);
      const written = readFileSync(toFile, 'utf8');
      expect(filed.code).toBe(0);
      expect(written.length).toBeGreaterThan(256 * 1024);
      expect(written).toContain('SQL-S399');

      const piped = await run(['plan', 'show', '--sql', plan], 'pipe');
      expect(piped.code).toBe(0);
      expect(piped.out.length).toBe(written.length);
      expect(piped.out).toBe(written);

      const json = await run(['plan', 'show', '--json', plan], 'pipe');
      expect(json.code).toBe(0);
      // sites: the publisher and every subscriber, in plan order.
      expect(JSON.parse(json.out).plan.sites).toHaveLength(401);
    },
    120_000,
  );

  // A reader that stops early (`| head`) closes the pipe: the command ends quietly, exit 0, no EPIPE trace.
  it.each([
    ['start', '--help'],
    ['plan', 'show', '--sql', 'LARGE'],
  ])('%s %s … | head -1: quiet, exit 0', (...args) => {
    const argv = args.map((a) => (a === 'LARGE' ? largePlan() : a)).map((a) => JSON.stringify(a));
    const r = spawnSync(
      'bash',
      [
        '-c',
        `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} ${argv.join(' ')} | head -1 >/dev/null; ` +
          'echo "exit ${PIPESTATUS[0]}" >&2',
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.stderr.trim()).toBe('exit 0');
  });
});
