// What a fresh user met next (as `npx replup …` in a clone): `start` of a lab plan before `replup lab
// init` started a run whose first activity retried for minutes; `replup dev` on another port did not
// say how to point the other commands at it, and offered `replup dev stop` for a server another
// folder started; a manual step confirmed too early parked, and the next confirm was refused without
// saying that retry is the answer. The end-to-end runs are in test/temporal/cli/fresh-user-followups.test.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { planNew } from '../../../cli/commands/plan-new.js';
import { devServerText } from '../../../cli/commands/dev.js';
import { LabStateError } from '../../../activities/lab/index.js';
import { createFleetGuardActivities } from '../../../activities/personalization-upgrade/fleet-guard.js';
import type { FleetContext } from '../../../activities/personalization-upgrade/activities.js';
import { createPortsFor } from '../../../worker/ports.js';
import type { EnsureDevResult } from '../../../worker/dev-server.js';

// The operator handlers are installed with setHandler: outside a workflow, keep their validators to call.
const validators = vi.hoisted(() => new Map<string, (input: unknown) => void>());
vi.mock('@temporalio/workflow', async (original) => ({
  ...(await original<typeof import('@temporalio/workflow')>()),
  setHandler: (def: { name: string }, _handler: unknown, opts?: { validator?: (input: unknown) => void }) => {
    if (opts?.validator) validators.set(def.name, opts.validator);
  },
}));
const { installOperatorHandlers } = await import('../../../workflows/engine/operator.js');
type RunState = Parameters<typeof installOperatorHandlers>[0];

const dir = mkdtempSync(join(tmpdir(), 'replup-followups-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `replup …` as installed (node cli/bin.mjs), pointed at a port nothing serves: nothing may connect. */
function replup(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const child = spawn(process.execPath, [resolve('cli/bin.mjs'), ...args], { cwd: dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}

describe('replup start of a lab plan whose lab does not exist', () => {
  it('refuses before connecting (exit 1), naming the file and `replup lab init <plan>`', async () => {
    const file = join(dir, 'p2.yaml');
    planNew(file);
    const r = await replup(['start', file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      `replup: no lab at ${join(dir, '.replup', 'labs', 'p2.json')}: create it with \`replup lab init ${file}\`; ` +
        'nothing was started\n',
    );
    expect(r.stdout).toBe('');
  });
});

describe('a lab-state error in an activity', () => {
  it('is a non-retryable ApplicationFailure that keeps its message, so the step parks at once', async () => {
    const state = join(dir, 'missing.json');
    const portsFor = createPortsFor();
    const guard = createFleetGuardActivities(() => Promise.reject(new Error('never asked')), portsFor);
    const ctx = { target: { kind: 'lab', state } } as FleetContext;
    const err = await guard.fleetIdentity(ctx, { server: 'LAB-PUB', database: 'db' }).catch((e: unknown) => e);
    await portsFor.close();
    expect(err).toBeInstanceOf(LabStateError);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({
      type: 'LabStateError',
      nonRetryable: true,
      name: 'LabStateError',
      message: `no lab at ${state}: create it with \`replup lab init <plan>\``,
    });
  });
});

describe('replup dev text', () => {
  const result = (address: string, over: Partial<EnsureDevResult>): EnsureDevResult => ({
    status: 'reused',
    address,
    uiUrl: 'http://127.0.0.1:8461',
    dbFile: '/x/temporal.db',
    startedHere: false,
    ...over,
  });
  const exportLine = (address: string) => `\n  export TEMPORAL_ADDRESS=${address}\n`;

  it.each([
    ['reused, started elsewhere, another port', true, false, result('127.0.0.1:7461', {})],
    ['reused, started here, another port', true, true, result('127.0.0.1:7461', { startedHere: true })],
    ['started here, another port', true, true, result('127.0.0.1:7462', { status: 'started', startedHere: true })],
    ['started here, the default port', false, true, result('127.0.0.1:7233', { status: 'started', startedHere: true })],
  ])('%s: export line %s, stop hint %s', (_name, exported, stoppable, r) => {
    const text = devServerText(r);
    expect(text.includes(exportLine(r.address))).toBe(exported);
    expect(text.includes('Stop it with: replup dev stop')).toBe(stoppable);
    expect(
      text.includes('It was started elsewhere (not by replup dev in this folder): stop it where it was started.'),
    ).toBe(!stoppable);
  });
});

describe('replup confirm of a manual step that parked', () => {
  const stateWith = (status: string, confirmed: boolean) => {
    const progress = {
      steps: [{ id: 'upgrade', status, lastError: 'VerificationFailed: not yet at 10.4.0.0: SQL01 8.2.0.0' }],
      decisions: confirmed ? [{ kind: 'confirm', step: 'upgrade', actor: 'ops' }] : [],
    };
    return { progress, waiting: () => undefined } as unknown as RunState;
  };
  const refusal = (st: RunState) => {
    validators.clear();
    installOperatorHandlers(st);
    try {
      validators.get('confirm')!({ step: 'upgrade', note: 'done', actor: 'ops' });
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  };

  it('says the step parked, why, and that retry (then a new confirmation) or abort is the answer', () => {
    expect(refusal(stateWith('awaiting-operator', true))).toBe(
      'step upgrade is awaiting-operator, not waiting for a confirmation: it parked (VerificationFailed: not yet ' +
        'at 10.4.0.0: SQL01 8.2.0.0). Retry it: replup retry --step upgrade --reason "..." (it asks for your ' +
        'confirmation again: confirm once the work is really done); or end the run: replup abort --step upgrade ' +
        '--reason "..."',
    );
  });

  it('a step parked without a confirmation is offered retry and abort only; other states are as before', () => {
    expect(refusal(stateWith('awaiting-operator', false))).toMatch(/it parked \(.*\)\. Retry it: .*"\.\.\."; or end/);
    expect(refusal(stateWith('pending', false))).toBe('step upgrade is pending, not waiting for a confirmation');
    expect(refusal(stateWith('awaiting-confirmation', false))).toBeUndefined();
  });
});
