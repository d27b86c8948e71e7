// The operators' utf16-scripts case is kept as its plan and its two UTF-16 publication scripts; the
// rest of its folder is examples/replication (test/support/utf16-scripts.ts). The case the tests
// assemble must be the operators' byte for byte, read where their original is present (not in
// every CI clone).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATORS_CASES, utf16Case } from '../../support/utf16-scripts.js';

const original = {
  plan: join(OPERATORS_CASES, 'utf16-lab-plan.yaml'),
  scripts: join(OPERATORS_CASES, 'utf16-scripts'),
};

describe("the operators' utf16-scripts case", () => {
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
