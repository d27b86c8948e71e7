// `plan validate` reads the scripts a run will read (issue #21 follow-up §4), where it can see the
// scripts folder (a relative scripts.dir), through the worker's one decoder: a script that is
// missing or does not decode is reported at validate, naming the file and the fix, instead of
// at preflight. An absolute folder may be the worker's own: preflight checks it.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planValidate } from '../../../cli/commands/plan.js';
import { utf16Case } from '../../support/utf16-scripts.js';

const example = readFileSync(resolve('examples/lab-small.yaml'), 'utf8');
const line = (text: string, re: RegExp) => text.split('\n').findIndex((l) => re.test(l)) + 1;

/** A plan beside its own copy of the scripts folder (`from` as given: before 8.3 ConvertRowGuids.sql is read too). */
function fleet(scripts: string, from = '8.2.0.0') {
  const dir = mkdtempSync(join(tmpdir(), 'replup-plan-scripts-'));
  cpSync(resolve(scripts), join(dir, 'scripts'), { recursive: true });
  const plan = example.replace(/^ {2}dir: replication\b.*$/m, '  dir: scripts').replace(/^from: .*$/m, `from: ${from}`);
  writeFileSync(join(dir, 'plan.yaml'), plan);
  return { dir, file: join(dir, 'plan.yaml'), plan, script: (name: string) => join(dir, 'scripts', name) };
}
const errorsOf = async (file: string) => {
  const out = await planValidate(file, { json: true });
  return {
    exitCode: out.exitCode,
    errors: JSON.parse(out.text).errors as { path: string; line: number; message: string }[],
  };
};

describe('plan validate reads the scripts a run reads', () => {
  it("the example scripts and the operators' UTF-16 scripts (with a byte-order mark) are valid", async () => {
    expect((await planValidate(fleet('examples/replication').file)).exitCode).toBe(0);
    expect((await planValidate(fleet(utf16Case().scripts).file)).exitCode).toBe(0);
  });

  it(
    'a script saved as UTF-16 without a byte-order mark: ' + 'refused naming the file, the line and how to save it',
    async () => {
      const f = fleet('examples/replication');
      const text = readFileSync(f.script('CreateDataSubscription.sql'), 'utf8').replace(/^\uFEFF/, '');
      writeFileSync(f.script('CreateDataSubscription.sql'), Buffer.from(text, 'utf16le'));
      expect(await errorsOf(f.file)).toEqual({
        exitCode: 1,
        errors: [
          {
            path: 'scripts.files.createDataSubscription',
            line: line(f.plan, /^scripts:/),
            column: 1,
            message:
              `script ${f.script('CreateDataSubscription.sql')}: read as UTF-8, line 1 contains a NUL character: ` +
              `it looks like UTF-16 saved without a byte-order mark; save it as UTF-8, or as Unicode with a ` +
              `byte-order mark`,
          },
        ].map((e) => expect.objectContaining(e)),
      });
    },
  );

  it(
    'a script that is not valid UTF-8 (a legacy code page): refused naming the file and the encodings replup ' +
      'reads',
    async () => {
      const f = fleet('examples/replication');
      writeFileSync(
        f.script('CreateConfigPublication.sql'),
        Buffer.concat([Buffer.from("PRINT '"), Buffer.from([0xe9]), Buffer.from("t\u00e9'\n")]),
      );
      const r = await errorsOf(f.file);
      expect(r.exitCode).toBe(1);
      expect(r.errors.map((e) => e.message)).toEqual([
        `script ${f.script('CreateConfigPublication.sql')}: is not valid UTF-8 text: without a byte-order mark ` +
          `replup reads UTF-8; save the file as UTF-8 or as Unicode (UTF-16 with a byte-order mark)`,
      ]);
    },
  );

  it('a missing script, named under scripts.files: refused at its line with where to put it', async () => {
    const f = fleet('examples/replication');
    const plan = f.plan.replace(
      /^ {2}dir: scripts$/m,
      '  dir: scripts\n  files:\n    createConfigSubscription: CreateConfigSub.sql',
    );
    writeFileSync(f.file, plan);
    const r = await errorsOf(f.file);
    expect(r.errors).toEqual([
      expect.objectContaining({
        path: 'scripts.files.createConfigSubscription',
        line: line(plan, /createConfigSubscription:/),
        message:
          `script ${f.script('CreateConfigSub.sql')} does not exist (scripts.files.createConfigSubscription is ` +
          `"CreateConfigSub.sql"): copy the vendor's script into ${join(f.dir, 'scripts')}, or name the file ` +
          `under scripts.files.createConfigSubscription`,
      }),
    ]);
  });

  it('ConvertRowGuids.sql is read only when the run converts row GUIDs (from before 8.3)', async () => {
    for (const [from, refused] of [
      ['8.2.0.0', true],
      ['8.3.300.0', false],
    ] as const) {
      const f = fleet('examples/replication', from);
      rmSync(f.script('ConvertRowGuids.sql'));
      const r = await errorsOf(f.file);
      expect(r.errors.map((e) => e.message)).toEqual(
        refused
          ? [
              `script ${f.script('ConvertRowGuids.sql')} does not exist (scripts.files.convertRowGuids is ` +
                `"ConvertRowGuids.sql" by default): copy the vendor's script into ${join(f.dir, 'scripts')}, ` +
                `or name the file under scripts.files.convertRowGuids`,
            ]
          : [],
      );
    }
  });

  it("an absolute scripts folder may be the worker's: not read here (preflight reads it)", async () => {
    const f = fleet('examples/replication');
    writeFileSync(f.script('CreateDataPublication.sql'), Buffer.from([0xff, 0xfe, 0x00, 0xd8]));
    writeFileSync(f.file, f.plan.replace(/^ {2}dir: scripts$/m, `  dir: ${join(f.dir, 'scripts')}`));
    expect((await planValidate(f.file)).exitCode).toBe(0);
  });
});
