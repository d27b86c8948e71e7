// What operators feed `plan validate` (issue #21): a huge file is refused before it is parsed, a
// huge value is named by an excerpt, a fleet too large for one run is refused with what to do, and
// a relative scripts folder that does not exist is reported where this machine can see it.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planValidate } from '../../../cli/commands/plan.js';
import { MAX_ECHO_CHARS, MAX_PLAN_BYTES } from '../../../plan/load.js';
import { MAX_SUBSCRIBERS } from '../../../plan/upgrade.js';

const example = readFileSync(resolve('examples/lab-small.yaml'), 'utf8');
const dir = () => mkdtempSync(join(tmpdir(), 'replup-plan-limits-'));
const write = (text: string) => {
  const file = join(dir(), 'plan.yaml');
  writeFileSync(file, text);
  return file;
};
/** The example with its scripts folder absolute, so the plan is valid wherever it is written. */
const valid = example.replace(/^ {2}dir: replication\b.*$/m, `  dir: ${resolve('examples/replication')}`);

describe('plan validate: limits and excerpts', () => {
  it('the example plan, written elsewhere with an absolute scripts folder, is valid', async () => {
    expect((await planValidate(write(valid))).exitCode).toBe(0);
  });

  it('a file over the size limit is refused at once, saying how large it is and what to do', async () => {
    const file = write(`${valid}\n# ${'x'.repeat(MAX_PLAN_BYTES)}\n`);
    const t0 = Date.now();
    const out = await planValidate(file);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(out.exitCode).toBe(1);
    expect(out.text).toContain('the plan is 2.0 MB; replup reads plans up to 2 MB');
    expect(out.text).toContain('split a larger fleet into several plans');
  });

  it('a huge value is named by an excerpt with its length, never echoed whole', async () => {
    const huge = '9'.repeat(1_500_000);
    const out = await planValidate(write(valid.replace(/^from: .*$/m, `from: "${huge}"`)));
    expect(out.exitCode).toBe(1);
    expect(out.text.length).toBeLessThan(2_000);
    expect(out.text).toContain(`"${'9'.repeat(MAX_ECHO_CHARS)}…" (1,500,000 characters)`);
    expect(out.text).toContain('is not a 4-part product version');
  });

  it(`more than ${MAX_SUBSCRIBERS} subscribers: refused at validate, with the cause and the way out`, async () => {
    const subs = Array.from({ length: MAX_SUBSCRIBERS + 1 }, (_, i) => `  - server: SUB${i}\n    personalizationServers: [ps-${i}]`).join('\n');
    const text = valid.replace(/^subscribers:\n(?:[ -].*\n)+/m, `subscribers:\n${subs}\n`);
    const out = await planValidate(write(text), { json: true });
    const r = JSON.parse(out.text);
    expect(r.ok).toBe(false);
    expect(r.errors).toContainEqual(
      expect.objectContaining({
        path: 'subscribers',
        message: `the plan lists 2,001 subscriber databases; one run takes at most 2,000 (the plan travels in the workflow's input, which Temporal caps at 2 MB): split the fleet into several plans and run them one after another`,
      }),
    );
  });

  it('a copied example plan whose relative scripts folder is not beside it: reported with its line', async () => {
    const d = dir();
    copyFileSync(resolve('examples/lab-small.yaml'), join(d, 'plan.yaml'));
    const out = await planValidate(join(d, 'plan.yaml'), { json: true });
    const r = JSON.parse(out.text);
    expect(out.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.objectContaining({
        path: 'scripts.dir',
        line: example.split('\n').findIndex((l) => /^ {2}dir: replication/.test(l)) + 1,
        message: expect.stringMatching(new RegExp(`^the scripts folder ${join(d, 'replication')} does not exist \\(scripts.dir "replication" is resolved from the plan's folder\\)`)),
      }),
    ]);
  });
});
