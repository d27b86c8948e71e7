// The CLI's one output path (cli/lib/reporter.ts): text for people or one JSON document on
// stdout, warnings and errors on stderr in either mode, the streams injected down from main().
import { describe, expect, it } from 'vitest';
import { captureReport, Reporter, type Streams } from '../../../cli/lib/reporter.js';
import { main } from '../../../cli/main.js';

function buffers(): Streams & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
  };
}

describe('Reporter', () => {
  it('for people: text and lines on stdout, no JSON; warnings and errors on stderr', () => {
    const io = buffers();
    const r = new Reporter(false, io);
    r.line('one');
    r.text('two\n');
    r.document({ never: true });
    r.result({ never: true }, () => 'three\n');
    r.warning('short retention');
    r.error('no such run', ['list the runs: replup list']);
    expect(io.out()).toBe('one\ntwo\nthree\n');
    expect(io.err()).toBe('replup: warning: short retention\nreplup: no such run\n  list the runs: replup list\n');
  });

  it('--json: one document on stdout, indented or compact, the text never rendered; stderr as for people', () => {
    const io = buffers();
    const r = new Reporter(true, io);
    r.line('not for scripts');
    r.result({ a: 1 }, () => {
      throw new Error('text rendered under --json');
    });
    r.warning('still said');
    expect(io.out()).toBe('{\n  "a": 1\n}\n');
    expect(io.err()).toBe('replup: warning: still said\n');

    const compact = captureReport(true, (c) => c.result({ resolved: 2 }, () => '', { compact: true }));
    expect(compact).toEqual({ text: '{"resolved":2}\n', exitCode: 0 });
    expect(captureReport(false, (c) => (c.line('x'), 1))).toEqual({ text: 'x\n', exitCode: 1 });
  });

  it('main(argv, io) writes only to the streams it is given: results, usage errors and UserErrors', async () => {
    const ok = buffers();
    expect(await main(['plan', 'validate', 'examples/lab-small.yaml', '--json'], ok)).toBe(0);
    expect(JSON.parse(ok.out())).toEqual({ ok: true, errors: [] });
    expect(ok.err()).toBe('');

    const usage = buffers();
    expect(await main(['plan', 'validate'], usage)).toBe(2);
    expect(usage.out()).toBe('');
    expect(usage.err()).toContain("error: missing required argument 'file'");

    const refused = buffers();
    expect(await main(['demo', '--plan', 'examples/sqlserver.yaml'], refused)).toBe(1);
    expect(refused.out()).toBe('');
    expect(refused.err()).toMatch(
      /^replup: examples\/sqlserver\.yaml targets sqlserver, not a lab: .*\n {2}make one with/,
    );
  });
});
