// Where BACKUP DATABASE writes a run's backup: pure, so `replup plan show --sql` can show it too.

/** `DIR\database_runId.bak`, with the server's path separator and file-name-safe parts. */
export function backupFilePath(dir: string, database: string, runId: string): string {
  const separator = dir.includes('/') && !dir.includes('\\') ? '/' : '\\';
  const safe = (s: string) => s.replace(/[^\p{L}\p{N}_.-]/gu, '_');
  return `${dir.replace(/[\\/]+$/, '')}${separator}${safe(database)}_${safe(runId)}.bak`;
}
