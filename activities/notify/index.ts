// The notification activity: resolves a target's URL reference on the worker, builds the payload
// and POSTs it with Node's fetch. Temporal retries it by the workflow's retry policy: a refused
// connection, a timeout or a 5xx/408/429 answer is retried; another 4xx, or a reference that
// does not resolve, is not (retrying would not change it). The URL never appears in an error.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { resolveCredentialRef, type CredentialSources } from '../sqlserver/credentials.js';
import { uiBase } from '../../cli/lib/runs.js';
import { temporalConfig } from '../../worker/connection.js';
import type { NotifyTarget } from '../../plan/notify.js';
import { notifyMessage, notifyPayload } from './payloads.js';
import { SEND_NOTIFICATION, type NotifyEvent, type SendNotificationInput } from './event.js';

export { SEND_NOTIFICATION, type NotifyEvent, type SendNotificationInput } from './event.js';

export interface NotifyActivityOptions extends CredentialSources {
  /** The run's Web UI link (default: the UI of the server this worker is connected to). */
  runUrl?: (workflowId: string) => string;
  /** Each failed delivery attempt, for the worker's metrics. */
  onFailure?: (target: NotifyTarget, event: NotifyEvent, final: boolean) => void;
  /** How long one POST may take (default 10 s). */
  timeoutMs?: number;
}

/** The Web UI link of a run on the server this worker's environment names. */
export function workerRunUrl(env: NodeJS.ProcessEnv = process.env): (workflowId: string) => string {
  const { connectionOptions, namespace } = temporalConfig(env);
  const base = uiBase(connectionOptions.address, env);
  return (id) => `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}`;
}

const label = (t: NotifyTarget) => `notify target "${t.name}" (${t.kind}, url ${t.url})`;

/** Why fetch failed, without the URL: the socket error's code (ECONNREFUSED, …) or the timeout. */
function networkReason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer within the timeout';
  return e?.cause?.code ?? e?.cause?.message?.replace(/https?:\/\/\S+/g, '(url)') ?? e?.message ?? String(err);
}

export function createNotifyActivities(opts: NotifyActivityOptions = {}) {
  const runUrl = opts.runUrl ?? workerRunUrl(opts.env);
  return {
    async [SEND_NOTIFICATION](input: SendNotificationInput): Promise<{ status: number }> {
      const { target, event } = input;
      let final = true;
      try {
        let url: string;
        try {
          url = resolveCredentialRef(target.url, opts);
        } catch (err) {
          throw ApplicationFailure.nonRetryable(
            `${label(target)}: ${(err as Error).message.replace(/^credential reference/, 'reference')}`,
            'NotifyTargetUnresolved',
          );
        }
        const body = JSON.stringify(notifyPayload(target.kind, event, notifyMessage(event, runUrl(event.workflowId))));
        let res: Response;
        try {
          res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
          });
        } catch (err) {
          final = isLastAttempt();
          throw ApplicationFailure.retryable(
            `${label(target)}: not delivered: ${networkReason(err)}`,
            'NotifyUndelivered',
          );
        }
        await res.body?.cancel();
        if (res.ok) return { status: res.status };
        const retry = res.status >= 500 || res.status === 408 || res.status === 429;
        final = !retry || isLastAttempt();
        const message =
          `${label(target)}: the receiver answered HTTP ${res.status}` +
          `${retry ? '' : ' (not retried: check the URL and the payload format)'}`;
        throw retry
          ? ApplicationFailure.retryable(message, 'NotifyUndelivered')
          : ApplicationFailure.nonRetryable(message, 'NotifyRefused');
      } catch (err) {
        opts.onFailure?.(target, event, final);
        throw err;
      }
    },
  };
}

/** Is this the activity's last attempt under its retry policy (so a failure is the final one)? */
function isLastAttempt(): boolean {
  try {
    const info = Context.current().info;
    const max = info.retryPolicy?.maximumAttempts;
    return max !== undefined && max > 0 && info.attempt >= max;
  } catch {
    return true; // called outside an activity (a unit test): nothing retries it
  }
}
