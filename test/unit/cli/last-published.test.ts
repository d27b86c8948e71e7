// What `status` shows and exits with when no worker answers: the last-published state (cli/lib/last-published.ts).
import { describe, expect, it } from 'vitest';
import {
  exitForStatus,
  lastPublishedNotice,
  lastPublishedText,
  type LastPublished,
} from '../../../cli/lib/last-published.js';
import { EXIT } from '../../../cli/errors.js';

describe('exitForStatus: the README exit-code table for a run in each state', () => {
  it.each([
    ['running', EXIT.ok],
    ['completed', EXIT.ok],
    ['paused', EXIT.waiting],
    ['awaiting-operator', EXIT.waiting],
    ['awaiting-approval', EXIT.waiting],
    ['awaiting-confirmation', EXIT.waiting],
    ['aborted', EXIT.failed],
    ['failed', EXIT.failed],
    ['terminated', EXIT.failed],
    ['timed-out', EXIT.failed],
    ['canceled', EXIT.failed],
  ])('%s → %i', (status, code) => expect(exitForStatus(status)).toBe(code));
});

describe('lastPublishedText', () => {
  const base: LastPublished = {
    workflowId: 'upgrade:lab-pub/personalizationserver',
    runId: 'r1',
    url: 'http://ui/run',
    lastPublished: true,
    workerAnswered: false,
    notice: lastPublishedNotice('replup'),
    reason: 'no worker answered',
    taskQueue: 'replup',
    status: 'awaiting-operator',
    current: 'sync-until-quiet',
    fleet: 'LAB-PUB/PersonalizationServer',
    startTime: '2026-01-01T00:00:00.000Z',
  };

  it('labels the header, lists each published step with its attempts and error, the answers, the link', () => {
    const text = lastPublishedText({
      ...base,
      steps: [
        { id: 'preflight', status: 'done', attempts: 1 },
        { id: 'sync-until-quiet', status: 'awaiting-operator', attempts: 2, lastError: '2 conflicts' },
      ],
    });
    expect(text).toBe(
      'run upgrade:lab-pub/personalizationserver: AWAITING-OPERATOR at sync-until-quiet (as last published; ' +
        'no worker is serving task queue replup — start one: replup worker)\n' +
        '  fleet LAB-PUB/PersonalizationServer, run r1, started 2026-01-01T00:00:00.000Z\n\n' +
        '  preflight         done\n' +
        '  sync-until-quiet  awaiting-operator (attempt 2)  error: 2 conflicts\n\n' +
        // Skip is never offered: the memo does not say which steps allow it.
        'Answer with one of (taken once a worker runs):\n' +
        `  replup retry '${base.workflowId}' --step sync-until-quiet --reason "..."\n` +
        `  replup abort '${base.workflowId}' --step sync-until-quiet --reason "..."\n\n` +
        'Web UI: http://ui/run\n',
    );
  });

  it('says when no step table was published yet (no worker ever ran the run)', () => {
    expect(lastPublishedText({ ...base, status: 'running', current: undefined })).toContain(
      'RUNNING (as last published;',
    );
    expect(lastPublishedText(base)).toContain('  (no step table published yet)\n');
  });
});
