// Plain-text path handling for plan files (no node:path and no imports here: workflows import the runbooks' step
// modules, which use it).

/** `p` resolved against `folder` (both POSIX; an absolute `p` stands as it is), with `.` and `..` folded. */
export function resolveFrom(folder: string, p: string): string {
  const joined = p.startsWith('/') ? p : `${folder}/${p}`;
  const parts: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** The absolute folder of a plan file: what the plan's relative paths resolve against. */
export const planFolderOf = (file: string): string => resolveFrom('/', file).split('/').slice(0, -1).join('/') || '/';
