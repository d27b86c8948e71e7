// "1 user session", "2 user sessions", "3 branches": counts in operator-facing text. Pure and
// deterministic (pluralize keeps its rules in memory), so workflows, activities and the CLI share it.
import pluralize from 'pluralize';

/**
 * `n` followed by `noun` in the singular when n is 1 and in the plural otherwise.
 * `noun` is the singular; only its last word is inflected ("user session" → "user sessions").
 */
export function count(n: number, noun: string): string {
  const words = noun.split(' ');
  const last = words.pop()!;
  return [String(n), ...words, pluralize(last, n)].join(' ');
}
