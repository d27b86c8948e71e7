// The SQL Server edition a plan may name for a server, so that a typo ("Enterprize") is refused at validate
// instead of silently never matching. The names are those SERVERPROPERTY('Edition') returns (Microsoft,
// SERVERPROPERTY (Transact-SQL), https://learn.microsoft.com/en-us/sql/t-sql/functions/serverproperty-transact-sql:
// 'Enterprise Edition', 'Enterprise Edition: Core-based Licensing', 'Enterprise Evaluation Edition', 'Business
// Intelligence Edition', 'Developer Edition', 'Express Edition', 'Express Edition with Advanced Services',
// 'Standard Edition', 'Web Edition'; "(64-bit)" appended on 64-bit builds). *Inferred*: Workgroup, an edition of
// SQL Server 2008 R2 and earlier that the page no longer lists, which an old branch office may still run.
import { z } from 'zod';
import { closest } from './suggest.js';

/** The first words of each edition's name: a plan writes one of them, alone or with more of the name. */
export const SQL_SERVER_EDITIONS = [
  'Enterprise',
  'Standard',
  'Web',
  'Developer',
  'Express',
  'Business Intelligence',
  'Workgroup',
] as const;

/** Undefined when `text` names an edition (case-insensitive, by its first words); else why not, with a suggestion. */
export function editionProblem(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (SQL_SERVER_EDITIONS.some((e) => t === e.toLowerCase() || t.startsWith(`${e.toLowerCase()} `))) return undefined;
  const first = t.split(/[\s:(]/)[0] ?? t;
  const guess = closest(first, SQL_SERVER_EDITIONS) ?? closest(t, SQL_SERVER_EDITIONS);
  return (
    `"${text}" is not a SQL Server edition${guess ? `: did you mean ${guess}?` : ''} (SERVERPROPERTY('Edition') ` +
    `names ${SQL_SERVER_EDITIONS.slice(0, -1).join(', ')}; write its first word, e.g. Standard)`
  );
}

/** A plan's `edition:` field. */
export const sqlServerEdition = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    const problem = editionProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
