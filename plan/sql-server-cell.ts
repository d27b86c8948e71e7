// `replup plan show`'s SQL SERVER column, the same for every runbook whose plan lists SQL Server sites.
import type { Site } from './personalization-upgrade/types.js';

/** The version and edition the plan expects of a site's SQL Server, as plan show prints them ('-': neither given). */
export const sqlServerCell = (site: Pick<Site, 'sqlVersion' | 'edition'>): string =>
  [site.sqlVersion, site.edition].filter(Boolean).join(' ') || '-';
