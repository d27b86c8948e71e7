// What operators feed `plan validate` (issue #21): a huge file is refused before it is parsed, a
// huge value is named by an excerpt, a fleet too large for one run is refused with what to do, and
// a relative scripts folder that does not exist is reported where this machine can see it.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planShow, planValidate } from '../../../cli/commands/plan.js';
import { UserError } from '../../../cli/errors.js';
import { checkInputSize } from '../../../cli/lib/runs.js';
import {
  loadPlanText,
  MAX_ECHO_CHARS,
  MAX_INPUT_BYTES,
  MAX_PLAN_BYTES,
  MAX_VALUE_CHARS,
  REQUESTER_ROOM_BYTES,
} from '../../../plan/load.js';
import { MAX_SUBSCRIBERS } from '../../../plan/personalization-upgrade/schema.js';

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
    const subs = Array.from(
      { length: MAX_SUBSCRIBERS + 1 },
      (_, i) => `  - server: SUB${i}\n    personalizationServers: [ps-${i}]`,
    ).join('\n');
    const text = valid.replace(/^subscribers:\n(?:[ -].*\n)+/m, `subscribers:\n${subs}\n`);
    const out = await planValidate(write(text), { json: true });
    const r = JSON.parse(out.text);
    expect(r.ok).toBe(false);
    expect(r.errors).toContainEqual(
      expect.objectContaining({
        path: 'subscribers',
        message:
          `the plan lists 2,001 subscriber databases; one run takes at most 2,000 (the plan travels in the ` +
          `workflow's input, which Temporal caps at 2 MB): split the fleet into several plans and run them one ` +
          `after another`,
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
        message: expect.stringMatching(
          new RegExp(
            `^the scripts folder ${join(d, 'replication')} does not exist \\(scripts.dir "replication" is ` +
              `resolved from the plan's folder\\)`,
          ),
        ),
      }),
    ]);
  });

  it('a 1.9 MB name: validate and show name it by a 200-character excerpt and its length, never whole', async () => {
    const file = write(valid.replace(/^name: .*$/m, `name: ${'n'.repeat(1_900_000)}`));
    for (const out of [await planValidate(file), await planShow(file), await planValidate(file, { json: true })]) {
      expect(out.exitCode).toBe(1);
      expect(out.text.length).toBeLessThan(1_000);
      expect(out.text).not.toMatch(new RegExp(`n{${MAX_ECHO_CHARS + 1}}`));
    }
    expect((await planValidate(file)).text).toContain(
      `name: the name is 1,900,000 characters; a plan's name is a label shown in summaries, the Web UI and ` +
        `reports, at most 200 characters: shorten it (it begins "${'n'.repeat(MAX_ECHO_CHARS)}…" (1,900,000 ` +
        `characters))`,
    );
  });

  it(
    `any other value over ` +
      `${MAX_VALUE_CHARS.toLocaleString('en-US')} characters ` +
      `is refused, named by an excerpt`,
    async () => {
      const out = await planValidate(
        write(valid.replace(/^ {2}upgrade: .*$/m, `  upgrade: setup.exe {host} ${'q'.repeat(50_000)}`)),
        { json: true },
      );
      const r = JSON.parse(out.text);
      expect(out.exitCode).toBe(1);
      expect(out.text.length).toBeLessThan(1_000);
      expect(r.errors).toContainEqual(
        expect.objectContaining({
          path: 'hosts.upgrade',
          message: expect.stringMatching(
            /^this value is 50,017 characters; a plan's values are at most 10,000 characters .* \(it begins "setup\.exe \{host\} q{183}…" \(50,017 characters\)\)$/,
          ),
        }),
      );
    },
  );

  it('validate refuses exactly what start would refuse for its size, in the words start uses', () => {
    // One subscriber's host list grown until the plan is the largest workflow input validate passes.
    const host = (i: number) => `personalization-host-${String(i).padStart(6, '0')}.branch-office.corp.example.com`;
    const grow = (n: number) =>
      loadPlanText(
        valid.replace(
          /personalizationServers: \[ps-sub1-1\]/,
          `personalizationServers: [${Array.from({ length: n }, (_, i) => host(i)).join(', ')}]`,
        ),
        resolve('examples/plan.yaml'),
      );
    const bytesOf = (n: number) => {
      const r = grow(n);
      if (!r.ok) throw new Error(r.errors[0]?.message);
      return Buffer.byteLength(JSON.stringify([{ plan: r.plan, requestedBy: '' }]));
    };
    const [one, two] = [bytesOf(1), bytesOf(2)];
    const largest = Math.floor((MAX_INPUT_BYTES - REQUESTER_ROOM_BYTES - one) / (two - one)) + 1;

    const passed = grow(largest);
    expect(passed.ok).toBe(true);
    const plan = (passed as { plan: unknown }).plan;
    // start takes it with an operator's name up to the room kept for it ...
    expect(() => checkInputSize([{ plan, requestedBy: 'o'.repeat(REQUESTER_ROOM_BYTES - 10) }], 'a run')).not.toThrow();

    // ... and one host more is refused by validate, with the way out start gives.
    const refused = grow(largest + 1);
    expect(refused.ok).toBe(false);
    const [message = ''] = refused.ok ? [] : refused.errors.map((e) => e.message);
    expect(message).toMatch(
      /^the plan would be 1\.8 MB of workflow input, over the 1\.8 MB replup allows \(Temporal refuses a request payload over 2 MB\): split the fleet into several plans with fewer subscribers each \(at most 2,000, fewer when their entries are long\) and start them one after another$/,
    );
    let startRefusal: UserError | undefined;
    try {
      checkInputSize(
        [{ plan, requestedBy: 'o'.repeat(REQUESTER_ROOM_BYTES * 2) }],
        'an upgrade of LAB-PUB/PersonalizationServer',
      );
    } catch (e) {
      startRefusal = e as UserError;
    }
    expect(startRefusal?.message).toMatch(
      /^the plan is too large to start as one run: an upgrade of LAB-PUB\/PersonalizationServer would be 1\.8 MB of workflow input, over the 1\.8 MB replup allows \(Temporal refuses a request payload over 2 MB\); nothing was started$/,
    );
    expect(startRefusal?.detail).toEqual([message.slice(message.indexOf('split '))]);
  }, 60_000);

  it('every message about a fleet too large says the same limit: at most 2,000 subscribers per plan', async () => {
    const tooMany = (
      await planValidate(
        write(
          valid.replace(
            /^subscribers:\n(?:[ -].*\n)+/m,
            `subscribers:\n` +
              Array.from(
                { length: MAX_SUBSCRIBERS + 1 },
                (_, i) => `  - server: S${i}\n    personalizationServers: [p${i}]`,
              ).join('\n') +
              `\n`,
          ),
        ),
      )
    ).text;
    let start = '';
    try {
      checkInputSize([{ plan: 'x'.repeat(MAX_INPUT_BYTES) }], 'a run');
    } catch (e) {
      start = `${(e as UserError).message} ${(e as UserError).detail.join(' ')}`;
    }
    for (const text of [tooMany, start]) {
      expect(text).toContain('at most 2,000');
      expect(text).not.toMatch(/few thousand/);
    }
  });
});
