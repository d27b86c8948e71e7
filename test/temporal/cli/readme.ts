// The command lines of a README section's code blocks, as a user copies them: every non-empty
// line of each ``` block between the section's heading and the next heading of its level (or
// `until`, a line that ends the part that is commands).
import { readFileSync } from 'node:fs';

export interface ReadmeLine {
  /** The line as written, comment included. */
  text: string;
  /** The command without its trailing `# comment` (what a shell would run). */
  command: string;
  /** 1-based line number in the README. */
  line: number;
}

/**
 * The code-block lines of `## heading` in `file`. Errors: the section or its code block is missing
 * (the test then says which heading it looked for).
 */
export function readmeCommands(heading: string, file = 'README.md', until?: string): ReadmeLine[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  // "### Sub-section" names its own level; a bare heading is a "## " one.
  const marker = heading.startsWith('#') ? heading : `## ${heading}`;
  const level = marker.indexOf(' ');
  const start = lines.findIndex((l) => l.trim() === marker);
  if (start < 0) throw new Error(`${file} has no "${marker}" section`);
  const out: ReadmeLine[] = [];
  let inBlock = false;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (!inBlock && (new RegExp(`^#{1,${level}} `).test(l) || (until !== undefined && l.startsWith(until)))) break;
    if (l.startsWith('```')) {
      inBlock = !inBlock;
      continue;
    }
    if (inBlock && l.trim() !== '') out.push({ text: l, command: l.replace(/\s+#\s.*$/, '').trim(), line: i + 1 });
  }
  if (out.length === 0) throw new Error(`${file}: "${marker}" has no code block`);
  return out;
}
