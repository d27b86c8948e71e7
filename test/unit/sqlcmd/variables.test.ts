// The vendor scripts' variables: the plan maps each name the vendor chose to a value built from
// the fleet (scripts.variables), validated with the plan; the same expansion feeds preflight and
// the runs (activities/sqlcmd/variables.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT_VARIABLES, expandScriptVariables } from '../../../activities/sqlcmd/index.js';
import { loadPlanText } from '../../../plan/load.js';
import type { UpgradePlan } from '../../../plan/personalization-upgrade/types.js';

const PLAN = resolve('test/fixtures/cases/utf16-lab-plan.yaml');
const withScripts = (extra: string) =>
  loadPlanText(
    readFileSync(PLAN, 'utf8').replace(
      '  dir: utf16-scripts   # relative to this plan',
      `  dir: utf16-scripts\n${extra}`,
    ),
    PLAN,
  );
const FOR = {
  publication: 'Config',
  publisher: { server: 'PUB', database: 'PS' },
  subscriber: { server: 'SUB1', database: 'Pers]DB' },
  distributor: { server: 'PUB', database: 'distribution' },
};

describe('scripts.variables', () => {
  it("without a mapping, the example scripts' names", () => {
    expect(expandScriptVariables(undefined, FOR)).toEqual({
      DistributorServer: 'PUB',
      Publication: 'Config',
      PublisherServer: 'PUB',
      PublisherDatabase: 'PS',
      SubscriberServer: 'SUB1',
      SubscriberDatabase: 'Pers]DB',
    });
    expect(Object.keys(DEFAULT_SCRIPT_VARIABLES)).toHaveLength(6);
  });

  it(
    "a vendor's own names, templates over the fleet; a name whose placeholder has no value for this script is " +
      'left out',
    () => {
      const mapping = {
        SubDb: '{subscriber.database}',
        Target: '{subscriber.server}.{subscriber.database}',
        Pub: '{publication}',
      };
      expect(expandScriptVariables(mapping, FOR)).toEqual({ SubDb: 'Pers]DB', Target: 'SUB1.Pers]DB', Pub: 'Config' });
      const { subscriber: _none, ...publicationOnly } = FOR;
      expect(expandScriptVariables(mapping, publicationOnly)).toEqual({ Pub: 'Config' });
    },
  );

  it('the plan accepts a mapping and an on-error choice', () => {
    const r = withScripts('  variables: { SubDb: "{subscriber.database}" }\n  onError: ignore');
    const scripts = r.ok ? (r.plan as UpgradePlan).scripts : undefined;
    expect(scripts && { variables: scripts.variables, onError: scripts.onError }).toEqual({
      variables: { SubDb: '{subscriber.database}' },
      onError: 'ignore',
    });
  });

  it(
    'the plan refuses an unknown placeholder, a name sqlcmd cannot use and an unknown on-error choice, each ' +
      'with its path',
    () => {
      const r = withScripts('  variables: { SubDb: "{subscriber.db}", "1x": "{publication}" }\n  onError: stop');
      expect(r.ok ? [] : r.errors.map((e) => [e.path, e.message])).toEqual([
        [
          'scripts.variables.SubDb',
          'unknown placeholder {subscriber.db}: use {publication}, {publisher.server}, {publisher.database}, ' +
            '{subscriber.server}, {subscriber.database}, {distributor.server}, {distributor.database}',
        ],
        [
          'scripts.variables["1x"]',
          "'1x' is not a sqlcmd variable name: letters, digits and '_', not starting with a digit",
        ],
        ['scripts.onError', 'must be "exit" or "ignore", found "stop"'],
      ]);
    },
  );
});
