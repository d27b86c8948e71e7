// What the CLI prints for an operator (issue #21): the Web UI of the server it is connected to,
// hints that never offer a skip the run would refuse, a warning when the namespace would delete the
// audit early, and a plan too large to start refused before anything starts.
import { describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import {
  answerCommands,
  causeChain,
  checkInputSize,
  MAX_INPUT_BYTES,
  retentionWarning,
  uiBase,
} from '../../../cli/lib/runs.js';
import { UserError } from '../../../cli/errors.js';
import type { Progress } from '../../../workflows/messages.js';

describe('the Web UI link', () => {
  const dev = { address: '127.0.0.1:7233', uiUrl: 'http://127.0.0.1:8233/' } as never;
  it('REPLUP_UI_URL wins', () => {
    expect(uiBase('10.0.0.5:7233', { REPLUP_UI_URL: 'https://temporal-ui.corp/' }, dev)).toBe(
      'https://temporal-ui.corp',
    );
  });
  it('the UI replup dev recorded, for that very server only', () => {
    expect(uiBase('127.0.0.1:7233', {}, dev)).toBe('http://127.0.0.1:8233');
    // Another server on the same machine: its own UI (gRPC port + 1000), not the recorded one.
    expect(uiBase('127.0.0.1:17233', {}, dev)).toBe('http://127.0.0.1:18233');
  });
  it('Temporal Cloud and other hosts', () => {
    expect(uiBase('acme.a1b2c.tmprl.cloud:7233', {}, undefined)).toBe('https://cloud.temporal.io');
    expect(uiBase('temporal.corp:7233', {}, undefined)).toBe('http://temporal.corp:8233');
  });
});

const progress = (
  steps: Partial<Progress['steps'][number]>[],
  status: Progress['status'],
  extra: Partial<Progress> = {},
) => ({ status, steps, decisions: [], facts: {}, ...extra }) as unknown as Progress;

describe('answer hints', () => {
  it('a parked step that guards data: retry and abort, never skip', () => {
    const p = progress([{ id: 'preflight', status: 'awaiting-operator', skippable: false }], 'awaiting-operator');
    expect(answerCommands(p, 'upgrade:x/y')).toEqual([
      `replup retry 'upgrade:x/y' --step preflight --reason "..."`,
      `replup abort 'upgrade:x/y' --step preflight --reason "..."`,
    ]);
  });
  it('a skippable step also offers skip', () => {
    const p = progress([{ id: 'backup', status: 'awaiting-operator', skippable: true }], 'awaiting-operator');
    expect(answerCommands(p, 'r').map((c) => c.split(' ')[1])).toEqual(['retry', 'skip', 'abort']);
  });
  it('a paused run: resume or abort where it is', () => {
    const p = progress(
      [
        { id: 'drain-users', status: 'done' },
        { id: 'backup', status: 'pending' },
      ],
      'paused',
      { current: 'drain-users' },
    );
    expect(answerCommands(p, 'r')).toEqual([
      `replup resume 'r' --reason "..."`,
      `replup abort 'r' --step drain-users --reason "..."`,
    ]);
  });
});

describe('namespace retention', () => {
  const client = (seconds: number | Error) =>
    ({
      options: { namespace: 'ops' },
      workflowService: {
        describeNamespace: async () => {
          if (seconds instanceof Error) throw seconds;
          return { config: { workflowExecutionRetentionTtl: { seconds } } };
        },
      },
    }) as unknown as Client;
  it('shorter than the audit needs: a warning with the command that raises it', async () => {
    expect(await retentionWarning(client(86_400), 30)).toBe(
      "namespace ops keeps a closed run's history 1 day: the audit of this run (its report, every decision) " +
        'is deleted that long after it ends; replup needs 30 days. ' +
        ('Raise it: temporal operator namespace update --namespace ops --retention 720h (it applies to runs ' +
          'that close afterwards)'),
    );
  });
  it('long enough, or not readable with these credentials: no warning', async () => {
    expect(await retentionWarning(client(30 * 86_400), 30)).toBeUndefined();
    expect(await retentionWarning(client(new Error('PermissionDenied')), 30)).toBeUndefined();
  });
});

describe('workflow input size', () => {
  it('a plan over the limit is refused before anything starts, with the cause and what to do', () => {
    const big = [
      {
        plan: {
          sites: Array.from({ length: 50_000 }, (_, i) => ({
            server: `SUB-${i}`,
            database: 'PersonalizationServer',
            personalizationServers: [`ps-${i}`],
          })),
        },
      },
    ];
    const err = (() => {
      try {
        checkInputSize(big, 'an upgrade of PUB/PersonalizationServer');
      } catch (e) {
        return e;
      }
    })() as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(
      /^the plan is too large to start as one run: an upgrade of PUB\/PersonalizationServer would be \d+\.\d MB of workflow input, over the 1\.8 MB replup allows .*nothing was started$/,
    );
    expect(err.detail.join(' ')).toContain('split the fleet into several plans');
  });
  it('a plan under the limit passes', () => {
    expect(() => checkInputSize([{ plan: 'x'.repeat(MAX_INPUT_BYTES - 100) }], 'a run')).not.toThrow();
  });
});

describe('a start the server refuses', () => {
  it('the reason is the server’s own, down the causes, not only "Failed to start Workflow"', () => {
    const grpc = new Error('8 RESOURCE_EXHAUSTED: grpc: received message larger than max (5242880 vs. 4194304)');
    expect(causeChain(new Error('Failed to start Workflow', { cause: grpc }))).toBe(
      'Failed to start Workflow: 8 RESOURCE_EXHAUSTED: grpc: received message larger than max (5242880 vs. 4194304)',
    );
  });
});
