// Which steps of the Personalization Server upgrade apply to a plan, and why, in the operator's
// words. Pure (no Node imports): the workflow imports it to decide what to run, and
// `replup plan show` prints the same answer as a dry run.
import { UPGRADE_STEP_IDS, type PlannedStep, type UpgradePlan, type UpgradeStepId } from './types.js';
import { gatedSteps, type StepReason } from '../gated-steps.js';
import { isEarlierThan } from '../version.js';
import { count } from '../../common/count.js';

/** Row GUIDs must be converted on every subscriber when upgrading from before this version (DOMAIN.md §1, step 6). */
export const ROW_GUID_CONVERSION_BEFORE = '8.3.253.0';
/**
 * From before this version the background service upgrades each user after the database upgrade (DOMAIN.md §1, step 7).
 */
export const BACKGROUND_UPGRADE_BEFORE = '8.3';
/** Preflight warns of subscriptions whose retention ends within this many hours (options.expectedRunHours). */
export const DEFAULT_EXPECTED_RUN_HOURS = 8;
/** enable-replication waits this long for each publication's snapshot (options.snapshotTimeoutMinutes). */
export const DEFAULT_SNAPSHOT_TIMEOUT_MINUTES = 30;

export function planSteps(plan: UpgradePlan): PlannedStep[] {
  return gatedSteps(UPGRADE_STEP_IDS, stepReasons(plan), plan.options.approvals);
}

function stepReasons(plan: UpgradePlan): Record<UpgradeStepId, StepReason> {
  const subscribers = plan.sites.filter((site) => site.role !== 'publisher');
  const personalizationServers = plan.sites.flatMap((site) => site.personalizationServers);
  const subscriptions = plan.publications.reduce((sum, publication) => sum + publication.subscribers.length, 0);
  const publications = count(plan.publications.length, 'publication');
  const psCount = count(personalizationServers.length, 'personalization server');
  const { quietRounds, maxRounds } = plan.options.sync;
  const convertsRowGuids = isEarlierThan(plan.from, ROW_GUID_CONVERSION_BEFORE);
  const stopsBackground = isEarlierThan(plan.from, BACKGROUND_UPGRADE_BEFORE);
  const upgradeBy =
    plan.hosts.upgrade === 'manual'
      ? 'an operator upgrades them and confirms with `replup confirm`'
      : "the worker runs the plan's upgrade command on each host";
  return {
    preflight: always(
      "every SQL Server (and the distributor's) must answer, SQL Server Agent must run, versions and " +
        "editions must match the plan, every database must run the plan's from version, and every subscription " +
        "must exist, be active and have merged within its publication's retention before anything changes; the " +
        "merge agent jobs' schedules are recorded and paused for the run; articles with automatic identity " +
        'range management are named with the reseeding they need after re-publishing; each publication script ' +
        'must add every article its publication has today, or a re-created publication would stop replicating ' +
        'a table for good',
    ),
    'drain-users': always(
      `every user must be disconnected from the ${psCount} before the last synchronization, or new changes ` +
        `keep arriving`,
    ),
    'sync-until-quiet': always(
      `Config and Data are merged, one after the other, until ${count(quietRounds, 'round')} in a row move 0 ` +
        `inserts, updates and deletes on every subscription (at most ${maxRounds} rounds)`,
    ),
    backup: always(
      `a copy-only backup of each of the ${count(plan.sites.length, 'database')} before replication is removed`,
    ),
    'remove-replication': always(
      `a major upgrade needs replication disabled: records each publication's configuration (retention, ` +
        `conflict retention, compatibility level, articles and their options), then drops the ${publications} ` +
        `and their ${count(subscriptions, 'subscription')}`,
    ),
    upgrade: always(`personalization servers and databases go from ${plan.from} to ${plan.to}; ${upgradeBy}`),
    'stop-background-services': stopsBackground
      ? applies(
          `upgrading from ${plan.from}, earlier than ${BACKGROUND_UPGRADE_BEFORE}: the background service ` +
            `upgrades each user after the database upgrade and would write while replication is set up, so it ` +
            `is stopped on the ${psCount} until replication works`,
        )
      : skipped(
          `upgrading from ${plan.from}, ${BACKGROUND_UPGRADE_BEFORE} or later: the background service does ` +
            `not upgrade users after this upgrade, nothing to stop`,
        ),
    'convert-row-guids': convertsRowGuids
      ? applies(
          `upgrading from ${plan.from}, earlier than ${ROW_GUID_CONVERSION_BEFORE}: ConvertRowGuids.sql runs ` +
            `on each of the ${count(subscribers.length, 'subscriber')} so their row GUIDs match the ` +
            `publisher's and re-enabling without a snapshot does not duplicate rows; at most once per ` +
            `subscriber (a mark in its database); after a lost reply a (primary key, rowguid) sample settles ` +
            `it, or a person when it cannot`,
        )
      : skipped(
          `upgrading from ${plan.from}, ${ROW_GUID_CONVERSION_BEFORE} or later: row GUIDs already match, ` +
            `ConvertRowGuids.sql is not needed`,
        ),
    'prepare-scripts': always(
      `${plan.scripts.files.createConfigSubscription} and ${plan.scripts.files.createDataSubscription} are ` +
        `rewritten to @sync_type = N'none' so no snapshot wipes the subscribers' archive data`,
    ),
    'enable-replication': always(
      `re-creates the ${publications} (waiting for each publication's snapshot, at most ` +
        `${plan.options.snapshotTimeoutMinutes ?? DEFAULT_SNAPSHOT_TIMEOUT_MINUTES} minutes) and ` +
        `${count(subscriptions, 'subscription')} without a snapshot delivery; one left half-built is made ` +
        `again; the configuration recorded before removal is put back where that needs no snapshot, any other ` +
        `difference parks`,
    ),
    'verify-replication': always('a change made at each publisher must show up at its subscribers'),
    'restore-service': always(
      stopsBackground
        ? "the merge agent jobs' schedules are restored as they were, the personalization servers serve users " +
            'again and their background services start again'
        : "the merge agent jobs' schedules are restored as they were and the personalization servers serve users again",
    ),
  };
}

const applies = (reason: string) => ({ applies: true, reason });
const always = (reason: string) => applies(`always: ${reason}`);
const skipped = (reason: string) => ({ applies: false, reason });
