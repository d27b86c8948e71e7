// The operators' utf16-scripts case is kept as its plan and its two UTF-16 publication scripts; the
// rest of its folder is examples/replication (test/support/utf16-scripts.ts). The case the tests
// assemble must be the operators' byte for byte: the four scripts taken from the examples are pinned
// here by their sha256 (checked everywhere, CI included), and the whole folder is compared with the
// operators' original where it is present (../shared, not in every CI clone).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { caseScript, OPERATORS_CASES, utf16Case } from '../../support/utf16-scripts.js';

const original = {
  plan: join(OPERATORS_CASES, 'utf16-lab-plan.yaml'),
  scripts: join(OPERATORS_CASES, 'utf16-scripts'),
};

/**
 * sha256 (hex) of the case's scripts that are taken from examples/replication, computed from the
 * operators' folder (../shared/cases/2026-11-29/utf16-scripts) on 2026-12-05.
 */
const CASE_SHA256: Record<string, string> = {
  'ConvertRowGuids.sql': 'e770594ad3e96a440891a84137ad40d27d0e45ccfa9de61cae0ac30c762a7f60',
  'CreateConfigSubscription.sql': 'c50548f800a30d7c90048d63a6fe3645d4c77533e500c95e6661a5ef367288e5',
  'CreateDataSubscription.sql': 'bce6ff04ca2fcc37197cebeae37aea7ea184b4d17d4ec921be216143a9684390',
  'RemoveReplication.sql': '325f0b16a98434d8c32e7c59821863afc539ab96630bfbe2dc0b4014f930c130',
};

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const root = resolve(import.meta.dirname, '../../..');

describe("the operators' utf16-scripts case", () => {
  it.each(Object.entries(CASE_SHA256))('%s taken from the examples is still the case byte for byte', (file, hash) => {
    const from = relative(root, caseScript(file));
    expect(
      sha256(caseScript(file)),
      `${from} is not the operators' ${file}: the case is the bytes recorded here. If the example was edited on ` +
        `purpose, restore the case's copy into test/fixtures/cases/utf16-scripts (git show ` +
        `ba5badd^:test/fixtures/cases/utf16-scripts/${file}) and list it in that folder's README`,
    ).toBe(hash);
  });

  it.skipIf(!existsSync(original.scripts))('assembled from the examples, it equals theirs byte for byte', () => {
    const assembled = utf16Case();
    expect(readFileSync(assembled.plan).equals(readFileSync(original.plan))).toBe(true);
    const files = readdirSync(original.scripts).sort();
    expect(readdirSync(assembled.scripts).sort()).toEqual(files);
    for (const file of files) {
      const same = readFileSync(join(assembled.scripts, file)).equals(readFileSync(join(original.scripts, file)));
      expect(same, file).toBe(true);
    }
  });
});
