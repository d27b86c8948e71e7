// The one source of what an operator types (cli/usage.ts) against the real command definitions
// and the README: every command's --help ends with one to three worked examples that parse
// against that command's real options and arguments; the README's command table is the table
// usage.ts renders (regenerate it with renderCommandTable() when this fails); --version names the
// package and Temporal SDK versions installed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { CommanderError, type Command } from 'commander';
import { parse as shellParse } from 'shell-quote';
import { describe, expect, it } from 'vitest';
import { buildProgram, commandPaths, versionText } from '../../../cli/main.js';
import { COMMAND_TABLE, EXAMPLES, renderCommandTable } from '../../../cli/usage.js';

const quiet = { writeOut: () => {}, writeErr: () => {} };

/** The program with every action a no-op: parsing checks options and arguments, runs nothing. */
function dryProgram(): Command {
  const program = buildProgram().configureOutput(quiet);
  for (const { command } of commandPaths(program)) {
    command.configureOutput(quiet);
    if ((command as unknown as { _actionHandler?: unknown })._actionHandler) command.action(() => {});
  }
  return program;
}

/** argv of a shell command line, as bash would split it ("..." and '...' quoting). */
export function argvOf(line: string): string[] {
  return shellParse(line).map((t) => {
    if (typeof t !== 'string')
      throw new Error(`${line}: shell operators are not command arguments (${JSON.stringify(t)})`);
    return t;
  });
}

/** Parses `replup …` with the real definitions; resolves with the error message, or '' when it parses. */
async function parseError(line: string): Promise<string> {
  const [bin, ...args] = argvOf(line);
  if (bin !== 'replup') return `does not start with replup: ${line}`;
  try {
    await dryProgram().parseAsync(args, { from: 'user' });
    return '';
  } catch (err) {
    return err instanceof CommanderError ? err.message : String(err);
  }
}

function readmeTable(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('| command | what it does |');
  expect(start, 'README.md has no "| command | what it does |" table').toBeGreaterThan(0);
  const end = readme.indexOf('\n\n', start);
  return readme.slice(start, end + 1);
}

describe('every command has worked examples, and they parse', () => {
  const paths = commandPaths(buildProgram()).map((c) => c.path);

  it('every command (groups too) has one to three examples, and every example names a real command', () => {
    expect(paths).toContain('plan validate');
    const counts = Object.fromEntries(paths.map((p) => [p, EXAMPLES[p]?.length ?? 0]));
    expect(Object.entries(counts).filter(([, n]) => n < 1 || n > 3)).toEqual([]);
    expect(Object.keys(EXAMPLES).filter((p) => !paths.includes(p))).toEqual([]);
  });

  it("each example parses against its command's real options and arguments", async () => {
    const failures: string[] = [];
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      for (const e of examples) {
        const [, ...args] = argvOf(e.line);
        if (!args.join(' ').startsWith(path)) failures.push(`${path}: "${e.line}" is an example of another command`);
        const error = await parseError(e.line);
        if (error) failures.push(`${path}: "${e.line}": ${error}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the checker itself refuses an unknown option, a missing required option and a missing argument', async () => {
    expect(await parseError('replup plan validate plan.yaml --sql')).toMatch(/unknown option '--sql'/);
    expect(await parseError('replup retry --reason x')).toMatch(/required option '--step <step>' not specified/);
    expect(await parseError('replup start')).toMatch(/missing required argument 'plan'/);
  });

  it('--help of every command ends with its examples', () => {
    const program = buildProgram();
    for (const { path, command } of commandPaths(program)) {
      let out = '';
      command.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
      command.outputHelp();
      expect(out, path).toContain(`Usage: replup ${path}`);
      const examples = out.slice(out.indexOf('\nExamples:\n'));
      expect(out.indexOf('\nExamples:\n'), `${path} --help has no Examples`).toBeGreaterThan(0);
      for (const e of EXAMPLES[path]!) expect(examples, path).toContain(`  ${e.line}`);
    }
  });
});

describe("the README's command table", () => {
  it('is the table cli/usage.ts renders', () => {
    expect(readmeTable()).toBe(renderCommandTable());
  });

  it('covers every command exactly once, and names only real ones', () => {
    const paths = commandPaths(buildProgram()).map((c) => c.path);
    const covered = COMMAND_TABLE.flatMap((r) => r.commands);
    expect([...covered].sort()).toEqual([...paths].sort());
    // A row names every command it covers, as an operator looks it up.
    for (const row of COMMAND_TABLE) {
      for (const path of row.commands)
        for (const word of path.split(' ')) expect(row.synopsis, path).toMatch(new RegExp(`\\b${word}\\b`));
    }
  });
});

describe('replup --version', () => {
  it('names the package version and the Temporal SDK version installed', () => {
    const require = createRequire(import.meta.url);
    const own = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const sdk = require('@temporalio/worker/package.json') as { version: string };
    expect(versionText()).toBe(`replup ${own.version} (Temporal TypeScript SDK ${sdk.version})`);
    expect(sdk.version).toMatch(/^1\.24\./); // the SDK this project is built on
  });
});
