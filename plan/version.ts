// Dotted numeric versions: Personalization Server product versions (8.3.253.0) and SQL Server
// versions (15.0.2000.5). Pure (no Node imports): the workflow sandbox uses it through
// plan/personalization-upgrade/steps.ts.

/** The parts of a dotted numeric version (`8.3.253.0` → [8, 3, 253, 0]), or undefined when it is not one. */
export function parseVersion(text: string): number[] | undefined {
  if (!/^\d+(\.\d+)*$/.test(text)) return undefined;
  return text.split('.').map(Number);
}

/**
 * Compares part by part as numbers, never as text: 8.3.1000.0 is later than 8.3.253.0 (DOMAIN.md §1,
 * the 8.3.253.0 threshold). Missing parts count as 0, so 8.2 equals 8.2.0.0.
 * Returns -1 when a is earlier, 0 when equal, 1 when a is later. Throws on a string that is not a version.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const left = requireVersion(a);
  const right = requireVersion(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? 0;
    const r = right[i] ?? 0;
    if (l !== r) return l < r ? -1 : 1;
  }
  return 0;
}

/** True when `version` is earlier than `threshold` (e.g. isEarlierThan(from, '8.3.253.0')). */
export function isEarlierThan(version: string, threshold: string): boolean {
  return compareVersions(version, threshold) < 0;
}

function requireVersion(text: string): number[] {
  const parts = parseVersion(text);
  if (!parts) throw new Error(`"${text}" is not a dotted numeric version such as 8.3.253.0`);
  return parts;
}
